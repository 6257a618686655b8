//! Layer-level access for attribution methods: a recorded eval forward that keeps every
//! intermediate activation, and an eval backward whose ReLU and max-pool steps are rules the
//! caller chooses ([`BackwardRule`]). The default rule gives the plain gradient; DeepSHAP's
//! rescale rule replaces the ReLU derivative by `(relu(z_x) - relu(z_b)) / (z_x - z_b)`, its
//! max-pool rule replaces the arg-max routing.
//!
//! Everything is NHWC and batched; the convs and the classifier are the fast kernels
//! ([`Conv3x3`](crate::fast::Conv3x3), [`Linear`](crate::fast::Linear)), which rules needing
//! other weights (deep Taylor's z+ and z^B) can also build and call directly.

use rayon::prelude::*;

use crate::arch::{Architecture, CONV_LAYERS, IMAGE_VALUES};
use crate::error::{check_len, ModelError, Result};
use crate::fast::conv::TILE_ROWS;
use crate::fast::net::FastNet;
use crate::fast::pool::{max_pool2x2, max_pool2x2_backward};

/// The 2x2 max-pool after a conv layer, as recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoolRecord {
    /// Pool output, `[n, side/2, side/2, c]`.
    pub out: Vec<f32>,
    /// Window index (0..4, row-major in the 2x2 window, first maximum on ties) of each output,
    /// `[n, side/2, side/2, c]`.
    pub argmax: Vec<u8>,
}

/// One conv block's activations in eval mode, all NHWC `[n, side, side, c]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayerRecord {
    /// Conv output before BatchNorm, z.
    pub conv: Vec<f32>,
    /// BatchNorm output (running statistics), `scale * z + shift`: the ReLU's input.
    pub bn: Vec<f32>,
    /// ReLU output, `max(bn, 0)`.
    pub relu: Vec<f32>,
    /// The pool that follows (layers 1, 3, 5), else `None`.
    pub pool: Option<PoolRecord>,
}

/// Everything an eval forward computed for a batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recording {
    /// Batch size.
    pub n: usize,
    /// The six conv blocks.
    pub layers: Vec<LayerRecord>,
    /// Logits, `[n, classes]`.
    pub logits: Vec<f32>,
}

impl Recording {
    /// The classifier's input: the last pool's output, NHWC `[n, 4, 4, widths[5]]`
    /// (feature order (h * 4 + w) * c + channel; see [`FastNet::linear`]).
    pub fn features(&self) -> &[f32] {
        self.layers
            .last()
            .and_then(|l| l.pool.as_ref())
            .map_or(&[], |p| p.out.as_slice())
    }
}

/// How the eval backward passes the ReLUs and the max-pools. The defaults give the gradient.
pub trait BackwardRule {
    /// Turns `grad`, the signal at the ReLU output of conv layer `layer`, in place into the
    /// signal at its input (the BatchNorm output). Default: times the ReLU derivative,
    /// 1 where `record.layers[layer].bn > 0`, else 0.
    ///
    /// # Shapes
    /// `grad`: `[n, side, side, c]` of that layer.
    fn relu(&mut self, layer: usize, record: &Recording, grad: &mut [f32]) -> Result<()> {
        relu_derivative(&record.layers[layer].bn, grad);
        Ok(())
    }

    /// Turns `grad_out`, the signal at the output of the pool after conv layer `layer`, into
    /// `grad_in` at its input (the ReLU output). Default: each value goes to its window's
    /// arg-max, the rest get 0.
    ///
    /// # Shapes
    /// `grad_out`: `[n, side/2, side/2, c]`; `grad_in`: `[n, side, side, c]`, overwritten.
    fn pool(
        &mut self,
        layer: usize,
        record: &Recording,
        grad_out: &[f32],
        grad_in: &mut [f32],
    ) -> Result<()> {
        let recorded = &record.layers[layer];
        let pool = recorded
            .pool
            .as_ref()
            .ok_or_else(|| ModelError::BadRecording {
                message: format!("layer {layer} has no recorded pool"),
            })?;
        let side = side_of(layer);
        let channels = recorded.relu.len() / (record.n * side * side).max(1);
        max_pool2x2_backward(grad_out, &pool.argmax, side, channels, grad_in)
    }
}

/// Spatial side of conv layer `l` (32, 32, 16, 16, 8, 8).
fn side_of(l: usize) -> usize {
    crate::arch::IMAGE_SIZE >> (l / 2)
}

/// The plain gradient: every step of [`BackwardRule`] at its default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gradient;

impl BackwardRule for Gradient {}

/// `grad *= (bn > 0)` elementwise: the ReLU derivative (0 at 0), in parallel.
///
/// # Shapes
/// `bn` and `grad` have the same length.
pub fn relu_derivative(bn: &[f32], grad: &mut [f32]) {
    grad.par_chunks_mut(TILE_ROWS * 16)
        .zip(bn.par_chunks(TILE_ROWS * 16))
        .for_each(|(g, z)| {
            crate::fast::grad::relu_mask(g, z);
        });
}

/// One-hot seeds for [`FastNet::backward`]: row i is 1 at `classes[i]` (the gradient of
/// `logits[i, classes[i]]`).
///
/// # Shapes
/// `classes`: `[n]`; returns `[n, num_classes]`.
pub fn one_hot(classes: &[usize], num_classes: usize) -> Vec<f32> {
    let mut out = vec![0.0; classes.len() * num_classes];
    for (row, &c) in out.chunks_exact_mut(num_classes).zip(classes) {
        row[c] = 1.0;
    }
    out
}

