//! Deep Taylor on candle tensors: the rules of [`crate::methods::deep_taylor`] (z+ on the
//! classifier and convs 2..6, z^B on the first conv, relevance to each window's first arg-max,
//! the ReLU mask, BatchNorm passed through or folded), on any device.

use candle_core::{CustomOp1, DType, Tensor};
use sal_model::arch::{IMAGE_VALUES, PIXELS};
use sal_model::candle_net::net::{nhwc_to_tensor, to_f32_vec};
use sal_model::candle_net::{eval_net, CandleNet, MaxPool2x2};
use sal_model::Weights;

use crate::error::Result;
use crate::method::{Batch, Method};
use crate::methods::deep_taylor::{describe, INFO};

/// The rule weights and bounds on the network's device.
pub struct CandleDeepTaylor {
    net: CandleNet,
    /// Per conv layer, the positive part of the rule weights (raw or BN-folded) `[o, i, 3, 3]`.
    positive: Vec<Tensor>,
    /// Layer 0's rule weights and their negative part.
    plain0: Tensor,
    negative0: Tensor,
    /// `conv(l, w0+) + conv(h, w0-)` with zero padding, `[1, c0, 32, 32]`.
    bound_term: Tensor,
    /// Per-channel bounds `[1, 3, 1, 1]`.
    low: Tensor,
    high: Tensor,
    /// The classifier's positive weights `[classes, flat]`.
    classifier_positive: Tensor,
    /// The bounds and the ablation, for [`Method::describe`].
    settings: ([f32; 3], [f32; 3], bool),
}

impl CandleDeepTaylor {
    /// The method for `weights` on `device`; `low` / `high` are the per-channel input bounds.
    pub fn new(
        weights: &Weights,
        device: &str,
        low: [f32; 3],
        high: [f32; 3],
        fold_batchnorm: bool,
    ) -> Result<Self> {
        let net = eval_net(weights, device)?;
        let dev = net.device().clone();
        let mut positive = Vec::new();
        let mut rule0 = None;
        for l in 0..weights.arch.widths.len() {
            let mut w = net.conv_weight(l).clone();
            if fold_batchnorm {
                let (scale, _) = net.bn_affine(l)?;
                w = w.broadcast_mul(&scale.reshape((scale.elem_count(), 1, 1, 1))?)?;
            }
            positive.push(w.relu()?);
            if l == 0 {
                rule0 = Some(w);
            }
        }
        let plain0 = rule0.expect("the network has a first conv");
        let negative0 = plain0.minimum(0.0)?;
        let bound = |v: [f32; 3]| Tensor::from_slice(&v[..], (1, 3, 1, 1), &dev);
        let (low_t, high_t) = (bound(low)?, bound(high)?);
        let ones = Tensor::ones((1, 3, 32, 32), DType::F32, &dev)?;
        let bound_term = (ones
            .broadcast_mul(&low_t)?
            .conv2d(&positive[0], 1, 1, 1, 1)?
            + ones
                .broadcast_mul(&high_t)?
                .conv2d(&negative0, 1, 1, 1, 1)?)?;
        let classifier_positive = net.classifier_weight().relu()?;
        Ok(CandleDeepTaylor {
            net,
            positive,
            plain0,
            negative0,
            bound_term,
            low: low_t,
            high: high_t,
            classifier_positive,
            settings: (low, high, fold_batchnorm),
        })
    }

    /// One map per image: the input relevance summed over channels.
    ///
    /// # Shapes
    /// returns `[n, 32, 32]`.
    pub fn maps(&self, batch: &Batch<'_>) -> Result<Vec<f32>> {
        let n = batch.len();
        let dev = self.net.device();
        let x = nhwc_to_tensor(batch.images, dev, DType::F32)?;
        debug_assert_eq!(x.elem_count(), n * IMAGE_VALUES);
        let rec = self.net.record_eval(&x)?;
        let classes: Vec<u32> = batch.classes.iter().map(|&c| c as u32).collect();
        let idx = Tensor::from_vec(classes, n, dev)?;
        // Classifier, z+ rule: R_i = x_i w+_ci * top / z, top = max(logit, 0).
        let top = rec.logits.gather(&idx.reshape((n, 1))?, 1)?.relu()?;
        let contrib = (&rec.features * self.classifier_positive.index_select(&idx, 0)?)?;
        let z = contrib.sum_keepdim(1)?;
        let mut r = contrib.broadcast_mul(&safe_divide(&top, &z)?)?;
        for l in (0..rec.layers.len()).rev() {
            let layer = &rec.layers[l];
            if let Some(pooled) = &layer.pooled {
                r = r.reshape(pooled.shape())?;
                r = MaxPool2x2
                    .bwd(&layer.relu, pooled, &r)?
                    .expect("the max-pool has a backward");
            } else {
                r = r.reshape(layer.relu.shape())?;
            }
            r = (r * layer.pre_relu.gt(0.0)?.to_dtype(DType::F32)?)?;
            let input = &layer.input;
            r = if l > 0 {
                let w = &self.positive[l];
                let s = safe_divide(&r, &input.conv2d(w, 1, 1, 1, 1)?)?;
                (input * s.conv_transpose2d(w, 1, 0, 1, 1)?)?
            } else {
                let z = input
                    .conv2d(&self.plain0, 1, 1, 1, 1)?
                    .broadcast_sub(&self.bound_term)?;
                let s = safe_divide(&r, &z)?;
                let back = |w: &Tensor| s.conv_transpose2d(w, 1, 0, 1, 1);
                let plain = (input * back(&self.plain0)?)?;
                let low = back(&self.positive[0])?.broadcast_mul(&self.low)?;
                let high = back(&self.negative0)?.broadcast_mul(&self.high)?;
                ((plain - low)? - high)?
            };
        }
        let maps = to_f32_vec(&r.sum(1)?)?;
        debug_assert_eq!(maps.len(), n * PIXELS);
        Ok(maps)
    }
}

/// `r / z` where `z > 0`, else 0 (iNNvestigate's SafeDivide: relevance on `z <= 0` is dropped).
///
/// # Shapes
/// `r` and `z` broadcast to one shape.
fn safe_divide(r: &Tensor, z: &Tensor) -> candle_core::Result<Tensor> {
    let positive = z.gt(0.0)?;
    let quotient = r.broadcast_div(z)?;
    positive
        .broadcast_as(quotient.shape())?
        .where_cond(&quotient, &quotient.zeros_like()?)
}

impl Method for CandleDeepTaylor {
    fn name(&self) -> &'static str {
        INFO.name
    }

    fn explain(&mut self, batch: &Batch<'_>, maps: &mut [f32]) -> Result<()> {
        batch.check_maps(maps)?;
        maps.copy_from_slice(&self.maps(batch)?);
        Ok(())
    }

    fn describe(&self) -> serde_json::Value {
        let (low, high, fold) = self.settings;
        describe(low, high, fold)
    }
}
