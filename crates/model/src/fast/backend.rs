//! [`FastBackend`]: training steps on the fast kernels (the default CPU [`TrainBackend`]).
//!
//! Forward in training mode: conv (raw weights) with the per-channel sums for the batch
//! statistics taken in the conv's tile epilogue (f64), BatchNorm with the batch mean and biased
//! variance, ReLU, max-pool with arg-max (BatchNorm and ReLU fused into the pool), dropout by
//! the loop's mask, classifier, softmax cross-entropy. Backward: classifier, dropout, pool
//! routing with the ReLU derivative, the full BatchNorm gradient (through mean and variance),
//! conv weight gradient `im2col(input)^T x grad` and conv input gradient (a conv with flipped,
//! transposed weights, the next ReLU mask fused into its epilogue); none for the images.
//!
//! Every reduction runs over fixed tiles and parts in a fixed order: a step's gradients are
//! bitwise identical run to run and for any number of threads.

use rayon::prelude::*;

use crate::arch::{Architecture, CONV_LAYERS, IMAGE_SIZE};
use crate::backend::{BatchStats, StepOutput, TrainBackend};
use crate::error::{check_len, ModelError, Result};
use crate::fast::at_least;
use crate::fast::conv::{conv3x3_weight_gradient, tiles, Conv3x3, TILE_ROWS};
use crate::fast::grad::relu_mask;
use crate::fast::linear::{nchw_to_nhwc_features, nhwc_to_nchw_features, Linear};
use crate::fast::net::FastNet;
use crate::fast::pool::{max_pool_map, unpool_map};
use crate::inference::Classifier;
use crate::weights::{Trainable, Weights};

/// The fast CPU training backend. Holds its buffers between steps (they grow with the batch).
#[derive(Debug, Default)]
pub struct FastBackend {
    eval: Option<FastNet>,
    ws: Workspace,
}

