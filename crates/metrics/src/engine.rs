//! The engine: all forward passes of one image, in large batches, and what they give.
//!
//! The perturbed inputs of an image are laid out as one sequence of rows: the unperturbed
//! image, then per fill the L steps of every (method, order) curve, the L steps of every random
//! ordering and the P single-pixel perturbations. The sequence is cut into balanced batches of
//! at most `batch_size` rows, each built in place in one reused buffer (consecutive steps of a
//! curve incrementally) and sent through the model in one call. Batches never mix images, so
//! the numbers of an image do not depend on which other images a run, chunk or shard holds.
//! With [`Engine::with_incremental`] the logits of the rows come instead from the incremental
//! forward of the fast CPU model ([`crate::incremental`]), which gives the same logits, except
//! for the rows of an imputing fill ([`Perturbation::Impute`]): each of their steps changes
//! every perturbed pixel, so they always take full passes, built row by row.
//!
//! The device engine ([`crate::DeviceEngine`]) shares everything but the forward passes: the
//! orderings, the [`Plan`] and its prepared draws ([`orderings`], [`plan`], [`prepare_draws`]),
//! the logits-to-values step and the collection of the result ([`Values`]).

use sal_model::fast::FastNet;
use sal_model::inference::argmax_rows;
use sal_model::Classifier;
use sal_perturbation::fill::{ImageRef, Prepared};
use sal_perturbation::{rank_pixels, tie_keys, Draw, Order, Perturbation, IMAGE_VALUES, PIXELS};

use crate::error::{check_len, MetricsError, Result};
use crate::incremental::Incremental;
use crate::pearson::pearson;
use crate::probability::class_probability;
use crate::protocol::Protocol;
use crate::saturation::{self, Counter};

/// One test image and its saliency maps.
#[derive(Debug, Clone, Copy)]
pub struct ImageInput<'a> {
    /// Index in the CIFAR-10 test set.
    pub index: u32,
    /// The class the saliency maps explain (`predicted` of `saliency.safetensors`); the model
    /// must predict it on the unperturbed image.
    pub predicted: u8,
    /// u8 `[3, 32, 32]` NCHW.
    pub pixels: &'a [u8],
    /// One `[32, 32]` relevance map per method of [`Protocol::methods`], in that order.
    pub maps: &'a [&'a [f32]],
}

/// Everything the metrics say about one image.
///
/// Probabilities are followed as drops `f(x) - f(x')` in f64, computed from the complement
/// `1 - f` ([`crate::probability`]), so they keep their information at any confidence.
///
/// Indices: `c = (m * 2 + o) * F + f` for a (method, order, fill) curve, `(f * R + r)` for a
/// random curve, `m * 2 + o` for an ordering, `m * F + f` for a faithfulness value.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageResult {
    /// Index in the test set.
    pub index: u32,
    /// The predicted class (checked against the model).
    pub predicted: u8,
    /// f(x): softmax probability of the predicted class on the unperturbed image.
    pub p0: f64,
    /// 1 - f(x): the other classes' total probability, without cancellation.
    pub q0: f64,
    /// `[M * 2 * F, L + 1]`: column k = f(x) - f(x^(k)) (column 0 is 0).
    pub drops: Vec<f64>,
    /// `[M * 2, L]`: the pixels perturbed by each (method, order), in order.
    pub orders: Vec<u16>,
    /// `[F * R, L + 1]`: the drop curves of the random orderings.
    pub random_drops: Vec<f64>,
    /// `[F, L + 1]`: mean over the R random drop curves.
    pub random_mean: Vec<f64>,
    /// Per fill in order, `[D_f, P]` with D_f = 1 (shared draws) or M (one per method):
    /// f(x) - f(x with that faithfulness pixel alone perturbed).
    pub delta: Vec<f64>,
    /// `[M * F]`: Pearson(relevance at the P pixels, delta); NaN where undefined.
    pub faithfulness: Vec<f32>,
    /// Per fill, its u8 `[3, 32, 32]` replacement image if it stores one.
    pub fill_images: Vec<Option<Vec<u8>>>,
    /// `[C]`: the saturation counters of [`saturation::columns`].
    pub saturation: Vec<u32>,
}

