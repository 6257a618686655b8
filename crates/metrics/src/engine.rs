//! The engine: all forward passes of one image, in large batches, and what they give.
//!
//! The perturbed inputs of an image are laid out as one sequence of rows: the unperturbed
//! image, then per fill the L steps of every (method, order) curve, the L steps of every random
//! ordering and the P single-pixel perturbations. The sequence is cut into balanced batches of
//! at most `batch_size` rows, each built in place in one reused buffer (consecutive steps of a
//! curve incrementally) and sent through the model in one call. Batches never mix images, so
//! the numbers of an image do not depend on which other images a run, chunk or shard holds.

use sal_model::inference::{argmax_rows, softmax_rows};
use sal_model::Classifier;
use sal_perturbation::fill::{ImageRef, Prepared};
use sal_perturbation::{
    rank_pixels, tie_keys, write_single, write_steps, Order, IMAGE_VALUES, PIXELS,
};

use crate::error::{check_len, MetricsError, Result};
use crate::pearson::pearson;
use crate::protocol::Protocol;

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
/// Indices: `c = (m * 2 + o) * F + f` for a (method, order, fill) curve, `(f * R + r)` for a
/// random curve, `m * 2 + o` for an ordering, `m * F + f` for a faithfulness value.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageResult {
    /// Index in the test set.
    pub index: u32,
    /// The predicted class (checked against the model).
    pub predicted: u8,
    /// f(x): softmax probability of the predicted class on the unperturbed image.
    pub p0: f32,
    /// `[M * 2 * F, L + 1]`: column k = f(x^(k)).
    pub curves: Vec<f32>,
    /// `[M * 2, L]`: the pixels perturbed by each (method, order), in order.
    pub orders: Vec<u16>,
    /// `[F * R, L + 1]`: the curves of the random orderings.
    pub random_curves: Vec<f32>,
    /// `[F, L + 1]`: mean over the R random curves (in f64).
    pub random_mean: Vec<f32>,
    /// `[F, P]`: f(x) - f(x with that faithfulness pixel alone perturbed).
    pub delta: Vec<f32>,
    /// `[M * F]`: Pearson(relevance at the P pixels, delta); NaN where undefined.
    pub faithfulness: Vec<f32>,
    /// Per fill, its u8 `[3, 32, 32]` replacement image if it stores one.
    pub fill_images: Vec<Option<Vec<u8>>>,
}

/// Where the rows of a segment come from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source<'a> {
    /// The unperturbed image (1 row).
    Base,
    /// Steps 1..=L of an ordering under a fill; `id` numbers the orderings: the image's own
    /// (method-major, MoRF then LeRF) first, then the random ones.
    Steps {
        fill: usize,
        ordering: &'a [u16],
        id: usize,
    },
    /// Each faithfulness pixel alone, under a fill.
    Single { fill: usize },
}

/// A run of consecutive rows of an image's sequence.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment<'a> {
    pub(crate) source: Source<'a>,
    pub(crate) start: usize,
    pub(crate) len: usize,
}

