//! `deep_taylor`: deep Taylor decomposition (Montavon et al. 2017) as iNNvestigate 1.0.x's
//! `BoundedDeepTaylor` computes it, which is what the paper used.
//!
//! Relevance starts at the top as R = max(logit, 0) of the explained class only (iNNvestigate
//! appends a ReLU to the output; a non-positive logit gives an all-zero map), and flows down:
//!
//! - **classifier and convs 2..6: the z+ rule** (iNNvestigate `Alpha1Beta0IgnoreBiasRule`):
//!   `z_j = sum_i x_i w_ij+`, `R_i = x_i sum_j w_ij+ R_j / z_j` (0 where z_j = 0), where x is
//!   the layer's actual input (the ReLU or max-pool output below it, so x >= 0) and w+ = max(w, 0);
//! - **first conv: the bounded z^B rule** (`BoundedRule`) with per-channel bounds l, h = the
//!   normalised images of pixel values 0 and 255:
//!   `z_j = sum_i (x_i w_ij - l_i w_ij+ - h_i w_ij-)`,
//!   `R_i = sum_j (x_i w_ij - l_i w_ij+ - h_i w_ij-) R_j / z_j`; zero padding contributes nothing;
//! - **max-pool**: relevance goes to the arg-max of each window (iNNvestigate maps pooling
//!   along the gradient; ties go to the first maximum);
//! - **ReLU**: along the gradient, i.e. kept where the ReLU input is > 0 (nothing is lost: a
//!   relevance arriving at a zero activation is already zero, since the z+ rule above multiplies
//!   by it);
//! - **BatchNorm passes relevance through unchanged** (iNNvestigate 1.0.x maps BN layers with
//!   `do_nothing`). Precisely: the relevance R_j that arrives at BN output j (through the ReLU)
//!   is taken as the relevance of conv output j, and the conv's z+ denominator z_j is built
//!   from the conv's own input activations and its own weights, `z_j = sum_i x_i w_ij+` — the
//!   pre-BN quantity. Neither the BN scale nor the BN shift enters any denominator; BN only
//!   matters through which units are active (ReLU mask) and through the activations x of the
//!   layer above.
//!
//! **Conservation.** Every rule above is conservative by construction: the z+ and z^B rules
//! hand on exactly `sum_j R_j` over the units with `z_j > 0`, routing and masking lose nothing.
//! So the input relevances sum to max(logit, 0) except for relevance held by units whose
//! denominator is zero (`z_j = 0`, e.g. a unit whose receptive field is all zero but whose BN
//! shift makes it active): that relevance is dropped, as iNNvestigate's SafeDivide drops it.
//! [`DeepTaylor::explain_traced`] reports it per layer as `dropped`, so conservation is
//! testable exactly. The BN shift is a bias, and like every bias here it is ignored (the rule
//! is "IgnoreBias"): it receives no relevance, which is why the sum still equals the logit.
//! All relevances are >= 0 at every layer, the input included (for inputs within the bounds).
//!
//! **Ablation `fold_batchnorm = true`**: BN is folded into the conv first (weights
//! `scale_j w_ij`, the shift becomes a bias that the rule ignores). For a channel with scale
//! above 0 this changes nothing (`(s w)+ = s w+`, the scale cancels in `R_j / z_j`); only channels
//! with a negative BN scale (gamma < 0) are propagated differently (their positive part is then
//! `s w-`).

use rayon::prelude::*;
use sal_model::arch::{CONV_LAYERS, IMAGE_VALUES, IN_CHANNELS, PIXELS};
use sal_model::fast::{max_pool2x2_backward, relu_derivative, FastNet, Linear};
use sal_model::Weights;

use crate::candle::deep_taylor::CandleDeepTaylor;
use crate::error::Result;
use crate::method::{Batch, Method, Setup};
use crate::network::{self, conv_input, Conv3x3};
use crate::registry::MethodInfo;