/// Where the rows of a segment come from; `replacement` indexes the image's prepared draws.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source<'a> {
    /// The unperturbed image (1 row).
    Base,
    /// Steps 1..=L of an ordering; `id` numbers the orderings: the image's own (method-major,
    /// MoRF then LeRF) first, then the random ones.
    Steps {
        replacement: usize,
        ordering: &'a [u16],
        id: usize,
        perturbation: Perturbation,
    },
    /// Each faithfulness pixel alone.
    Single {
        replacement: usize,
        perturbation: Perturbation,
    },
}

impl Source<'_> {
    /// Whether the rows are built by imputation, which the incremental and on-device paths
    /// cannot build (each step changes every perturbed pixel): they take full passes of rows
    /// built on the host.
    pub(crate) fn imputed(&self) -> bool {
        matches!(
            self,
            Source::Steps {
                perturbation: Perturbation::Impute,
                ..
            } | Source::Single {
                perturbation: Perturbation::Impute,
                ..
            }
        )
    }
}

/// A run of consecutive rows of an image's sequence.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment<'a> {
    pub(crate) source: Source<'a>,
    pub(crate) start: usize,
    pub(crate) len: usize,
}

/// The row sequence of an image and the fill draws its segments use.
pub(crate) struct Plan<'s> {
    /// Row 0 is the unperturbed image; then, per fill: the L steps of each ordering of
    /// `orderings` (method-major, MoRF then LeRF), the L steps of each random ordering, and
    /// D_f blocks of P single-pixel rows (one per method for a fill drawn per method).
    pub(crate) segments: Vec<Segment<'s>>,
    /// `(fill, draw)` of each replacement the segments index.
    pub(crate) draws: Vec<(usize, Draw)>,
}

/// The plan of an image with these orderings (see [`Plan`]).
pub(crate) fn plan<'s>(protocol: &'s Protocol, orderings: &'s [Vec<u16>]) -> Plan<'s> {
    let steps = protocol.steps;
    let mut segments = vec![Segment {
        source: Source::Base,
        start: 0,
        len: 1,
    }];
    let mut draws: Vec<(usize, Draw)> = Vec::new();
    let mut start = 1;
    let mut push = |source: Source<'s>, len: usize| {
        segments.push(Segment { source, start, len });
        start += len;
    };
    let slot = |i: usize| u32::try_from(i).expect("slots fit in u32");
    for (f, fill) in protocol.fills.iter().enumerate() {
        let independent = fill.independent();
        let perturbation = fill.perturbation();
        let mut draw = |d: Draw| {
            let d = if independent { d } else { Draw::Shared };
            if let Some(i) = draws.iter().position(|&x| x == (f, d)) {
                return i;
            }
            draws.push((f, d));
            draws.len() - 1
        };
        for (mo, ordering) in orderings.iter().enumerate() {
            let replacement = draw(Draw::Curve(slot(mo)));
            let ordering = &ordering[..steps];
            push(
                Source::Steps {
                    replacement,
                    ordering,
                    id: mo,
                    perturbation,
                },
                steps,
            );
        }
        for (r, ordering) in protocol.random_orders.chunks_exact(PIXELS).enumerate() {
            let replacement = draw(Draw::Random(slot(r)));
            let ordering = &ordering[..steps];
            push(
                Source::Steps {
                    replacement,
                    ordering,
                    id: orderings.len() + r,
                    perturbation,
                },
                steps,
            );
        }
        for m in 0..protocol.delta_draws(f) {
            let replacement = draw(Draw::Faithfulness(slot(m)));
            push(
                Source::Single {
                    replacement,
                    perturbation,
                },
                protocol.faithfulness_pixels.len(),
            );
        }
    }
    Plan { segments, draws }
}