/// The row sequence of an image; its order is also the order of the engine's `values`.
///
/// Row 0 is the unperturbed image; then, per fill: the L steps of each ordering in
/// `orderings` (method-major, MoRF then LeRF), the L steps of each random ordering, and the P
/// single-pixel rows.
pub(crate) fn sequence<'s>(protocol: &'s Protocol, orderings: &'s [Vec<u16>]) -> Vec<Segment<'s>> {
    let steps = protocol.steps;
    let mut segments = vec![Segment {
        source: Source::Base,
        start: 0,
        len: 1,
    }];
    let mut start = 1;
    let mut push = |source: Source<'s>, len: usize| {
        segments.push(Segment { source, start, len });
        start += len;
    };
    for fill in 0..protocol.fills.len() {
        for (id, ordering) in orderings.iter().enumerate() {
            push(
                Source::Steps {
                    fill,
                    ordering: &ordering[..steps],
                    id,
                },
                steps,
            );
        }
        for (r, ordering) in protocol.random_orders.chunks_exact(PIXELS).enumerate() {
            push(
                Source::Steps {
                    fill,
                    ordering: &ordering[..steps],
                    id: orderings.len() + r,
                },
                steps,
            );
        }
        push(Source::Single { fill }, protocol.faithfulness_pixels.len());
    }
    segments
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
    /// `[passes_per_image]`: f of every row of the current image.
    values: Vec<f32>,
    /// The image in normalised NHWC.
    base: Vec<f32>,
    passes: u64,
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
            values: vec![0.0; protocol.passes_per_image()],
            base: vec![0.0; IMAGE_VALUES],
            passes: 0,
        }
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
        let (prepared, orderings) = prepare(protocol, input, &mut self.base)?;

        let segments = sequence(protocol, &orderings);
        let total = segments.last().map_or(0, |s| s.start + s.len);
        debug_assert_eq!(total, protocol.passes_per_image());

        let batches = total.div_ceil(protocol.batch_size);
        let mut first_segment = 0;
        for b in 0..batches {
            let (lo, hi) = (b * total / batches, (b + 1) * total / batches);
            first_segment = self.build_batch(&segments, first_segment, lo, hi, &prepared)?;
            let rows = hi - lo;
            let logits = &mut self.logits[..rows * self.classes];
            self.classifier
                .logits(&self.input[..rows * IMAGE_VALUES], logits)?;
            record(logits, self.classes, input, lo, &mut self.values)?;
            self.passes += rows as u64;
            progress(rows as u64);
        }
        Ok(Self::collect(
            protocol,
            &self.values,
            input,
            &segments,
            &orderings,
            prepared,
        ))
    }

    /// Writes rows `lo..hi` of the sequence into the input buffer; returns the index of the
    /// segment holding row `hi` (where the next batch starts looking).
    fn build_batch(
        &mut self,
        segments: &[Segment<'_>],
        mut s: usize,
        lo: usize,
        hi: usize,
        prepared: &[Prepared],
    ) -> Result<usize> {
        while segments[s].start + segments[s].len <= lo {
            s += 1;
        }
        let mut row = lo;
        while row < hi {
            let seg = segments[s];
            let (from, to) = (row - seg.start, (seg.start + seg.len).min(hi) - seg.start);
            let out =
                &mut self.input[(row - lo) * IMAGE_VALUES..(row - lo + to - from) * IMAGE_VALUES];
            match seg.source {
                Source::Base => out.copy_from_slice(&self.base),
                Source::Steps { fill, ordering, .. } => {
                    write_steps(
                        &self.base,
                        &prepared[fill].replacement,
                        ordering,
                        from + 1..to + 1,
                        out,
                    )?;
                }
                Source::Single { fill } => {
                    let pixels = &self.protocol.faithfulness_pixels[from..to];
                    write_single(&self.base, &prepared[fill].replacement, pixels, out)?;
                }
            }
            row = seg.start + to;
            if to == seg.len {
                s += 1;
            }
        }
        Ok(s.min(segments.len() - 1))
    }

    /// Turns the values of every row into the image's result.
    pub(crate) fn collect(
        protocol: &Protocol,
        values: &[f32],
        input: &ImageInput<'_>,
        segments: &[Segment<'_>],
        orderings: &[Vec<u16>],
        prepared: Vec<Prepared>,
    ) -> ImageResult {
        let (m_count, f_count, steps) =
            (protocol.methods.len(), protocol.fills.len(), protocol.steps);
        let r_count = protocol.random_count();
        let pixel_count = protocol.faithfulness_pixels.len();
        let width = steps + 1;
        let p0 = values[0];
        let curve_of = |seg: &Segment<'_>, out: &mut Vec<f32>| {
            out.push(p0);
            out.extend_from_slice(&values[seg.start..seg.start + seg.len]);
        };

        // Segments after the base come per fill: M * 2 curves, R random curves, 1 single block.
        let per_fill = orderings.len() + r_count + 1;
        let mut curves = vec![0.0f32; m_count * 2 * f_count * width];
        let mut random_curves = Vec::with_capacity(f_count * r_count * width);
        let mut random_mean = Vec::with_capacity(f_count * width);
        let mut delta = Vec::with_capacity(f_count * pixel_count);
        for fill in 0..f_count {
            let block = &segments[1 + fill * per_fill..1 + (fill + 1) * per_fill];
            for (mo, seg) in block[..orderings.len()].iter().enumerate() {
                let mut curve = Vec::with_capacity(width);
                curve_of(seg, &mut curve);
                let c = mo * f_count + fill;
                curves[c * width..(c + 1) * width].copy_from_slice(&curve);
            }
            let first_random = random_curves.len();
            for seg in &block[orderings.len()..orderings.len() + r_count] {
                curve_of(seg, &mut random_curves);
            }
            for k in 0..width {
                let sum: f64 = (0..r_count)
                    .map(|r| f64::from(random_curves[first_random + r * width + k]))
                    .sum();
                random_mean.push((sum / r_count as f64) as f32);
            }
            let single = block[per_fill - 1];
            for &v in &values[single.start..single.start + single.len] {
                delta.push((f64::from(p0) - f64::from(v)) as f32);
            }
        }

        let mut faithfulness = Vec::with_capacity(m_count * f_count);
        for map in input.maps {
            let relevance: Vec<f64> = protocol
                .faithfulness_pixels
                .iter()
                .map(|&p| f64::from(map[p as usize]))
                .collect();
            for fill in 0..f_count {
                let d: Vec<f64> = delta[fill * pixel_count..(fill + 1) * pixel_count]
                    .iter()
                    .map(|&v| f64::from(v))
                    .collect();
                faithfulness.push(pearson(&relevance, &d) as f32);
            }
        }
        let orders = orderings
            .iter()
            .flat_map(|o| o[..steps].iter().copied())
            .collect();
        ImageResult {
            index: input.index,
            predicted: input.predicted,
            p0,
            curves,
            orders,
            random_curves,
            random_mean,
            delta,
            faithfulness,
            fill_images: prepared.into_iter().map(|p| p.stored).collect(),
        }
    }
}