/// Registration.
pub const INFO: MethodInfo = MethodInfo {
    name: "deep_taylor",
    summary:
        "deep Taylor decomposition: z+ above the input, z^B on the first conv (iNNvestigate 1.0.x)",
    needs_training_images: false,
    build,
};

fn build(setup: &Setup<'_>) -> Result<Box<dyn Method>> {
    let (low, high) = setup.normalizer.bounds();
    if !network::is_fast(setup.config) {
        return Ok(Box::new(CandleDeepTaylor::new(
            setup.weights,
            &setup.config.device,
            low,
            high,
            setup.config.fold_batchnorm,
        )?));
    }
    Ok(Box::new(DeepTaylor::new(
        setup.weights,
        low,
        high,
        setup.config.fold_batchnorm,
    )?))
}

/// Relevance sums of one image at each step of the backward pass (f64 sums of the f32 values).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerTrace {
    /// Conv layer 0..6.
    pub layer: usize,
    /// Sum at the ReLU output (after max-pool routing, if a pool follows this layer).
    pub at_relu_out: f64,
    /// Sum at the conv output = BN output (after the ReLU mask).
    pub at_conv_out: f64,
    /// Relevance held by units with z_j <= 0 (it cannot be handed on and is dropped).
    pub dropped: f64,
    /// Sum at the conv input.
    pub at_conv_in: f64,
    /// Smallest relevance at the conv output.
    pub min_out: f32,
    /// Smallest relevance at the conv input.
    pub min_in: f32,
}

/// The whole backward pass of one image, for conservation checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// max(logit, 0) of the explained class.
    pub top: f32,
    /// Relevance the classifier's z+ rule hands to the features.
    pub at_features: f64,
    /// Relevance dropped at the classifier (z = 0).
    pub dropped_at_classifier: f64,
    /// Per conv layer, from the top (layer 5) down to layer 0.
    pub layers: Vec<LayerTrace>,
}

/// The deep Taylor method with its rule kernels.
pub struct DeepTaylor {
    net: FastNet,
    fold: bool,
    /// Classifier with its positive weights (NHWC feature order).
    classifier_positive: Linear,
    /// Per layer, the conv with the positive part of the rule weights (raw or BN-folded).
    positive: Vec<Conv3x3>,
    /// Layer 0 with the rule weights, and with their negative part.
    plain0: Conv3x3,
    negative0: Conv3x3,
    /// Layer 0's bound term `conv(l, w+) + conv(h, w-)`, `[32, 32, widths[0]]`: the same for
    /// every image, computed once.
    bound_term: Vec<f32>,
    low: [f32; 3],
    high: [f32; 3],
}

impl DeepTaylor {
    /// Prepares the rule kernels for `weights`; `low`/`high` are the per-channel input bounds
    /// (the normalised images of pixel values 0 and 255).
    pub fn new(
        weights: &Weights,
        low: [f32; 3],
        high: [f32; 3],
        fold_batchnorm: bool,
    ) -> Result<Self> {
        let net = FastNet::new(weights)?;
        let arch = weights.arch;
        let conv = |l: usize, f: &dyn Fn(f32) -> f32| -> Result<Conv3x3> {
            let source = if fold_batchnorm {
                net.folded_conv(l).oihw()
            } else {
                weights.params.conv[l].clone()
            };
            let w: Vec<f32> = source.iter().map(|&v| f(v)).collect();
            Ok(Conv3x3::from_oihw(
                arch.spatial(l),
                arch.widths[l],
                arch.in_channels(l),
                &w,
            )?)
        };
        let positive = (0..CONV_LAYERS)
            .map(|l| conv(l, &|w| w.max(0.0)))
            .collect::<Result<Vec<_>>>()?;
        let plain0 = conv(0, &|w| w)?;
        let negative0 = conv(0, &|w| w.min(0.0))?;
        let constant =
            |v: [f32; 3]| -> Vec<f32> { (0..IMAGE_VALUES).map(|k| v[k % IN_CHANNELS]).collect() };
        let c0 = arch.widths[0];
        let (mut lo, mut hi) = (vec![0.0; PIXELS * c0], vec![0.0; PIXELS * c0]);
        positive[0].forward(&constant(low), &mut lo)?;
        negative0.forward(&constant(high), &mut hi)?;
        let bound_term = lo.iter().zip(&hi).map(|(a, b)| a + b).collect();
        let classifier_positive = net.linear().map_weights(|w| w.max(0.0));
        Ok(DeepTaylor {
            net,
            fold: fold_batchnorm,
            classifier_positive,
            positive,
            plain0,
            negative0,
            bound_term,
            low,
            high,
        })
    }

