//! The model's parameters and buffers as plain vectors, and `model.safetensors` I/O.

use std::path::Path;

use sal_artifact::names::model as names;
use sal_artifact::{Artifact, ArtifactWriter, Kind, Meta};

use crate::arch::{Architecture, CONV_LAYERS};
use crate::error::{ModelError, Result};

/// One BatchNorm layer: learned scale and shift, and running statistics (eval mode).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchNorm {
    /// Scale (gamma), [channels].
    pub weight: Vec<f32>,
    /// Shift (beta), [channels].
    pub bias: Vec<f32>,
    /// Running mean, [channels].
    pub running_mean: Vec<f32>,
    /// Running (unbiased) variance, [channels].
    pub running_var: Vec<f32>,
}

impl BatchNorm {
    /// gamma = 1, beta = 0, mean = 0, var = 1 (PyTorch's initial state).
    pub fn identity(channels: usize) -> Self {
        BatchNorm {
            weight: vec![1.0; channels],
            bias: vec![0.0; channels],
            running_mean: vec![0.0; channels],
            running_var: vec![1.0; channels],
        }
    }

    /// Per-channel (scale, shift) of this layer in eval mode:
    /// `bn(z) = scale * z + shift`, scale = gamma / sqrt(var + eps), shift = beta - scale * mean.
    pub fn eval_affine(&self, eps: f64) -> (Vec<f32>, Vec<f32>) {
        let mut scale = Vec::with_capacity(self.weight.len());
        let mut shift = Vec::with_capacity(self.weight.len());
        for c in 0..self.weight.len() {
            let s = f64::from(self.weight[c]) / (f64::from(self.running_var[c]) + eps).sqrt();
            scale.push(s as f32);
            shift.push((f64::from(self.bias[c]) - s * f64::from(self.running_mean[c])) as f32);
        }
        (scale, shift)
    }
}

/// The trainable parameters, also used for their gradients.
#[derive(Debug, Clone, PartialEq)]
pub struct Trainable {
    /// Conv weights, OIHW `[out, in, 3, 3]`, layer `l` = `block{l/2+1}.conv{l%2+1}`.
    pub conv: [Vec<f32>; CONV_LAYERS],
    /// BatchNorm scales, `[out]` per layer.
    pub bn_weight: [Vec<f32>; CONV_LAYERS],
    /// BatchNorm shifts, `[out]` per layer.
    pub bn_bias: [Vec<f32>; CONV_LAYERS],
    /// Classifier weight `[classes, flat_features]`, columns in NCHW flatten order.
    pub classifier: Vec<f32>,
}

impl Trainable {
    /// All zeros, shaped for `arch` (a gradient accumulator).
    pub fn zeros(arch: &Architecture) -> Self {
        Trainable {
            conv: std::array::from_fn(|l| vec![0.0; arch.widths[l] * arch.in_channels(l) * 9]),
            bn_weight: std::array::from_fn(|l| vec![0.0; arch.widths[l]]),
            bn_bias: std::array::from_fn(|l| vec![0.0; arch.widths[l]]),
            classifier: vec![0.0; arch.classes * arch.flat_features()],
        }
    }

    /// Every tensor with its artifact name and whether L2 weight decay applies to it
    /// (conv and classifier weights: yes; BatchNorm scale and shift: no).
    pub fn tensors(&self) -> Vec<(String, &[f32], bool)> {
        let mut out = Vec::new();
        for l in 0..CONV_LAYERS {
            let (b, c) = (l / 2 + 1, l % 2 + 1);
            out.push((names::conv_weight(b, c), self.conv[l].as_slice(), true));
            out.push((
                names::bn(b, c, "weight"),
                self.bn_weight[l].as_slice(),
                false,
            ));
            out.push((names::bn(b, c, "bias"), self.bn_bias[l].as_slice(), false));
        }
        out.push((
            names::CLASSIFIER_WEIGHT.to_owned(),
            self.classifier.as_slice(),
            true,
        ));
        out
    }

    /// Like [`Trainable::tensors`], mutable, in the same order.
    pub fn tensors_mut(&mut self) -> Vec<(String, &mut [f32], bool)> {
        let mut out = Vec::new();
        for (l, ((conv, bw), bb)) in self
            .conv
            .iter_mut()
            .zip(self.bn_weight.iter_mut())
            .zip(self.bn_bias.iter_mut())
            .enumerate()
        {
            let (b, c) = (l / 2 + 1, l % 2 + 1);
            out.push((names::conv_weight(b, c), conv.as_mut_slice(), true));
            out.push((names::bn(b, c, "weight"), bw.as_mut_slice(), false));
            out.push((names::bn(b, c, "bias"), bb.as_mut_slice(), false));
        }
        out.push((
            names::CLASSIFIER_WEIGHT.to_owned(),
            self.classifier.as_mut_slice(),
            true,
        ));
        out
    }
}

/// Everything that defines a trained model: architecture, trainable parameters and BN running
/// statistics. The names and layouts are those of `model.safetensors` (see docs/artifacts.md).
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// The shape of the network.
    pub arch: Architecture,
    /// Conv, BN-affine and classifier parameters.
    pub params: Trainable,
    /// BN running mean, `[out]` per layer.
    pub running_mean: [Vec<f32>; CONV_LAYERS],
    /// BN running variance, `[out]` per layer.
    pub running_var: [Vec<f32>; CONV_LAYERS],
}