/// Runs the forward passes of images through a classifier, reusing its buffers.
pub struct Engine<'a> {
    classifier: &'a mut dyn Classifier,
    protocol: &'a Protocol,
    classes: usize,
    /// `[batch_size, 32, 32, 3]`: the batch being built.
    input: Vec<f32>,
    /// `[batch_size, classes]`.
    logits: Vec<f32>,
    /// The values of every row of the current image.
    values: Values,
    /// The image in normalised NHWC.
    base: Vec<f32>,
    passes: u64,
    /// The incremental forward, when it replaces `classifier`.
    incremental: Option<Incremental>,
}

impl std::fmt::Debug for Engine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("classes", &self.classes)
            .field("passes", &self.passes)
            .finish()
    }
}

impl<'a> Engine<'a> {
    /// An engine for this protocol and classifier.
    pub fn new(classifier: &'a mut dyn Classifier, protocol: &'a Protocol) -> Self {
        let classes = classifier.num_classes();
        let batch = protocol.batch_size.min(protocol.passes_per_image());
        Engine {
            classifier,
            protocol,
            classes,
            input: vec![0.0; batch * IMAGE_VALUES],
            logits: vec![0.0; batch * classes],
            values: Values::new(protocol, classes),
            base: vec![0.0; IMAGE_VALUES],
            passes: 0,
            incremental: None,
        }
    }

    /// Takes the logits from the incremental forward of `net` (the same model as the
    /// classifier) instead of full passes through the classifier: the same logits, bitwise,
    /// for a fraction of the work.
    pub fn with_incremental(mut self, net: &FastNet) -> Self {
        self.incremental = Some(Incremental::new(net, self.protocol));
        self
    }

    /// Bytes of activations the incremental forward keeps while an image is in flight (0 for
    /// full passes).
    pub fn state_bytes_per_image(&self) -> usize {
        self.incremental
            .as_ref()
            .map_or(0, |inc| inc.bytes_per_image(self.protocol))
    }

    /// Forward passes run so far.
    pub fn passes(&self) -> u64 {
        self.passes
    }

    /// All metrics of one image. `progress` is called after each model call with the number of
    /// forward passes it ran.
    pub fn image(
        &mut self,
        input: &ImageInput<'_>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImageResult> {
        let protocol = self.protocol;
        let orderings = orderings(protocol, input, &mut self.base)?;
        let plan = plan(protocol, &orderings);
        let prepared = prepare_draws(protocol, input, &self.base, &plan)?;
        let segments = &plan.segments;
        let total = segments.last().map_or(0, |s| s.start + s.len);
        debug_assert_eq!(total, protocol.passes_per_image());

        // Rows the model computes in full batches: every row, or with the incremental path
        // only the imputed ones (the incremental forward gives the others, row 0 included).
        let full = if let Some(incremental) = &mut self.incremental {
            incremental.run(&self.base, segments, &prepared)?;
            for seg in segments.iter().filter(|s| !s.source.imputed()) {
                let (lo, hi) = (seg.start, seg.start + seg.len);
                self.values.record(incremental.rows(lo, hi), input, lo)?;
                self.passes += seg.len as u64;
                progress(seg.len as u64);
            }
            imputed_ranges(segments)
        } else {
            std::iter::once(0..total).collect()
        };
        for range in full {
            let mut first_segment = 0;
            for batch in balanced_batches(range, protocol.batch_size) {
                let (lo, hi) = (batch.start, batch.end);
                let rows = hi - lo;
                first_segment = self.build_batch(segments, first_segment, lo, hi, &prepared)?;
                let logits = &mut self.logits[..rows * self.classes];
                self.classifier
                    .logits(&self.input[..rows * IMAGE_VALUES], logits)?;
                self.values.record(logits, input, lo)?;
                self.passes += rows as u64;
                progress(rows as u64);
            }
        }
        let stored = fill_images(protocol, &plan, &prepared);
        Ok(self
            .values
            .collect(protocol, input, segments, &orderings, stored))
    }

