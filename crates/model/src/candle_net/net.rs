//! The paper's CNN as a candle model (NCHW), named as the tensors of `model.safetensors`.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use sal_artifact::names::model as names;

use crate::arch::{Architecture, CONV_LAYERS, IMAGE_SIZE, IMAGE_VALUES, IN_CHANNELS};
use crate::candle_net::maxpool::max_pool_2x2;
use crate::error::{check_len, Result};
use crate::weights::{Trainable, Weights};

/// One BatchNorm layer's tensors, each `[channels]`.
#[derive(Debug, Clone)]
pub struct BnTensors {
    /// Scale (gamma).
    pub weight: Tensor,
    /// Shift (beta).
    pub bias: Tensor,
    /// Running mean (eval mode).
    pub running_mean: Tensor,
    /// Running unbiased variance (eval mode).
    pub running_var: Tensor,
}

/// The batch statistics of one BN layer's input in training mode, each `[channels]`.
#[derive(Debug, Clone)]
pub struct BnBatchStats {
    /// Mean over the batch and the spatial positions.
    pub mean: Tensor,
    /// Biased variance over the batch and the spatial positions (the one BN normalises with).
    pub var: Tensor,
}

/// The CNN in candle: conv weights `[out, in, 3, 3]`, BN layers, classifier `[classes, flat]`.
///
/// Layer names are the contract names (`block{b}.conv{c}.weight`, `block{b}.bn{c}.*`,
/// `classifier.weight`), so a `VarBuilder` over `model.safetensors` builds it directly.
#[derive(Debug, Clone)]
pub struct CandleNet {
    arch: Architecture,
    pub(crate) convs: Vec<Tensor>,
    pub(crate) bns: Vec<BnTensors>,
    pub(crate) classifier: Tensor,
}

/// Every tensor of `weights` with its contract name and shape, in the order of the file.
///
/// # Shapes
/// conv `[out, in, 3, 3]`, BN fields `[out]`, classifier `[classes, flat_features]`.
pub fn named_tensors(weights: &Weights) -> Vec<(String, Vec<usize>, &[f32])> {
    let arch = &weights.arch;
    let mut out = Vec::new();
    for l in 0..CONV_LAYERS {
        let (b, c) = (l / 2 + 1, l % 2 + 1);
        let w = arch.widths[l];
        out.push((
            names::conv_weight(b, c),
            vec![w, arch.in_channels(l), 3, 3],
            weights.params.conv[l].as_slice(),
        ));
        out.push((
            names::bn(b, c, "weight"),
            vec![w],
            weights.params.bn_weight[l].as_slice(),
        ));
        out.push((
            names::bn(b, c, "bias"),
            vec![w],
            weights.params.bn_bias[l].as_slice(),
        ));
        out.push((
            names::bn(b, c, "running_mean"),
            vec![w],
            weights.running_mean[l].as_slice(),
        ));
        out.push((
            names::bn(b, c, "running_var"),
            vec![w],
            weights.running_var[l].as_slice(),
        ));
    }
    out.push((
        names::CLASSIFIER_WEIGHT.to_owned(),
        vec![arch.classes, arch.flat_features()],
        weights.params.classifier.as_slice(),
    ));
    out
}

/// The tensors of `weights` on `device` in `dtype`, keyed by contract name (for a
/// [`VarBuilder::from_tensors`]).
pub fn weight_tensors(
    weights: &Weights,
    device: &Device,
    dtype: DType,
) -> Result<HashMap<String, Tensor>> {
    let mut map = HashMap::new();
    for (name, shape, data) in named_tensors(weights) {
        let t = Tensor::from_slice(data, shape, device)?.to_dtype(dtype)?;
        map.insert(name, t);
    }
    Ok(map)
}

/// Normalised NHWC f32 images as an NCHW tensor on `device` in `dtype`.
///
/// # Shapes
/// `images`: `[n, 32, 32, 3]`; returns `[n, 3, 32, 32]`.
pub fn nhwc_to_tensor(images: &[f32], device: &Device, dtype: DType) -> Result<Tensor> {
    check_len("images", images.len() % IMAGE_VALUES, 0, || {
        "[n, 32, 32, 3]".to_owned()
    })?;
    let n = images.len() / IMAGE_VALUES;
    let t = Tensor::from_slice(images, (n, IMAGE_SIZE, IMAGE_SIZE, IN_CHANNELS), device)?;
    Ok(t.to_dtype(dtype)?.permute((0, 3, 1, 2))?.contiguous()?)
}

/// A tensor's values as f32 (any float dtype, any device).
pub fn to_f32_vec(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?)
}

impl CandleNet {
    /// Builds the network from `vb`, reading `block{b}.conv{c}.weight`, `block{b}.bn{c}.*` and
    /// `classifier.weight` with the shapes `arch` implies.
    pub fn new(arch: Architecture, vb: VarBuilder) -> candle_core::Result<Self> {
        let mut convs = Vec::with_capacity(CONV_LAYERS);
        let mut bns = Vec::with_capacity(CONV_LAYERS);
        for l in 0..CONV_LAYERS {
            let (b, c) = (l / 2 + 1, l % 2 + 1);
            let w = arch.widths[l];
            let block = vb.pp(format!("block{b}"));
            convs.push(
                block
                    .pp(format!("conv{c}"))
                    .get((w, arch.in_channels(l), 3, 3), "weight")?,
            );
            let bn = block.pp(format!("bn{c}"));
            bns.push(BnTensors {
                weight: bn.get(w, "weight")?,
                bias: bn.get(w, "bias")?,
                running_mean: bn.get(w, "running_mean")?,
                running_var: bn.get(w, "running_var")?,
            });
        }
        let classifier = vb
            .pp("classifier")
            .get((arch.classes, arch.flat_features()), "weight")?;
        Ok(CandleNet {
            arch,
            convs,
            bns,
            classifier,
        })
    }

