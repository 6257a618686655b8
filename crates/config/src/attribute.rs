//! `[attribute]`: saliency methods and the test images they explain.

use serde::{Deserialize, Serialize};

/// `[attribute]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttributeConfig {
    /// Methods to run, by name.
    pub methods: Vec<String>,
    /// The first `images_per_class` test images of each class, in test order (1000 = all).
    pub images_per_class: usize,
    /// Images per batch.
    pub batch_size: usize,
    /// DeepSHAP background size K (training-split images drawn with `seed`).
    pub deep_shap_background: usize,
    /// Deep Taylor ablation: fold BatchNorm into the convs before propagating relevance.
    pub fold_batchnorm: bool,
    /// Seed of the DeepSHAP background draw.
    pub seed: u64,
    /// The grey image of the `edge` baseline: `luminance` (0.2125 R + 0.7154 G + 0.0721 B of
    /// the 0..1 image, scikit-image's `rgb2gray`, which the paper most likely used) or
    /// `channel_mean` (the mean of the three channels).
    pub edge_grey: String,
    /// The border of the `edge` baseline's Sobel map: `zero` (the outermost pixels get 0, as
    /// scikit-image's `filters.sobel` masks them) or `replicate` (edge pixels repeated outside
    /// the image, so border pixels get a gradient too).
    pub edge_border: String,
    /// `cpu` (default), `cuda:N` or `metal`: where the network runs. A device that is not
    /// present, or not built in (`--features cuda` / `metal`), is an error naming it, never a
    /// fallback to the CPU. It is part of the section, and so of the stage's cache key and
    /// metadata, because results differ in the last bits between devices (different kernels
    /// sum in different orders); the default `cpu` is left out of the JSON, so the keys of
    /// configs that do not set it are the keys they had before the key existed.
    #[serde(skip_serializing_if = "crate::device::is_cpu")]
    pub device: String,
    /// `auto` (default: the fast CPU kernels on `cpu`, candle elsewhere), `fast` or `candle`
    /// (candle on the CPU too: the reference path, and how the tests check the GPU path
    /// without a GPU). Left out of the JSON when `auto`.
    #[serde(skip_serializing_if = "crate::device::Backend::is_auto")]
    pub backend: crate::device::Backend,
}

impl Default for AttributeConfig {
    fn default() -> Self {
        AttributeConfig {
            methods: [
                "sensitivity",
                "gradient_x_input",
                "deep_taylor",
                "deep_shap",
                "edge",
            ]
            .map(str::to_owned)
            .to_vec(),
            images_per_class: 1000,
            batch_size: 64,
            deep_shap_background: 100,
            fold_batchnorm: false,
            seed: 2,
            edge_grey: "luminance".to_owned(),
            edge_border: "zero".to_owned(),
            device: crate::device::cpu(),
            backend: crate::device::Backend::Auto,
        }
    }
}

impl AttributeConfig {
    /// Checks values (method names are checked by the attribution crate, which knows them).
    pub fn validate(&self) -> Result<(), String> {
        if self.methods.is_empty() {
            return Err("methods is empty: name at least one method".to_owned());
        }
        if let Some(dup) = self
            .methods
            .iter()
            .enumerate()
            .find(|(i, m)| self.methods[..*i].contains(m))
        {
            return Err(format!("methods lists {:?} twice", dup.1));
        }
        if !(1..=1000).contains(&self.images_per_class) {
            return Err(format!(
                "images_per_class = {}: must be in 1..=1000",
                self.images_per_class
            ));
        }
        if self.batch_size == 0 {
            return Err("batch_size = 0: must be at least 1".to_owned());
        }
        if self.deep_shap_background == 0 {
            return Err("deep_shap_background = 0: must be at least 1".to_owned());
        }
        if !["luminance", "channel_mean"].contains(&self.edge_grey.as_str()) {
            return Err(format!(
                "edge_grey = {:?}: must be \"luminance\" or \"channel_mean\"",
                self.edge_grey
            ));
        }
        if !["zero", "replicate"].contains(&self.edge_border.as_str()) {
            return Err(format!(
                "edge_border = {:?}: must be \"zero\" or \"replicate\"",
                self.edge_border
            ));
        }
        crate::device::validate(&self.device, self.backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edge_baseline_defaults_to_scikit_image_and_bad_names_are_refused() {
        let d = AttributeConfig::default();
        assert!(d.validate().is_ok());
        assert_eq!(
            (d.edge_grey.as_str(), d.edge_border.as_str()),
            ("luminance", "zero")
        );
        let bad = AttributeConfig {
            edge_grey: "average".into(),
            ..AttributeConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("edge_grey"));
        let bad = AttributeConfig {
            edge_border: "reflect".into(),
            ..AttributeConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("edge_border"));
    }
}
