//! The engine on a candle device (`[metrics] device`, or `backend = "candle"` on the CPU).
//!
//! Same rows, same balanced batches and same results as [`Engine`](crate::Engine), but each
//! batch is built on the device from the image, its fills and integer rank tables
//! ([`sal_model::candle_net::perturbed`]): per image only the image, its replacement images and
//! the M x 2 tables of its own orderings travel (the tables of the random orderings and of the
//! faithfulness pixels are shared by all images and uploaded once), then three integers per
//! forward pass. The image's orderings, its [`Plan`](crate::engine::Plan) (segments and fill
//! draws, paired or independent) and its prepared replacements are the host engine's; the
//! device returns logits, which go through the host engine's own logits-to-values and
//! collection code ([`Values`]), so the results have exactly the host engine's fields
//! (drops in f64 from the complement, q0, per-method Deltas, saturation counters). The rows of
//! an imputing fill cannot be built from rank tables (each step solves a linear system): they
//! are built on the host, as the host engine builds them, and uploaded whole.

use sal_model::candle_net::net::{nhwc_to_tensor, to_f32_vec};
use sal_model::candle_net::perturbed::{ordering_ranks, single_ranks};
use sal_model::candle_net::{CandleNet, PerturbedImage, PerturbedRow, RankTables};
use sal_model::ModelError;
use sal_perturbation::{IMAGE_VALUES, PIXELS};

use crate::engine::{
    balanced_batches, build_rows, fill_images, imputed_ranges, orderings, plan, prepare_draws,
    ImageInput, ImageResult, Source, Values,
};
use crate::error::Result;
use crate::protocol::Protocol;

/// Runs the forward passes of images on a candle network's device.
pub struct DeviceEngine<'a> {
    net: &'a CandleNet,
    protocol: &'a Protocol,
    classes: usize,
    /// `[R + P, 1024]`: the random orderings, then one table per faithfulness pixel.
    shared: RankTables,
    /// The values of every row of the current image.
    values: Values,
    /// The image in normalised NHWC.
    base: Vec<f32>,
    /// `[batch_size, 32, 32, 3]`: a batch of imputed rows built on the host.
    host_rows: Vec<f32>,
    passes: u64,
}

impl std::fmt::Debug for DeviceEngine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceEngine")
            .field("device", self.net.device())
            .field("classes", &self.classes)
            .field("passes", &self.passes)
            .finish()
    }
}

impl<'a> DeviceEngine<'a> {
    /// An engine for this protocol on `net`'s device (uploads the shared rank tables).
    pub fn new(net: &'a CandleNet, protocol: &'a Protocol) -> Result<Self> {
        let (r_count, p_count) = (protocol.random_count(), protocol.faithfulness_pixels.len());
        let mut ranks = vec![0u32; (r_count + p_count) * PIXELS];
        let mut tables = ranks.chunks_exact_mut(PIXELS);
        for ordering in protocol.random_orders.chunks_exact(PIXELS) {
            let table = tables.next().expect("one table per random ordering");
            ordering_ranks(ordering, protocol.steps, table);
        }
        for &pixel in &protocol.faithfulness_pixels {
            let table = tables.next().expect("one table per faithfulness pixel");
            single_ranks(pixel as usize, table);
        }
        let classes = net.arch().classes;
        Ok(DeviceEngine {
            net,
            protocol,
            classes,
            shared: RankTables::new(&ranks, net.device())?,
            values: Values::new(protocol, classes),
            base: vec![0.0; IMAGE_VALUES],
            host_rows: Vec::new(),
            passes: 0,
        })
    }

    /// Forward passes run so far.
    pub fn passes(&self) -> u64 {
        self.passes
    }

    /// All metrics of one image (as [`Engine::image`]).
    pub fn image(
        &mut self,
        input: &ImageInput<'_>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImageResult> {
        let protocol = self.protocol;
        let orderings = orderings(protocol, input, &mut self.base)?;
        let plan = plan(protocol, &orderings);
        let prepared = prepare_draws(protocol, input, &self.base, &plan)?;
        let mut own = vec![0u32; orderings.len() * PIXELS];
        for (ordering, table) in orderings.iter().zip(own.chunks_exact_mut(PIXELS)) {
            ordering_ranks(ordering, protocol.steps, table);
        }
        let tables = RankTables::new(&own, self.net.device())?.concat(&self.shared)?;
        let fills: Vec<&[f32]> = prepared.iter().map(|p| p.replacement.as_slice()).collect();
        let image = PerturbedImage::new(&self.base, &fills, tables, self.net.device())?;

        // Tables: the image's own orderings, the random ones, then one per faithfulness pixel;
        // fills: the plan's draws. Imputed rows get no device row (they are built on the host).
        let first_single = (orderings.len() + protocol.random_count()) as u32;
        let mut rows = Vec::with_capacity(protocol.passes_per_image());
        for seg in &plan.segments {
            match seg.source {
                _ if seg.source.imputed() => {}
                Source::Base => rows.push(PerturbedRow {
                    table: 0,
                    count: 0,
                    fill: 0,
                }),
                Source::Steps {
                    replacement, id, ..
                } => {
                    rows.extend((1..=seg.len).map(|k| PerturbedRow {
                        table: id as u32,
                        count: k as u32,
                        fill: replacement as u32,
                    }));
                }
                Source::Single { replacement, .. } => {
                    rows.extend((0..seg.len).map(|j| PerturbedRow {
                        table: first_single + j as u32,
                        count: 1,
                        fill: replacement as u32,
                    }));
                }
            }
        }
        let total = protocol.passes_per_image();
        let imputed = imputed_ranges(&plan.segments);
        // The sequence rows of `rows`, in order: every row outside the imputed ranges.
        let mut on_device = Vec::new();
        let mut next = 0;
        for range in imputed.iter().cloned().chain(std::iter::once(total..total)) {
            if next < range.start {
                on_device.push(next..range.start);
            }
            next = range.end;
        }
        debug_assert_eq!(rows.len(), on_device.iter().map(|r| r.len()).sum::<usize>());

        let mut device_row = 0;
        for range in on_device {
            for batch in balanced_batches(range, protocol.batch_size) {
                let n = batch.len();
                let logits = self
                    .net
                    .perturbed_logits(&image, &rows[device_row..device_row + n])?;
                device_row += n;
                self.values.record(&logits, input, batch.start)?;
                self.passes += n as u64;
                progress(n as u64);
            }
        }
        for range in imputed {
            let mut first_segment = 0;
            for batch in balanced_batches(range, protocol.batch_size) {
                let n = batch.len();
                self.host_rows.resize(n * IMAGE_VALUES, 0.0);
                first_segment = build_rows(
                    protocol,
                    &self.base,
                    &plan.segments,
                    first_segment,
                    batch.clone(),
                    &prepared,
                    &mut self.host_rows,
                )?;
                let x = nhwc_to_tensor(&self.host_rows, self.net.device(), self.net.dtype())?;
                let out = self.net.forward_eval(&x).map_err(ModelError::from)?;
                self.values.record(&to_f32_vec(&out)?, input, batch.start)?;
                self.passes += n as u64;
                progress(n as u64);
            }
        }
        let stored = fill_images(protocol, &plan, &prepared);
        Ok(self
            .values
            .collect(protocol, input, &plan.segments, &orderings, stored))
    }
}