impl FastBackend {
    /// A backend with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Buffers of one training step.
#[derive(Debug, Default)]
struct Workspace {
    /// Conv outputs before BatchNorm, per layer.
    z: [Vec<f32>; CONV_LAYERS],
    /// Block outputs (ReLU output, or the pool output after layers 1, 3, 5): the next input.
    act: [Vec<f32>; CONV_LAYERS],
    argmax: [Vec<u8>; CONV_LAYERS],
    /// Per-tile f64 partial sums.
    acc: Vec<f64>,
    mask: Vec<f32>,
    features: Vec<f32>,
    logits: Vec<f32>,
    grad_logits: Vec<f32>,
    grad_classifier: Vec<f32>,
    g: Vec<f32>,
    other: Vec<f32>,
    parts: Vec<f32>,
}

/// BatchNorm of one layer in training mode.
struct BnTrain {
    /// Batch mean, f64 and f32.
    mean: Vec<f64>,
    mean32: Vec<f32>,
    /// 1 / sqrt(var + eps).
    istd: Vec<f64>,
    /// gamma * istd and beta - mean * gamma * istd: `bn(z) = scale * z + shift`.
    scale: Vec<f32>,
    shift: Vec<f32>,
}

/// Adds each tile's per-channel partial sums (laid out `[tiles, groups, c]`) in tile order.
fn reduce_tiles(acc: &[f64], groups: usize, c: usize) -> Vec<f64> {
    let mut total = vec![0.0; groups * c];
    for tile in acc.chunks_exact(groups * c) {
        for (t, v) in total.iter_mut().zip(tile) {
            *t += v;
        }
    }
    total
}

/// Checks the shapes of a gradient accumulator against the architecture.
fn check_trainable(grads: &Trainable, arch: &Architecture) -> Result<()> {
    let expected = Trainable::zeros(arch);
    for ((name, got, _), (_, want, _)) in grads.tensors().into_iter().zip(expected.tensors()) {
        check_len(&format!("gradient {name}"), got.len(), want.len(), || {
            format!("{} values", want.len())
        })?;
    }
    Ok(())
}

impl TrainBackend for FastBackend {
    fn train_step(
        &mut self,
        weights: &Weights,
        images: &[f32],
        labels: &[u8],
        dropout_mask: &[f32],
        grads: &mut Trainable,
        stats: &mut BatchStats,
    ) -> Result<StepOutput> {
        let arch = weights.arch;
        let n = FastNet::batch_of(images)?;
        let classes = arch.classes;
        let features = arch.flat_features();
        check_len("labels", labels.len(), n, || format!("[{n}]"))?;
        check_len("dropout mask", dropout_mask.len(), n * features, || {
            format!("[{n}, {features}]")
        })?;
        check_trainable(grads, &arch)?;
        if let Some(&bad) = labels.iter().find(|&&y| usize::from(y) >= classes) {
            return Err(ModelError::BadClass {
                class: usize::from(bad),
                classes,
            });
        }
        if n == 0 {
            return Err(ModelError::BadLength {
                what: "training batch".to_owned(),
                expected: 1,
                found: 0,
                shape: "[n >= 1, 32, 32, 3]".to_owned(),
            });
        }
        let convs = (0..CONV_LAYERS)
            .map(|l| {
                Conv3x3::from_oihw(
                    arch.spatial(l),
                    arch.widths[l],
                    arch.in_channels(l),
                    &weights.params.conv[l],
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let last_c = arch.widths[CONV_LAYERS - 1];
        let linear = Linear::from_nchw_classifier(
            classes,
            last_c,
            IMAGE_SIZE / 8,
            &weights.params.classifier,
        )?;
        let ws = &mut self.ws;

        // Forward.
        let mut bns = Vec::with_capacity(CONV_LAYERS);
        for l in 0..CONV_LAYERS {
            let (side, c) = (arch.spatial(l), arch.widths[l]);
            check_len(
                &format!("BatchNorm weight of layer {l}"),
                weights.params.bn_weight[l].len(),
                c,
                || format!("[{c}]"),
            )?;
            check_len(
                &format!("BatchNorm bias of layer {l}"),
                weights.params.bn_bias[l].len(),
                c,
                || format!("[{c}]"),
            )?;
            let rows = n * side * side;
            let input: &[f32] = if l == 0 {
                images
            } else {
                &ws.act[l - 1][..rows * arch.in_channels(l)]
            };
            let z = at_least(&mut ws.z[l], rows * c);
            let acc = at_least(&mut ws.acc, tiles(rows) * 2 * c);
            acc.fill(0.0);
            convs[l].forward_with(input, z, acc, 2 * c, &|_, out, acc| {
                let (sum, sq) = acc.split_at_mut(c);
                for row in out.chunks_exact(c) {
                    for ch in 0..c {
                        let v = f64::from(row[ch]);
                        sum[ch] += v;
                        sq[ch] += v * v;
                    }
                }
            })?;
            let total = reduce_tiles(acc, 2, c);
            let m = rows as f64;
            let mut bn = BnTrain {
                mean: vec![0.0; c],
                mean32: vec![0.0; c],
                istd: vec![0.0; c],
                scale: vec![0.0; c],
                shift: vec![0.0; c],
            };
            stats.mean[l].resize(c, 0.0);
            stats.var[l].resize(c, 0.0);
            for ch in 0..c {
                let mean = total[ch] / m;
                let var = (total[c + ch] / m - mean * mean).max(0.0);
                let istd = 1.0 / (var + arch.bn_eps).sqrt();
                let gamma = f64::from(weights.params.bn_weight[l][ch]);
                let beta = f64::from(weights.params.bn_bias[l][ch]);
                bn.mean[ch] = mean;
                bn.mean32[ch] = mean as f32;
                bn.istd[ch] = istd;
                bn.scale[ch] = (gamma * istd) as f32;
                bn.shift[ch] = (beta - mean * gamma * istd) as f32;
                stats.mean[l][ch] = mean as f32;
                stats.var[l][ch] = var as f32;
            }
            let (scale, shift) = (&bn.scale, &bn.shift);
            let z = &ws.z[l][..rows * c];
            if Architecture::pool_after(l) {
                let half = side / 2;
                let out = at_least(&mut ws.act[l], n * half * half * c);
                let arg = at_least(&mut ws.argmax[l], n * half * half * c);
                max_pool_map(z, side, c, out, arg, &|ch, v| {
                    (v * scale[ch] + shift[ch]).max(0.0)
                });
            } else {
                let out = at_least(&mut ws.act[l], rows * c);
                out.par_chunks_mut(TILE_ROWS * c)
                    .zip(z.par_chunks(TILE_ROWS * c))
                    .for_each(|(o, z)| {
                        for (o, z) in o.chunks_exact_mut(c).zip(z.chunks_exact(c)) {
                            for ch in 0..c {
                                o[ch] = (z[ch] * scale[ch] + shift[ch]).max(0.0);
                            }
                        }
                    });
            }
            bns.push(bn);
        }

        // Dropout, classifier, loss.
        let mask = at_least(&mut ws.mask, n * features);
        nchw_to_nhwc_features(dropout_mask, last_c, IMAGE_SIZE / 8, mask);
        let feats = at_least(&mut ws.features, n * features);
        for ((f, a), m) in feats
            .iter_mut()
            .zip(&ws.act[CONV_LAYERS - 1][..n * features])
            .zip(mask.iter())
        {
            *f = a * m;
        }
        let logits = at_least(&mut ws.logits, n * classes);
        linear.forward(feats, logits)?;
        let grad_logits = at_least(&mut ws.grad_logits, n * classes);
        let mut loss = 0.0f64;
        let mut correct = 0;
        for ((row, g), &label) in logits
            .chunks_exact(classes)
            .zip(grad_logits.chunks_exact_mut(classes))
            .zip(labels)
        {
            let label = usize::from(label);
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f64 = row.iter().map(|&v| f64::from(v - max).exp()).sum();
            let lse = f64::from(max) + sum.ln();
            loss += lse - f64::from(row[label]);
            let best = crate::inference::argmax_rows(row, classes)[0];
            correct += usize::from(best == label);
            for (k, (gk, &v)) in g.iter_mut().zip(row).enumerate() {
                let p = (f64::from(v) - lse).exp();
                *gk = ((p - if k == label { 1.0 } else { 0.0 }) / n as f64) as f32;
            }
        }
        let loss = loss / n as f64;
        if !loss.is_finite() {
            return Err(ModelError::NonFinite {
                what: "training loss".to_owned(),
            });
        }

        // Backward: classifier and dropout.
        let gc = at_least(&mut ws.grad_classifier, classes * features);
        linear.weight_gradient(feats, grad_logits, gc)?;
        nhwc_to_nchw_features(gc, last_c, IMAGE_SIZE / 8, &mut grads.classifier);
        let (mut g, mut other) = (&mut ws.g, &mut ws.other);
        {
            let gf = at_least(g, n * features);
            linear.backward_input(grad_logits, gf)?;
            for (v, m) in gf.iter_mut().zip(mask.iter()) {
                *v *= m;
            }
        }

        // Backward through the blocks.
        for l in (0..CONV_LAYERS).rev() {
            let (side, c, cin) = (arch.spatial(l), arch.widths[l], arch.in_channels(l));
            let rows = n * side * side;
            let len = rows * c;
            let bn = &bns[l];
            let z = &ws.z[l][..len];
            if Architecture::pool_after(l) {
                let half = side / 2;
                let (scale, shift) = (&bn.scale, &bn.shift);
                let dy = at_least(other, len);
                unpool_map(
                    &g[..n * half * half * c],
                    &ws.argmax[l][..n * half * half * c],
                    side,
                    c,
                    dy,
                    &|i, ch, v| {
                        if z[i] * scale[ch] + shift[ch] > 0.0 {
                            v
                        } else {
                            0.0
                        }
                    },
                );
                std::mem::swap(&mut g, &mut other);
            }
            // g = d loss / d (BN output). BatchNorm backward: sums over the batch, then dz.
            let dy = &mut g[..len];
            let acc = at_least(&mut ws.acc, tiles(rows) * 2 * c);
            let mean = &bn.mean;
            dy.par_chunks(TILE_ROWS * c)
                .zip(z.par_chunks(TILE_ROWS * c))
                .zip(acc.par_chunks_mut(2 * c))
                .for_each(|((d, z), acc)| {
                    acc.fill(0.0);
                    let (s1, s2) = acc.split_at_mut(c);
                    for (d, z) in d.chunks_exact(c).zip(z.chunks_exact(c)) {
                        for ch in 0..c {
                            let dv = f64::from(d[ch]);
                            s1[ch] += dv;
                            s2[ch] += dv * (f64::from(z[ch]) - mean[ch]);
                        }
                    }
                });
            let total = reduce_tiles(acc, 2, c);
            let m = rows as f64;
            let mut a = vec![0.0f32; c];
            let mut b = vec![0.0f32; c];
            let mut k = vec![0.0f32; c];
            for ch in 0..c {
                let istd = bn.istd[ch];
                let sum_dy = total[ch];
                let sum_dy_zhat = total[c + ch] * istd;
                grads.bn_bias[l][ch] = sum_dy as f32;
                grads.bn_weight[l][ch] = sum_dy_zhat as f32;
                a[ch] = (f64::from(weights.params.bn_weight[l][ch]) * istd) as f32;
                b[ch] = (sum_dy / m) as f32;
                k[ch] = (istd * sum_dy_zhat / m) as f32;
            }
            let mean32 = &bn.mean32;
            dy.par_chunks_mut(TILE_ROWS * c)
                .zip(z.par_chunks(TILE_ROWS * c))
                .for_each(|(d, z)| {
                    for (d, z) in d.chunks_exact_mut(c).zip(z.chunks_exact(c)) {
                        for ch in 0..c {
                            d[ch] = a[ch] * (d[ch] - b[ch] - (z[ch] - mean32[ch]) * k[ch]);
                        }
                    }
                });
            let dz = &g[..len];
            let input: &[f32] = if l == 0 {
                images
            } else {
                &ws.act[l - 1][..rows * cin]
            };
            conv3x3_weight_gradient(side, cin, c, input, dz, &mut grads.conv[l], &mut ws.parts)?;
            if l > 0 {
                let below = at_least(other, rows * cin);
                let mask: Option<&[f32]> =
                    (!Architecture::pool_after(l - 1)).then(|| &ws.act[l - 1][..rows * cin]);
                convs[l].backward_input_with(dz, below, &|first, out, _| {
                    if let Some(mask) = mask {
                        relu_mask(out, &mask[first * cin..first * cin + out.len()]);
                    }
                })?;
                std::mem::swap(&mut g, &mut other);
            }
        }
        Ok(StepOutput { loss, correct })
    }

    fn eval_logits(&mut self, weights: &Weights, images: &[f32], logits: &mut [f32]) -> Result<()> {
        match &mut self.eval {
            Some(net) => net.set_weights(weights)?,
            None => self.eval = Some(FastNet::new(weights)?),
        }
        match &mut self.eval {
            Some(net) => net.logits(images, logits),
            None => unreachable!("the eval network was just built"),
        }
    }
}