    /// Maps and the per-image trace of the backward pass.
    ///
    /// # Shapes
    /// returns (`[n, 32, 32]` maps, `[n]` traces).
    pub fn explain_traced(&mut self, batch: &Batch<'_>) -> Result<(Vec<f32>, Vec<Trace>)> {
        let arch = *self.net.architecture();
        let n = batch.len();
        let rec = self.net.record(batch.images)?;

        // Classifier, z+ rule: R_j = x_j w+_cj * top / z, one row per image.
        let features = rec.features();
        let k = self.classifier_positive.inputs();
        let w_pos = self.classifier_positive.weights();
        let mut traces = Vec::with_capacity(n);
        let mut r = vec![0.0f32; features.len()];
        for i in 0..n {
            let class = batch.classes[i];
            let top = rec.logits[i * arch.classes + class].max(0.0);
            let x = &features[i * k..(i + 1) * k];
            let row = &w_pos[class * k..(class + 1) * k];
            let z: f64 = x
                .iter()
                .zip(row)
                .map(|(&x, &w)| f64::from(x) * f64::from(w))
                .sum();
            let out = &mut r[i * k..(i + 1) * k];
            let (mut handed, mut dropped) = (0.0f64, 0.0f64);
            if z > 0.0 {
                let s = f64::from(top) / z;
                for ((o, &x), &w) in out.iter_mut().zip(x).zip(row) {
                    *o = (f64::from(x) * f64::from(w) * s) as f32;
                    handed += f64::from(*o);
                }
            } else {
                dropped = f64::from(top);
            }
            traces.push(Trace {
                top,
                at_features: handed,
                dropped_at_classifier: dropped,
                layers: Vec::new(),
            });
        }

        for l in (0..CONV_LAYERS).rev() {
            let (side, c, cin) = (arch.spatial(l), arch.widths[l], arch.in_channels(l));
            let per_image = side * side * c;
            let layer = &rec.layers[l];
            if let Some(pool) = &layer.pool {
                let mut up = vec![0.0f32; n * per_image];
                max_pool2x2_backward(&r, &pool.argmax, side, c, &mut up)?;
                r = up;
            }
            let at_relu_out = per_image_sums(&r, n);
            relu_derivative(&layer.bn, &mut r);
            let at_conv_out = per_image_sums(&r, n);
            let min_out = per_image_mins(&r, n);
            let x = conv_input(&rec, batch.images, l);
            let mut z = vec![0.0f32; n * per_image];
            if l > 0 {
                self.positive[l].forward(x, &mut z)?;
            } else {
                self.plain0.forward(x, &mut z)?;
                let bound = &self.bound_term;
                z.par_chunks_mut(per_image)
                    .for_each(|zi| zi.iter_mut().zip(bound).for_each(|(v, b)| *v -= b));
            }
            // s = R / z where z > 0; what sits on z <= 0 is dropped (iNNvestigate's SafeDivide).
            let dropped: Vec<f64> = r
                .par_chunks_mut(per_image)
                .zip(z.par_chunks(per_image))
                .map(|(ri, zi)| {
                    let mut lost = 0.0f64;
                    for (rv, &zv) in ri.iter_mut().zip(zi) {
                        if zv > 0.0 {
                            *rv /= zv;
                        } else {
                            lost += f64::from(*rv);
                            *rv = 0.0;
                        }
                    }
                    lost
                })
                .collect();
            let mut rin = vec![0.0f32; n * side * side * cin];
            if l > 0 {
                self.positive[l].backward_input(&r, &mut rin)?;
                rin.par_iter_mut()
                    .zip(x.par_iter())
                    .for_each(|(v, xv)| *v *= xv);
            } else {
                let (mut cb, mut cc) = (vec![0.0f32; rin.len()], vec![0.0f32; rin.len()]);
                self.plain0.backward_input(&r, &mut rin)?;
                self.positive[0].backward_input(&r, &mut cb)?;
                self.negative0.backward_input(&r, &mut cc)?;
                let (low, high) = (self.low, self.high);
                for (k, v) in rin.iter_mut().enumerate() {
                    let ch = k % IN_CHANNELS;
                    *v = x[k] * *v - low[ch] * cb[k] - high[ch] * cc[k];
                }
            }
            let at_conv_in = per_image_sums(&rin, n);
            let min_in = per_image_mins(&rin, n);
            for (i, trace) in traces.iter_mut().enumerate() {
                trace.layers.push(LayerTrace {
                    layer: l,
                    at_relu_out: at_relu_out[i],
                    at_conv_out: at_conv_out[i],
                    dropped: dropped[i],
                    at_conv_in: at_conv_in[i],
                    min_out: min_out[i],
                    min_in: min_in[i],
                });
            }
            r = rin;
        }
        let maps = r
            .chunks_exact(IN_CHANNELS)
            .map(|px| px.iter().sum())
            .collect();
        Ok((maps, traces))
    }
}