    /// The network holding a copy of `weights` on `device` in `dtype`.
    pub fn from_weights(weights: &Weights, device: &Device, dtype: DType) -> Result<Self> {
        let vb = VarBuilder::from_tensors(weight_tensors(weights, device, dtype)?, dtype, device);
        Ok(Self::new(weights.arch, vb)?)
    }

    /// The architecture.
    pub fn arch(&self) -> &Architecture {
        &self.arch
    }

    /// The device the tensors live on.
    pub fn device(&self) -> &Device {
        self.classifier.device()
    }

    /// The dtype of the tensors.
    pub fn dtype(&self) -> DType {
        self.classifier.dtype()
    }

    /// The parameters and buffers as [`Weights`] (f32).
    pub fn to_weights(&self) -> Result<Weights> {
        let mut params = Trainable::zeros(&self.arch);
        let mut running_mean: [Vec<f32>; CONV_LAYERS] = Default::default();
        let mut running_var: [Vec<f32>; CONV_LAYERS] = Default::default();
        for l in 0..CONV_LAYERS {
            params.conv[l] = to_f32_vec(&self.convs[l])?;
            params.bn_weight[l] = to_f32_vec(&self.bns[l].weight)?;
            params.bn_bias[l] = to_f32_vec(&self.bns[l].bias)?;
            running_mean[l] = to_f32_vec(&self.bns[l].running_mean)?;
            running_var[l] = to_f32_vec(&self.bns[l].running_var)?;
        }
        params.classifier = to_f32_vec(&self.classifier)?;
        Ok(Weights {
            arch: self.arch,
            params,
            running_mean,
            running_var,
        })
    }

    /// Eval-mode logits: BN with the running statistics, no dropout.
    ///
    /// # Shapes
    /// `x`: `[n, 3, 32, 32]` normalised NCHW; returns `[n, classes]`.
    pub fn forward_eval(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let eps = self.arch.bn_eps;
        let mut h = x.clone();
        for l in 0..CONV_LAYERS {
            let z = h.conv2d(&self.convs[l], 1, 1, 1, 1)?;
            let bn = &self.bns[l];
            let scale = (&bn.weight / (&bn.running_var + eps)?.sqrt()?)?;
            let shift = (&bn.bias - (&bn.running_mean * &scale)?)?;
            h = z
                .broadcast_mul(&channel(&scale)?)?
                .broadcast_add(&channel(&shift)?)?
                .relu()?;
            if Architecture::pool_after(l) {
                h = max_pool_2x2(&h)?;
            }
        }
        let flat = h.flatten_from(1)?;
        flat.matmul(&self.classifier.t()?)
    }

    /// Training-mode logits: BN normalises with the batch mean and biased variance (computed
    /// explicitly, so they are differentiated through and returned), dropout multiplies the
    /// flattened features by `dropout_mask`.
    ///
    /// # Shapes
    /// `x`: `[n, 3, 32, 32]`; `dropout_mask`: `[n, flat_features]` (NCHW flatten order);
    /// returns logits `[n, classes]` and per conv layer the batch statistics `[channels]`.
    pub fn forward_train(
        &self,
        x: &Tensor,
        dropout_mask: &Tensor,
    ) -> candle_core::Result<(Tensor, Vec<BnBatchStats>)> {
        let eps = self.arch.bn_eps;
        let mut h = x.clone();
        let mut stats = Vec::with_capacity(CONV_LAYERS);
        for l in 0..CONV_LAYERS {
            let z = h.conv2d(&self.convs[l], 1, 1, 1, 1)?;
            let mean = z.mean_keepdim((0, 2, 3))?;
            let centred = z.broadcast_sub(&mean)?;
            let var = centred.sqr()?.mean_keepdim((0, 2, 3))?;
            let normed = centred.broadcast_div(&(&var + eps)?.sqrt()?)?;
            let bn = &self.bns[l];
            h = normed
                .broadcast_mul(&channel(&bn.weight)?)?
                .broadcast_add(&channel(&bn.bias)?)?
                .relu()?;
            if Architecture::pool_after(l) {
                h = max_pool_2x2(&h)?;
            }
            stats.push(BnBatchStats {
                mean: mean.flatten_all()?.detach(),
                var: var.flatten_all()?.detach(),
            });
        }
        let flat = (h.flatten_from(1)? * dropout_mask)?;
        Ok((flat.matmul(&self.classifier.t()?)?, stats))
    }
}

/// A per-channel vector `[c]` shaped `[1, c, 1, 1]` for broadcasting over NCHW.
fn channel(v: &Tensor) -> candle_core::Result<Tensor> {
    v.reshape((1, v.elem_count(), 1, 1))
}