/// What an image needs before its rows are built: the image in normalised NHWC (into
/// `base`), each fill's replacement, and each (method, order) pixel ordering.
///
/// # Shapes
/// `base`: `[32, 32, 3]`, overwritten; returns one [`Prepared`] per fill and `[M * 2]`
/// orderings of 1024 pixels (method-major, MoRF then LeRF).
pub(crate) fn prepare(
    protocol: &Protocol,
    input: &ImageInput<'_>,
    base: &mut [f32],
) -> Result<(Vec<Prepared>, Vec<Vec<u16>>)> {
    let m_count = protocol.methods.len();
    check_len("saliency maps", input.maps.len(), m_count, || {
        "one per method".to_owned()
    })?;
    for map in input.maps {
        check_len("saliency map", map.len(), PIXELS, || "[32, 32]".to_owned())?;
    }
    protocol.normalisation.nchw_to_nhwc(input.pixels, base)?;
    let image = ImageRef {
        index: input.index,
        pixels: input.pixels,
        normalised: &*base,
    };
    let prepared: Vec<Prepared> = protocol
        .fills
        .iter()
        .map(|f| f.prepare(&image))
        .collect::<std::result::Result<_, _>>()?;

    let keys = tie_keys(protocol.seed, input.index);
    let mut orderings = Vec::with_capacity(m_count * Order::ALL.len());
    for map in input.maps {
        for order in Order::ALL {
            orderings.push(rank_pixels(map, order, &keys)?);
        }
    }
    Ok((prepared, orderings))
}

/// Turns the logits of rows `lo..` of an image's sequence into their values (checking the
/// prediction on row 0).
///
/// # Shapes
/// `logits`: `[rows, classes]` (overwritten with probabilities); `values`: the image's
/// `[passes_per_image]`, rows `lo..lo + rows` written.
pub(crate) fn record(
    logits: &mut [f32],
    classes: usize,
    input: &ImageInput<'_>,
    lo: usize,
    values: &mut [f32],
) -> Result<()> {
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
    softmax_rows(logits, classes);
    let class = usize::from(input.predicted);
    let rows = logits.len() / classes;
    for (value, row) in values[lo..lo + rows]
        .iter_mut()
        .zip(logits.chunks_exact(classes))
    {
        *value = row[class];
    }
    Ok(())
}