impl FastNet {
    /// The eval forward keeping every layer's conv output (pre-BN), BN output, ReLU output,
    /// pool output and arg-max indices. Allocates the recording (about 7 x 330 KB per image
    /// for the paper's widths); reuse one with [`FastNet::record_into`].
    ///
    /// # Shapes
    /// `images`: `[n, 32, 32, 3]` normalised NHWC.
    pub fn record(&self, images: &[f32]) -> Result<Recording> {
        let mut rec = Recording::default();
        self.record_into(images, &mut rec)?;
        Ok(rec)
    }

    /// [`FastNet::record`] into an existing recording (its buffers are reused).
    ///
    /// # Shapes
    /// `images`: `[n, 32, 32, 3]` normalised NHWC.
    pub fn record_into(&self, images: &[f32], rec: &mut Recording) -> Result<()> {
        let n = Self::batch_of(images)?;
        let arch = self.arch;
        rec.n = n;
        rec.layers.resize_with(CONV_LAYERS, LayerRecord::default);
        for l in 0..CONV_LAYERS {
            let (side, c) = (arch.spatial(l), arch.widths[l]);
            let len = n * side * side * c;
            let (done, rest) = rec.layers.split_at_mut(l);
            let input: &[f32] = match done.last() {
                None => images,
                Some(prev) => prev
                    .pool
                    .as_ref()
                    .map_or(prev.relu.as_slice(), |p| p.out.as_slice()),
            };
            let layer = &mut rest[0];
            layer.conv.resize(len, 0.0);
            layer.bn.resize(len, 0.0);
            layer.relu.resize(len, 0.0);
            self.raw[l].forward(input, &mut layer.conv)?;
            let (scale, shift) = (&self.scale[l], &self.shift[l]);
            let chunk = TILE_ROWS * c;
            layer
                .conv
                .par_chunks(chunk)
                .zip(layer.bn.par_chunks_mut(chunk))
                .zip(layer.relu.par_chunks_mut(chunk))
                .for_each(|((z, y), r)| {
                    for ((z, y), r) in z
                        .chunks_exact(c)
                        .zip(y.chunks_exact_mut(c))
                        .zip(r.chunks_exact_mut(c))
                    {
                        for ch in 0..c {
                            y[ch] = scale[ch] * z[ch] + shift[ch];
                            r[ch] = y[ch].max(0.0);
                        }
                    }
                });
            if Architecture::pool_after(l) {
                let half = side / 2;
                let mut pool = layer.pool.take().unwrap_or_default();
                pool.out.resize(n * half * half * c, 0.0);
                pool.argmax.resize(n * half * half * c, 0);
                max_pool2x2(&layer.relu, side, c, &mut pool.out, &mut pool.argmax)?;
                layer.pool = Some(pool);
            } else {
                layer.pool = None;
            }
        }
        rec.logits.resize(n * arch.classes, 0.0);
        let features = rec.layers[CONV_LAYERS - 1]
            .pool
            .as_ref()
            .map_or(&[][..], |p| p.out.as_slice());
        self.linear.forward(features, &mut rec.logits)
    }

    /// The eval backward from `grad_logits` (e.g. [`one_hot`] rows) to the input images,
    /// passing each ReLU and max-pool by `rule`; BatchNorm (running statistics), the convs
    /// and the classifier are linear maps and pass the signal by their transposes.
    ///
    /// With [`Gradient`] this is the gradient of `sum(logits * grad_logits)` w.r.t. the images.
    ///
    /// # Shapes
    /// `grad_logits`: `[n, classes]`; `grad_input`: `[n, 32, 32, 3]` NHWC, overwritten.
    pub fn backward<R: BackwardRule + ?Sized>(
        &self,
        record: &Recording,
        grad_logits: &[f32],
        rule: &mut R,
        grad_input: &mut [f32],
    ) -> Result<()> {
        let n = record.n;
        let arch = self.arch;
        check_len("recording", record.layers.len(), CONV_LAYERS, || {
            format!("{CONV_LAYERS} layers")
        })?;
        check_len(
            "logit gradients",
            grad_logits.len(),
            n * arch.classes,
            || format!("[{n}, {}]", arch.classes),
        )?;
        check_len(
            "input gradients",
            grad_input.len(),
            n * IMAGE_VALUES,
            || format!("[{n}, 32, 32, 3]"),
        )?;
        let mut g = vec![0.0; n * self.linear.inputs()];
        self.linear.backward_input(grad_logits, &mut g)?;
        for l in (0..CONV_LAYERS).rev() {
            let (side, c, cin) = (arch.spatial(l), arch.widths[l], arch.in_channels(l));
            let len = n * side * side * c;
            let mut at_relu = if Architecture::pool_after(l) {
                let mut below = vec![0.0; len];
                rule.pool(l, record, &g, &mut below)?;
                below
            } else {
                g
            };
            check_len("ReLU signal", at_relu.len(), len, || {
                format!("[{n}, {side}, {side}, {c}]")
            })?;
            rule.relu(l, record, &mut at_relu)?;
            let mut below = vec![0.0; n * side * side * cin];
            self.folded[l].backward_input(&at_relu, &mut below)?;
            g = below;
        }
        grad_input.copy_from_slice(&g);
        Ok(())
    }
}
