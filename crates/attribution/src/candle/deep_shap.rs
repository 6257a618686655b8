//! DeepSHAP on candle tensors: the rules of [`crate::methods::deep_shap`] (DeepLIFT's rescale
//! rule at the ReLUs, BatchNorm / conv / linear as linear maps, shap's max-pool rule), for the K
//! background pairs of each image as one batch of K, on any device.

use candle_core::{CustomOp1, DType, Tensor};
use sal_artifact::names::saliency as sn;
use sal_model::arch::PIXELS;
use sal_model::candle_net::net::{nhwc_to_tensor, to_f32_vec};
use sal_model::candle_net::record::channel;
use sal_model::candle_net::{eval_net, CandleNet, CandleRecording, MaxPool2x2};
use sal_model::{ModelError, Weights};

use crate::error::Result;
use crate::method::{Batch, ExtraData, ExtraTensor, Method};
use crate::methods::deep_shap::{describe, INFO, POOL_THRESHOLD, RELU_THRESHOLD};

/// DeepSHAP with its background's recorded forward pass on the network's device.
pub struct CandleDeepShap {
    net: CandleNet,
    index: Vec<u32>,
    seed: u64,
    /// `[K, 3, 32, 32]` normalised background images.
    background: Tensor,
    recording: CandleRecording,
    /// Per conv layer, the first-arg-max mask of the background's pool windows (after layers
    /// 1, 3, 5), `[K, c, side, side]`.
    masks: Vec<Option<Tensor>>,
    /// Per conv layer, the BatchNorm scale `[1, c, 1, 1]`.
    scales: Vec<Tensor>,
}

/// One-hot masks of each 2x2 window's first maximum (1 there, 0 elsewhere).
///
/// # Shapes
/// `relu`: `[n, c, h, w]`; `pooled`: `[n, c, h/2, w/2]`; returns `[n, c, h, w]`.
fn argmax_mask(relu: &Tensor, pooled: &Tensor) -> candle_core::Result<Tensor> {
    let mask = MaxPool2x2.bwd(relu, pooled, &pooled.ones_like()?)?;
    mask.ok_or_else(|| candle_core::Error::Msg("the max-pool has no backward".to_owned()))
}

fn masks(recording: &CandleRecording) -> candle_core::Result<Vec<Option<Tensor>>> {
    recording
        .layers
        .iter()
        .map(|l| {
            l.pooled
                .as_ref()
                .map(|p| argmax_mask(&l.relu, p))
                .transpose()
        })
        .collect()
}

impl CandleDeepShap {
    /// DeepSHAP against the background images (normalised NHWC `[K, 32, 32, 3]`, training-split
    /// indices `index`) on `device`.
    pub fn new(
        weights: &Weights,
        device: &str,
        background: &[f32],
        index: Vec<u32>,
        seed: u64,
    ) -> Result<Self> {
        let net = eval_net(weights, device)?;
        let background = nhwc_to_tensor(background, net.device(), DType::F32)?;
        let recording = net.record_eval(&background)?;
        let masks = masks(&recording)?;
        let scales = (0..recording.layers.len())
            .map(|l| channel(&net.bn_affine(l)?.0))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(CandleDeepShap {
            net,
            index,
            seed,
            background,
            recording,
            masks,
            scales,
        })
    }

