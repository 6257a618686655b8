//! Model-parameter randomisation: re-initialise named layers of a trained model.
//!
//! A re-initialised layer gets exactly what a fresh network has at the start of training:
//! the conv or classifier weights of [`init_weights`] drawn from the `[sanity] seed` (the
//! same tensor, value for value, that training from that seed would start with), and, for a
//! conv, its BatchNorm reset to a fresh layer's state: gamma = 1, beta = 0, running mean 0,
//! running variance 1. Every other tensor stays bit-equal to the trained model's.

use sal_model::arch::CONV_LAYERS;
use sal_model::train::init_weights;
use sal_model::Weights;

use crate::error::{Result, SanityError};

/// A layer that can be re-initialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// Conv `l` (0-based, `block{l/2+1}.conv{l%2+1}`) and the BatchNorm after it.
    Conv(usize),
    /// The final linear layer.
    Classifier,
}

impl Layer {
    /// The layer of a name of `sal_config::sanity::LAYERS_TOP_DOWN` (`classifier`,
    /// `block{b}.conv{c}`).
    pub fn parse(name: &str) -> Result<Self> {
        if name == "classifier" {
            return Ok(Layer::Classifier);
        }
        (0..CONV_LAYERS)
            .find(|&l| name == format!("block{}.conv{}", l / 2 + 1, l % 2 + 1))
            .map(Layer::Conv)
            .ok_or_else(|| SanityError::UnknownLayer(name.to_owned()))
    }
}

/// One randomised model of the checks: its name and the layers it re-initialises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// `cascade/<layer>` (that layer and every one before it in the list) or
    /// `independent/<layer>` (that layer alone).
    pub name: String,
    /// The layer names re-initialised, in list order.
    pub layers: Vec<String>,
}

/// The cascading steps (step k re-initialises `layers[..=k]`) and then the independent ones
/// (step k re-initialises `layers[k]`), as the config asks.
pub fn steps(layers: &[String], cascade: bool, independent: bool) -> Vec<Step> {
    let mut out = Vec::new();
    if cascade {
        for k in 0..layers.len() {
            out.push(Step {
                name: format!("cascade/{}", layers[k]),
                layers: layers[..=k].to_vec(),
            });
        }
    }
    if independent {
        for layer in layers {
            out.push(Step {
                name: format!("independent/{layer}"),
                layers: vec![layer.clone()],
            });
        }
    }
    out
}

/// `trained` with `layers` re-initialised from `fresh` (a model from [`init_weights`]).
pub fn reinitialise(trained: &Weights, fresh: &Weights, layers: &[Layer]) -> Weights {
    let mut out = trained.clone();
    for layer in layers {
        match *layer {
            Layer::Classifier => out.params.classifier.clone_from(&fresh.params.classifier),
            Layer::Conv(l) => {
                out.params.conv[l].clone_from(&fresh.params.conv[l]);
                out.params.bn_weight[l].clone_from(&fresh.params.bn_weight[l]);
                out.params.bn_bias[l].clone_from(&fresh.params.bn_bias[l]);
                out.running_mean[l].clone_from(&fresh.running_mean[l]);
                out.running_var[l].clone_from(&fresh.running_var[l]);
            }
        }
    }
    out
}

/// The randomised model of `step`: [`reinitialise`] with the fresh weights of `seed`.
pub fn randomised(trained: &Weights, step: &Step, seed: u64) -> Result<Weights> {
    let fresh = init_weights(&trained.arch, seed);
    let layers = step
        .layers
        .iter()
        .map(|n| Layer::parse(n))
        .collect::<Result<Vec<_>>>()?;
    Ok(reinitialise(trained, &fresh, &layers))
}

#[cfg(test)]
mod tests {
    use sal_artifact::{ArtifactWriter, Meta};
    use sal_model::Architecture;

    use super::*;

