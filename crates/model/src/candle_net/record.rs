//! A recorded eval forward pass of the candle model, for the relevance-propagation methods'
//! candle path (deep Taylor), on any device.

use candle_core::Tensor;

use crate::arch::{Architecture, CONV_LAYERS};
use crate::candle_net::maxpool::max_pool_2x2;
use crate::candle_net::net::CandleNet;
use crate::error::Result;

/// What one conv layer's eval forward produced.
///
/// # Shapes
/// `input`: `[n, in_channels, side, side]`; `pre_relu` and `relu`: `[n, c, side, side]`;
/// `pooled`: `[n, c, side/2, side/2]` after layers 1, 3 and 5.
#[derive(Debug, Clone)]
pub struct LayerRecord {
    /// The conv's input (the images for layer 0).
    pub input: Tensor,
    /// The BatchNorm output (the ReLU's input).
    pub pre_relu: Tensor,
    /// The ReLU output.
    pub relu: Tensor,
    /// The max-pool output, when a pool follows.
    pub pooled: Option<Tensor>,
}

/// A recorded eval forward pass.
#[derive(Debug, Clone)]
pub struct CandleRecording {
    /// Per conv layer.
    pub layers: Vec<LayerRecord>,
    /// The classifier's input `[n, flat_features]` (NCHW flatten order).
    pub features: Tensor,
    /// `[n, classes]`.
    pub logits: Tensor,
}

impl CandleNet {
    /// Conv layer `l`'s weight `[out, in, 3, 3]`.
    pub fn conv_weight(&self, l: usize) -> &Tensor {
        &self.convs[l]
    }

    /// BatchNorm `l` in eval mode as `(scale, shift)`, each `[c]`: `bn(z) = scale * z + shift`.
    pub fn bn_affine(&self, l: usize) -> candle_core::Result<(Tensor, Tensor)> {
        let bn = &self.bns[l];
        let scale = (&bn.weight / (&bn.running_var + self.arch().bn_eps)?.sqrt()?)?;
        let shift = (&bn.bias - (&bn.running_mean * &scale)?)?;
        Ok((scale, shift))
    }

    /// The classifier weight `[classes, flat_features]` (NCHW flatten order).
    pub fn classifier_weight(&self) -> &Tensor {
        &self.classifier
    }

    /// The eval forward pass with every intermediate tensor kept (same ops as
    /// [`CandleNet::forward_eval`]).
    ///
    /// # Shapes
    /// `x`: `[n, 3, 32, 32]` normalised NCHW.
    pub fn record_eval(&self, x: &Tensor) -> Result<CandleRecording> {
        let mut h = x.clone();
        let mut layers = Vec::with_capacity(CONV_LAYERS);
        for l in 0..CONV_LAYERS {
            let z = h.conv2d(&self.convs[l], 1, 1, 1, 1)?;
            let (scale, shift) = self.bn_affine(l)?;
            let pre_relu = z
                .broadcast_mul(&channel(&scale)?)?
                .broadcast_add(&channel(&shift)?)?;
            let relu = pre_relu.relu()?;
            let pooled = if Architecture::pool_after(l) {
                Some(max_pool_2x2(&relu)?)
            } else {
                None
            };
            let input = std::mem::replace(&mut h, pooled.clone().unwrap_or_else(|| relu.clone()));
            layers.push(LayerRecord {
                input,
                pre_relu,
                relu,
                pooled,
            });
        }
        let features = h.flatten_from(1)?;
        let logits = features.matmul(&self.classifier.t()?)?;
        Ok(CandleRecording {
            layers,
            features,
            logits,
        })
    }
}

/// A per-channel vector `[c]` shaped `[1, c, 1, 1]` for broadcasting over NCHW.
pub fn channel(v: &Tensor) -> candle_core::Result<Tensor> {
    v.reshape((1, v.elem_count(), 1, 1))
}