    /// The map of image `i` of the batch's recording `x` (with its pool masks `x_masks`).
    ///
    /// # Shapes
    /// returns `[1024]`.
    fn map(
        &self,
        x: &CandleRecording,
        x_masks: &[Option<Tensor>],
        i: usize,
        class: usize,
    ) -> Result<Vec<f32>> {
        let k = self.index.len();
        let one = |t: &Tensor| t.narrow(0, i, 1);
        let w = self.net.classifier_weight().narrow(0, class, 1)?;
        let mut m = w.broadcast_as((k, w.dim(1)?))?.contiguous()?;
        for l in (0..x.layers.len()).rev() {
            let (lx, lb) = (&x.layers[l], &self.recording.layers[l]);
            if let (Some(py), Some(pr)) = (&lx.pooled, &lb.pooled) {
                // shap's max-pool rule: g (c - r) to x's arg-max, g (y - c) to b's arg-max, then
                // divided by each unit's own x - b (0 where |x - b| < threshold).
                let (y, r) = (one(py)?, pr);
                m = m.reshape(r.shape())?;
                let cross = y.broadcast_maximum(r)?;
                let (_, _, h, w) = lb.relu.dims4()?;
                let to_x = (&m * (&cross - r)?)?.upsample_nearest2d(h, w)?;
                let to_b = m.broadcast_mul(&cross.broadcast_sub(&y)?.neg()?)?;
                let to_b = to_b.upsample_nearest2d(h, w)?;
                let xm = one(x_masks[l].as_ref().expect("pooled layers have masks"))?;
                let bm = self.masks[l].as_ref().expect("pooled layers have masks");
                let contributions = (to_x.broadcast_mul(&xm)? + (to_b * bm)?)?;
                let d = one(&lx.relu)?.broadcast_sub(&lb.relu)?;
                m = thresholded_divide(&contributions, &d, POOL_THRESHOLD, &d.zeros_like()?)?;
            } else {
                m = m.reshape(lb.relu.shape())?;
            }
            // ReLU, rescale rule (the gradient where |a_x - a_b| < threshold).
            let (ax, ar) = (one(&lx.pre_relu)?, &lb.pre_relu);
            let d = ax.broadcast_sub(ar)?;
            let rescaled = (ax.relu()?.broadcast_sub(&ar.relu()?)?).contiguous()?;
            let gradient = ax.gt(0.0)?.to_dtype(DType::F32)?.broadcast_as(d.shape())?;
            let multiplier =
                thresholded_divide(&rescaled, &d, RELU_THRESHOLD, &gradient.contiguous()?)?;
            m = (m * multiplier)?.broadcast_mul(&self.scales[l])?;
            m = m.conv_transpose2d(self.net.conv_weight(l), 1, 0, 1, 1)?;
        }
        // phi = mean_k m_k (x - b_k), summed over channels.
        let xi = one(&x.layers[0].input)?;
        let phi = (m * xi.broadcast_sub(&self.background)?)?.sum(1)?.mean(0)?;
        let map = to_f32_vec(&phi)?;
        debug_assert_eq!(map.len(), PIXELS);
        Ok(map)
    }
}

/// `a / d` where `|d| >= threshold`, else `fallback`.
///
/// # Shapes
/// all three the same shape.
fn thresholded_divide(
    a: &Tensor,
    d: &Tensor,
    threshold: f32,
    fallback: &Tensor,
) -> candle_core::Result<Tensor> {
    let far = d.abs()?.ge(f64::from(threshold))?;
    far.where_cond(&(a / d)?, fallback)
}

impl Method for CandleDeepShap {
    fn name(&self) -> &'static str {
        INFO.name
    }

    fn explain(&mut self, batch: &Batch<'_>, maps: &mut [f32]) -> Result<()> {
        batch.check_maps(maps)?;
        let classes = self.net.arch().classes;
        let x = nhwc_to_tensor(batch.images, self.net.device(), DType::F32)?;
        let record = self.net.record_eval(&x)?;
        let x_masks = masks(&record)?;
        for (i, (&class, out)) in batch
            .classes
            .iter()
            .zip(maps.chunks_exact_mut(PIXELS))
            .enumerate()
        {
            if class >= classes {
                return Err(ModelError::BadClass { class, classes }.into());
            }
            out.copy_from_slice(&self.map(&record, &x_masks, i, class)?);
        }
        Ok(())
    }

    fn extra_tensors(&self) -> Vec<ExtraTensor> {
        vec![ExtraTensor {
            name: sn::DEEP_SHAP_BACKGROUND_INDEX.to_owned(),
            shape: vec![self.index.len()],
            data: ExtraData::U32(self.index.clone()),
        }]
    }

    fn describe(&self) -> serde_json::Value {
        describe(self.index.len(), self.seed)
    }
}