    /// Every tensor of a model by its contract name, as raw bits.
    fn tensors(w: &Weights) -> Vec<(String, Vec<u32>)> {
        let mut writer = ArtifactWriter::new(Meta::new(
            sal_artifact::Kind::Model,
            "t",
            serde_json::json!({}),
        ));
        w.add_to(&mut writer).unwrap();
        let mut out = Vec::new();
        for (name, t, _) in w.params.tensors() {
            out.push((name, t.iter().map(|v| v.to_bits()).collect()));
        }
        for l in 0..CONV_LAYERS {
            let (b, c) = (l / 2 + 1, l % 2 + 1);
            out.push((
                format!("block{b}.bn{c}.running_mean"),
                w.running_mean[l].iter().map(|v| v.to_bits()).collect(),
            ));
            out.push((
                format!("block{b}.bn{c}.running_var"),
                w.running_var[l].iter().map(|v| v.to_bits()).collect(),
            ));
        }
        assert_eq!(out.len(), writer.names().count());
        out
    }

    /// A "trained" model: fresh weights of another seed, with BatchNorm moved off its
    /// initial state so a reset is visible.
    fn trained() -> Weights {
        let mut w = init_weights(&Architecture::with_widths([2, 3, 4, 4, 5, 6]), 99);
        for l in 0..CONV_LAYERS {
            w.params.bn_weight[l].iter_mut().for_each(|v| *v = 1.5);
            w.params.bn_bias[l].iter_mut().for_each(|v| *v = 0.25);
            w.running_mean[l].iter_mut().for_each(|v| *v = -0.5);
            w.running_var[l].iter_mut().for_each(|v| *v = 2.5);
        }
        w
    }

    #[test]
    fn exactly_the_named_layers_change_and_the_rest_stays_bit_equal() {
        let trained = trained();
        let fresh = init_weights(&trained.arch, 5);
        for step in steps(
            &sal_config::sanity::LAYERS_TOP_DOWN.map(str::to_owned),
            true,
            true,
        ) {
            let out = randomised(&trained, &step, 5).unwrap();
            for ((name, got), ((_, before), (_, new))) in tensors(&out)
                .into_iter()
                .zip(tensors(&trained).into_iter().zip(tensors(&fresh)))
            {
                // `block1.bn2.weight` belongs to layer `block1.conv2`.
                let owner = name
                    .split('.')
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(".")
                    .replace(".bn", ".conv");
                let owner = if name.starts_with("classifier") {
                    "classifier".to_owned()
                } else {
                    owner
                };
                if step.layers.contains(&owner) {
                    assert_eq!(got, new, "{}: {name} must be fresh", step.name);
                    assert_ne!(got, before, "{}: {name} must change", step.name);
                } else {
                    assert_eq!(got, before, "{}: {name} must stay", step.name);
                }
            }
        }
    }

    #[test]
    fn steps_cascade_then_go_one_at_a_time() {
        let layers: Vec<String> = ["classifier", "block3.conv2", "block1.conv1"]
            .map(str::to_owned)
            .to_vec();
        let s = steps(&layers, true, true);
        assert_eq!(s.len(), 6);
        assert_eq!(s[1].name, "cascade/block3.conv2");
        assert_eq!(s[1].layers, ["classifier", "block3.conv2"]);
        assert_eq!(s[5].name, "independent/block1.conv1");
        assert_eq!(s[5].layers, ["block1.conv1"]);
        assert_eq!(steps(&layers, false, true).len(), 3);
        assert_eq!(Layer::parse("block2.conv1").unwrap(), Layer::Conv(2));
        assert!(Layer::parse("block4.conv1").is_err());
    }

    #[test]
    fn randomisation_is_determined_by_the_seed() {
        let trained = trained();
        let step = &steps(&["block2.conv2".to_owned()], true, false)[0];
        let a = randomised(&trained, step, 5).unwrap();
        assert_eq!(a, randomised(&trained, step, 5).unwrap());
        assert_ne!(a, randomised(&trained, step, 6).unwrap());
    }
}