impl Weights {
    /// The BatchNorm layer `l` (a copy, for code that wants the four vectors together).
    pub fn bn(&self, l: usize) -> BatchNorm {
        BatchNorm {
            weight: self.params.bn_weight[l].clone(),
            bias: self.params.bn_bias[l].clone(),
            running_mean: self.running_mean[l].clone(),
            running_var: self.running_var[l].clone(),
        }
    }

    /// Adds every tensor of the model to `writer` under its contract name.
    ///
    /// # Shapes
    /// conv `[out, in, 3, 3]`, BN fields `[out]`, classifier `[classes, flat_features]`.
    pub fn add_to(&self, writer: &mut ArtifactWriter) -> Result<()> {
        let arch = &self.arch;
        for l in 0..CONV_LAYERS {
            let (b, c) = (l / 2 + 1, l % 2 + 1);
            let out = arch.widths[l];
            writer.add(
                &names::conv_weight(b, c),
                &[out, arch.in_channels(l), 3, 3],
                &self.params.conv[l],
            )?;
            writer.add(
                &names::bn(b, c, "weight"),
                &[out],
                &self.params.bn_weight[l],
            )?;
            writer.add(&names::bn(b, c, "bias"), &[out], &self.params.bn_bias[l])?;
            writer.add(
                &names::bn(b, c, "running_mean"),
                &[out],
                &self.running_mean[l],
            )?;
            writer.add(
                &names::bn(b, c, "running_var"),
                &[out],
                &self.running_var[l],
            )?;
        }
        writer.add(
            names::CLASSIFIER_WEIGHT,
            &[arch.classes, arch.flat_features()],
            &self.params.classifier,
        )?;
        Ok(())
    }

    /// Writes `model.safetensors` (atomically) with `meta`, adding the `architecture` field.
    pub fn save(&self, path: &Path, meta: Meta) -> Result<()> {
        let mut writer = ArtifactWriter::new(meta.with_extra("architecture", self.arch.to_json()));
        self.add_to(&mut writer)?;
        writer.write(path)?;
        Ok(())
    }

    /// Reads a model file written by [`Weights::save`] (or any program following the
    /// contract): the architecture comes from the metadata, every tensor is checked for name,
    /// dtype, shape and finiteness.
    pub fn load(path: &Path) -> Result<(Self, Meta)> {
        let artifact = Artifact::open(path, Kind::Model)?;
        let arch_json = artifact.meta().extra.get("architecture").ok_or_else(|| {
            ModelError::BadArchitecture {
                path: path.to_owned(),
                message: "field missing".to_owned(),
            }
        })?;
        let arch =
            Architecture::from_json(arch_json).map_err(|message| ModelError::BadArchitecture {
                path: path.to_owned(),
                message,
            })?;
        let mut params = Trainable::zeros(&arch);
        let mut running_mean: [Vec<f32>; CONV_LAYERS] = Default::default();
        let mut running_var: [Vec<f32>; CONV_LAYERS] = Default::default();
        for l in 0..CONV_LAYERS {
            let (b, c) = (l / 2 + 1, l % 2 + 1);
            let out = arch.widths[l];
            params.conv[l] = artifact
                .read_finite(&names::conv_weight(b, c), &[out, arch.in_channels(l), 3, 3])?;
            params.bn_weight[l] = artifact.read_finite(&names::bn(b, c, "weight"), &[out])?;
            params.bn_bias[l] = artifact.read_finite(&names::bn(b, c, "bias"), &[out])?;
            running_mean[l] = artifact.read_finite(&names::bn(b, c, "running_mean"), &[out])?;
            running_var[l] = artifact.read_finite(&names::bn(b, c, "running_var"), &[out])?;
        }
        params.classifier = artifact.read_finite(
            names::CLASSIFIER_WEIGHT,
            &[arch.classes, arch.flat_features()],
        )?;
        let meta = artifact.meta().clone();
        Ok((
            Weights {
                arch,
                params,
                running_mean,
                running_var,
            },
            meta,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Weights {
        let arch = Architecture::with_widths([2, 2, 3, 3, 4, 4]);
        let mut params = Trainable::zeros(&arch);
        for (i, (_, t, _)) in params.tensors_mut().into_iter().enumerate() {
            for (j, v) in t.iter_mut().enumerate() {
                *v = (i * 1000 + j) as f32 * 1e-3;
            }
        }
        Weights {
            arch,
            params,
            running_mean: std::array::from_fn(|l| vec![0.5; arch.widths[l]]),
            running_var: std::array::from_fn(|l| vec![2.0; arch.widths[l]]),
        }
    }

    #[test]
    fn save_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let w = tiny();
        w.save(
            &path,
            Meta::new(Kind::Model, "train", serde_json::json!({})),
        )
        .unwrap();
        let (back, meta) = Weights::load(&path).unwrap();
        assert_eq!(back, w);
        assert!(meta.extra.contains_key("architecture"));
        let a = Artifact::open(&path, Kind::Model).unwrap();
        assert_eq!(a.shape("block2.conv1.weight").unwrap(), &[3, 2, 3, 3]);
        assert_eq!(a.shape("classifier.weight").unwrap(), &[10, 64]);
    }

    #[test]
    fn eval_affine_matches_the_formula() {
        let bn = BatchNorm {
            weight: vec![2.0],
            bias: vec![1.0],
            running_mean: vec![3.0],
            running_var: vec![4.0 - 1e-5],
        };
        let (s, t) = bn.eval_affine(1e-5);
        assert!((s[0] - 1.0).abs() < 1e-6 && (t[0] - (1.0 - 3.0)).abs() < 1e-6);
    }
}