    /// Writes rows `lo..hi` of the sequence into the input buffer; returns the index of the
    /// segment holding row `hi` (where the next batch starts looking).
    fn build_batch(
        &mut self,
        segments: &[Segment<'_>],
        first_segment: usize,
        lo: usize,
        hi: usize,
        prepared: &[Prepared],
    ) -> Result<usize> {
        let out = &mut self.input[..(hi - lo) * IMAGE_VALUES];
        build_rows(
            self.protocol,
            &self.base,
            segments,
            first_segment,
            lo..hi,
            prepared,
            out,
        )
    }
}

/// Writes rows `rows` of an image's sequence into `out` on the host, each as its fill makes it;
/// returns the index of the segment holding row `rows.end` (where the next batch starts
/// looking, from `first_segment`).
///
/// # Shapes
/// `base`: the image, `[32, 32, 3]` normalised NHWC; `out`: `[rows.len(), 32, 32, 3]`.
pub(crate) fn build_rows(
    protocol: &Protocol,
    base: &[f32],
    segments: &[Segment<'_>],
    first_segment: usize,
    rows: std::ops::Range<usize>,
    prepared: &[Prepared],
    out: &mut [f32],
) -> Result<usize> {
    let (lo, hi) = (rows.start, rows.end);
    let mut s = first_segment;
    while segments[s].start + segments[s].len <= lo {
        s += 1;
    }
    let mut row = lo;
    while row < hi {
        let seg = segments[s];
        let (from, to) = (row - seg.start, (seg.start + seg.len).min(hi) - seg.start);
        let out = &mut out[(row - lo) * IMAGE_VALUES..(row - lo + to - from) * IMAGE_VALUES];
        match seg.source {
            Source::Base => out.copy_from_slice(base),
            Source::Steps {
                replacement,
                ordering,
                perturbation,
                ..
            } => {
                perturbation.write_steps(
                    base,
                    &prepared[replacement].replacement,
                    ordering,
                    from + 1..to + 1,
                    out,
                )?;
            }
            Source::Single {
                replacement,
                perturbation,
            } => {
                let pixels = &protocol.faithfulness_pixels[from..to];
                perturbation.write_single(base, &prepared[replacement].replacement, pixels, out)?;
            }
        }
        row = seg.start + to;
        if to == seg.len {
            s += 1;
        }
    }
    Ok(s.min(segments.len() - 1))
}

/// `rows` cut into the fewest batches of at most `batch_size` rows, of sizes differing by at
/// most one.
pub(crate) fn balanced_batches(
    rows: std::ops::Range<usize>,
    batch_size: usize,
) -> impl Iterator<Item = std::ops::Range<usize>> {
    let (start, len) = (rows.start, rows.len());
    let batches = len.div_ceil(batch_size.max(1));
    (0..batches).map(move |b| start + b * len / batches..start + (b + 1) * len / batches)
}

/// The row ranges of the imputed segments, adjacent segments merged (a fill's segments are
/// adjacent in the sequence, so an imputing fill gives one range).
pub(crate) fn imputed_ranges(segments: &[Segment<'_>]) -> Vec<std::ops::Range<usize>> {
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for seg in segments.iter().filter(|s| s.source.imputed()) {
        match ranges.last_mut() {
            Some(last) if last.end == seg.start => last.end += seg.len,
            _ => ranges.push(seg.start..seg.start + seg.len),
        }
    }
    ranges
}

/// The values of every row of an image's sequence, and what turns them into its result: the
/// one implementation behind [`Engine`] and [`crate::DeviceEngine`].
#[derive(Debug, Clone)]
pub(crate) struct Values {
    classes: usize,
    /// `[passes_per_image]`: 1 - f of every row of the current image, in f64.
    complement: Vec<f64>,
    /// `[passes_per_image]`: f of every row as the f32 softmax gives it (saturation counts).
    f32_values: Vec<f32>,
    /// f(x) of the current image in f64.
    p0: f64,
    /// The names of the saturation counters.
    saturation_columns: Vec<String>,
}

impl Values {
    /// Room for the rows of one image of this protocol, with `classes` logits per row.
    pub(crate) fn new(protocol: &Protocol, classes: usize) -> Self {
        Values {
            classes,
            complement: vec![0.0; protocol.passes_per_image()],
            f32_values: vec![0.0; protocol.passes_per_image()],
            p0: 0.0,
            saturation_columns: saturation::columns(&protocol.layout()),
        }
    }

    /// Records the values of rows `lo..` of the current image from their logits, checking
    /// the model's prediction on row 0.
    ///
    /// # Shapes
    /// `logits`: `[rows, classes]`, rows `lo..lo + rows` of the sequence.
    pub(crate) fn record(
        &mut self,
        logits: &[f32],
        input: &ImageInput<'_>,
        lo: usize,
    ) -> Result<()> {
        let classes = self.classes;
        if lo == 0 {
            let model = argmax_rows(&logits[..classes], classes)[0];
            if model != usize::from(input.predicted) {
                return Err(MetricsError::PredictionMismatch {
                    image_index: input.index,
                    saliency: input.predicted,
                    model,
                });
            }
        }
        let class = usize::from(input.predicted);
        for (row, logits) in (lo..).zip(logits.chunks_exact(classes)) {
            let f = class_probability(logits, class);
            self.complement[row] = f.q;
            self.f32_values[row] = f.p_f32;
            if row == 0 {
                self.p0 = f.p;
            }
        }
        Ok(())
    }

    /// Turns the values of every row into the image's result.
    pub(crate) fn collect(
        &self,
        protocol: &Protocol,
        input: &ImageInput<'_>,
        segments: &[Segment<'_>],
        orderings: &[Vec<u16>],
        fill_images: Vec<Option<Vec<u8>>>,
    ) -> ImageResult {
        let layout = protocol.layout();
        let (m_count, f_count, steps) =
            (protocol.methods.len(), protocol.fills.len(), protocol.steps);
        let r_count = protocol.random_count();
        let pixel_count = protocol.faithfulness_pixels.len();
        let width = steps + 1;
        let (q, q0) = (&self.complement, self.complement[0]);
        let (p32, p32_0) = (&self.f32_values, self.f32_values[0]);
        let rows = |seg: &Segment<'_>| seg.start..seg.start + seg.len;
        // f(x) - f(x') = (1 - f(x')) - (1 - f(x)).
        let drop_curve = |seg: &Segment<'_>, out: &mut Vec<f64>| {
            out.push(0.0);
            out.extend(q[rows(seg)].iter().map(|&v| v - q0));
        };
        let mut counter = Counter::default();
        counter.record("p0_one", usize::from(p32_0 == 1.0), usize::from(q0 == 0.0));

        let mut drops = vec![0.0f64; m_count * 2 * f_count * width];
        let mut random_drops = Vec::with_capacity(f_count * r_count * width);
        let mut random_mean = Vec::with_capacity(f_count * width);
        let mut delta = Vec::new();
        let mut faithfulness = vec![f32::NAN; m_count * f_count];
        let mut next = 1;
        for (f, fill) in layout.fills.iter().enumerate() {
            let d_count = protocol.delta_draws(f);
            let block = &segments[next..next + orderings.len() + r_count + d_count];
            next += block.len();
            for (mo, seg) in block[..orderings.len()].iter().enumerate() {
                let mut curve = Vec::with_capacity(width);
                drop_curve(seg, &mut curve);
                let c = mo * f_count + f;
                drops[c * width..(c + 1) * width].copy_from_slice(&curve);
                let flat32 = p32[rows(seg)].iter().all(|&v| v == p32_0);
                let flat64 = q[rows(seg)].iter().all(|&v| v == q0);
                let (m, o) = (mo / 2, mo % 2);
                counter.record(
                    &format!(
                        "curve_flat.{}.{}.{fill}",
                        layout.methods[m], layout.orders[o]
                    ),
                    usize::from(flat32),
                    usize::from(flat64),
                );
            }
            let first_random = random_drops.len();
            for seg in &block[orderings.len()..orderings.len() + r_count] {
                drop_curve(seg, &mut random_drops);
            }
            for k in 0..width {
                let sum: f64 = (0..r_count)
                    .map(|r| random_drops[first_random + r * width + k])
                    .sum();
                random_mean.push(sum / r_count as f64);
            }
            let singles = &block[orderings.len() + r_count..];
            let (mut zero32, mut zero64) = (0, 0);
            for (m, map) in input.maps.iter().enumerate() {
                let seg = &singles[if d_count == 1 { 0 } else { m }];
                let d: Vec<f64> = q[rows(seg)].iter().map(|&v| v - q0).collect();
                let d32: Vec<f64> = p32[rows(seg)]
                    .iter()
                    .map(|&v| f64::from(p32_0) - f64::from(v))
                    .collect();
                let relevance: Vec<f64> = protocol
                    .faithfulness_pixels
                    .iter()
                    .map(|&p| f64::from(map[p as usize]))
                    .collect();
                let value = pearson(&relevance, &d);
                faithfulness[m * f_count + f] = value as f32;
                counter.record(
                    &format!("faithfulness_nan.{}.{fill}", layout.methods[m]),
                    usize::from(pearson(&relevance, &d32).is_nan()),
                    usize::from(value.is_nan()),
                );
                if d_count == 1 && m > 0 {
                    continue;
                }
                zero32 += d32.iter().filter(|&&v| v == 0.0).count();
                zero64 += d.iter().filter(|&&v| v == 0.0).count();
                delta.extend_from_slice(&d);
            }
            debug_assert_eq!(delta.len() % pixel_count, 0);
            counter.record(&format!("delta_zero.{fill}"), zero32, zero64);
        }
        let orders = orderings
            .iter()
            .flat_map(|o| o[..steps].iter().copied())
            .collect();
        ImageResult {
            index: input.index,
            predicted: input.predicted,
            p0: self.p0,
            q0,
            drops,
            orders,
            random_drops,
            random_mean,
            delta,
            faithfulness,
            fill_images,
            saturation: counter.into_row(&self.saturation_columns),
        }
    }
}

/// Checks an image's maps, writes the image in normalised NHWC into `base` and ranks the
/// pixels of each map: the image's orderings, method-major, MoRF then LeRF.
///
/// # Shapes
/// `base`: `[32, 32, 3]`, overwritten; returns `[M * 2]` orderings of 1024 pixels.
pub(crate) fn orderings(
    protocol: &Protocol,
    input: &ImageInput<'_>,
    base: &mut [f32],
) -> Result<Vec<Vec<u16>>> {
    let m_count = protocol.methods.len();
    check_len("saliency maps", input.maps.len(), m_count, || {
        "one per method".to_owned()
    })?;
    for map in input.maps {
        check_len("saliency map", map.len(), PIXELS, || "[32, 32]".to_owned())?;
    }
    protocol.normalisation.nchw_to_nhwc(input.pixels, base)?;
    let keys = tie_keys(protocol.seed, input.index);
    let mut orderings = Vec::with_capacity(m_count * Order::ALL.len());
    for map in input.maps {
        for order in Order::ALL {
            orderings.push(rank_pixels(map, order, &keys)?);
        }
    }
    Ok(orderings)
}

/// The replacement of each draw of `plan`, in the order its segments index them.
///
/// # Shapes
/// `base`: the image, `[32, 32, 3]` normalised NHWC (from [`orderings`]).
pub(crate) fn prepare_draws(
    protocol: &Protocol,
    input: &ImageInput<'_>,
    base: &[f32],
    plan: &Plan<'_>,
) -> Result<Vec<Prepared>> {
    let image = ImageRef {
        index: input.index,
        pixels: input.pixels,
        normalised: base,
    };
    Ok(plan
        .draws
        .iter()
        .map(|&(f, draw)| protocol.fills[f].prepare_draw(&image, draw))
        .collect::<std::result::Result<_, _>>()?)
}

/// Per fill, the replacement image it stores (its shared draw's), if any.
pub(crate) fn fill_images(
    protocol: &Protocol,
    plan: &Plan<'_>,
    prepared: &[Prepared],
) -> Vec<Option<Vec<u8>>> {
    (0..protocol.fills.len())
        .map(|f| {
            plan.draws
                .iter()
                .position(|&(g, d)| g == f && d == Draw::Shared)
                .and_then(|i| prepared[i].stored.clone())
        })
        .collect()
}