/// Sum of each image's values, in f64.
fn per_image_sums(values: &[f32], n: usize) -> Vec<f64> {
    let per = (values.len() / n.max(1)).max(1);
    values
        .par_chunks(per)
        .map(|c| c.iter().map(|&v| f64::from(v)).sum())
        .collect()
}

/// Smallest value of each image.
fn per_image_mins(values: &[f32], n: usize) -> Vec<f32> {
    let per = (values.len() / n.max(1)).max(1);
    values
        .par_chunks(per)
        .map(|c| c.iter().copied().fold(f32::INFINITY, f32::min))
        .collect()
}

impl Method for DeepTaylor {
    fn name(&self) -> &'static str {
        INFO.name
    }

    fn explain(&mut self, batch: &Batch<'_>, maps: &mut [f32]) -> Result<()> {
        batch.check_maps(maps)?;
        let (out, traces) = self.explain_traced(batch)?;
        let silent = traces.iter().filter(|t| t.top <= 0.0).count();
        if silent > 0 {
            tracing::warn!("deep_taylor: {silent} image(s) of this batch have a non-positive explained logit; their maps are all zero (as iNNvestigate's)");
        }
        maps.copy_from_slice(&out);
        Ok(())
    }

    fn describe(&self) -> serde_json::Value {
        describe(self.low, self.high, self.fold)
    }
}

/// The method's settings as stored in the artifact metadata (the same on every backend).
pub fn describe(low: [f32; 3], high: [f32; 3], fold: bool) -> serde_json::Value {
    serde_json::json!({
        "top": "max(logit, 0) of the predicted class",
        "rules": "z+ (alpha=1, beta=0, ignore bias) on the classifier and convs 2..6, z^B on conv 1",
        "bounds": {"low": low, "high": high},
        "max_pool": "arg-max (gradient)",
        "batchnorm": if fold { "folded into the conv weights, shift ignored" } else { "relevance passed through unchanged (iNNvestigate 1.0.x)" },
        "reduce": "sum over channels",
    })
}
