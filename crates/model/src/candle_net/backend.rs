//! [`CandleBackend`]: training steps computed by the candle model and candle's autograd.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarBuilder;

use crate::backend::{BatchStats, StepOutput, TrainBackend};
use crate::candle_net::net::{named_tensors, nhwc_to_tensor, to_f32_vec, CandleNet};
use crate::error::{check_len, ModelError, Result};
use crate::inference::argmax_rows;
use crate::weights::{Trainable, Weights};

/// The reference [`TrainBackend`]: the candle model in training mode, gradients by autograd.
///
/// Runs on any candle device (the GPU path of `sal train`) in f32 or f64. Each step copies the
/// weights in and the gradients out, so it holds no state between steps.
#[derive(Debug, Clone)]
pub struct CandleBackend {
    device: Device,
    dtype: DType,
}

impl CandleBackend {
    /// A backend computing in `dtype` (F32 or F64) on `device`.
    pub fn new(device: Device, dtype: DType) -> Result<Self> {
        if !matches!(dtype, DType::F32 | DType::F64) {
            return Err(ModelError::Candle(candle_core::Error::Msg(format!(
                "CandleBackend computes in f32 or f64, not {dtype:?}"
            ))));
        }
        Ok(CandleBackend { device, dtype })
    }

    /// The device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The network holding `weights` with its trainable tensors as candle `Var`s (for autograd),
    /// and those vars by name.
    fn net_with_vars(&self, weights: &Weights) -> Result<(CandleNet, HashMap<String, Var>)> {
        let trainable: std::collections::BTreeSet<String> = weights
            .params
            .tensors()
            .into_iter()
            .map(|(name, _, _)| name)
            .collect();
        let mut map = HashMap::new();
        let mut vars = HashMap::new();
        for (name, shape, data) in named_tensors(weights) {
            let t = Tensor::from_slice(data, shape, &self.device)?.to_dtype(self.dtype)?;
            if trainable.contains(&name) {
                let var = Var::from_tensor(&t)?;
                map.insert(name.clone(), var.as_tensor().clone());
                vars.insert(name, var);
            } else {
                map.insert(name, t);
            }
        }
        let vb = VarBuilder::from_tensors(map, self.dtype, &self.device);
        Ok((CandleNet::new(weights.arch, vb)?, vars))
    }
}

impl TrainBackend for CandleBackend {
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
        let n = labels.len();
        check_len(
            "images",
            images.len(),
            n * crate::arch::IMAGE_VALUES,
            || format!("[{n}, 32, 32, 3]"),
        )?;
        check_len(
            "dropout_mask",
            dropout_mask.len(),
            n * arch.flat_features(),
            || format!("[{n}, {}]", arch.flat_features()),
        )?;
        if let Some(&bad) = labels.iter().find(|&&l| usize::from(l) >= arch.classes) {
            return Err(ModelError::BadClass {
                class: usize::from(bad),
                classes: arch.classes,
            });
        }
        let (net, vars) = self.net_with_vars(weights)?;
        let x = nhwc_to_tensor(images, &self.device, self.dtype)?;
        let mask = Tensor::from_slice(dropout_mask, (n, arch.flat_features()), &self.device)?
            .to_dtype(self.dtype)?;
        let (logits, batch_stats) = net.forward_train(&x, &mask)?;
        let targets = Tensor::from_vec(
            labels.iter().map(|&l| u32::from(l)).collect::<Vec<_>>(),
            n,
            &self.device,
        )?;
        let loss = candle_nn::loss::cross_entropy(&logits, &targets)?;
        let store = loss.backward()?;
        for (name, slot, _) in grads.tensors_mut() {
            let var = &vars[&name];
            match store.get(var.as_tensor()) {
                Some(g) => slot.copy_from_slice(&to_f32_vec(g)?),
                None => slot.fill(0.0),
            }
        }
        for (l, s) in batch_stats.iter().enumerate() {
            stats.mean[l] = to_f32_vec(&s.mean)?;
            stats.var[l] = to_f32_vec(&s.var)?;
        }
        let loss = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        let logits = to_f32_vec(&logits)?;
        let correct = argmax_rows(&logits, arch.classes)
            .iter()
            .zip(labels)
            .filter(|(&p, &l)| p == usize::from(l))
            .count();
        Ok(StepOutput { loss, correct })
    }

    fn eval_logits(&mut self, weights: &Weights, images: &[f32], logits: &mut [f32]) -> Result<()> {
        let net = CandleNet::from_weights(weights, &self.device, self.dtype)?;
        let n = images.len() / crate::arch::IMAGE_VALUES;
        check_len("logits", logits.len(), n * weights.arch.classes, || {
            format!("[{n}, {}]", weights.arch.classes)
        })?;
        let out = net.forward_eval(&nhwc_to_tensor(images, &self.device, self.dtype)?)?;
        logits.copy_from_slice(&to_f32_vec(&out)?);
        Ok(())
    }
}
