//! `[sanity]`: model and data randomisation checks (Adebayo et al. 2018) for the saliency
//! methods and for the metrics.

use serde::{Deserialize, Serialize};

use crate::train::{OptimizerKind, TrainConfig};

/// The layers of the network, top down: the default (and complete) randomisation order.
pub const LAYERS_TOP_DOWN: [&str; 7] = [
    "classifier",
    "block3.conv2",
    "block3.conv1",
    "block2.conv2",
    "block2.conv1",
    "block1.conv2",
    "block1.conv1",
];

/// `[sanity]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SanityConfig {
    /// The first `images_per_class` test images of each class, in test order, are explained
    /// by every randomised model.
    pub images_per_class: usize,
    /// Seed of the re-initialised weights (drawn as at the start of training), of the label
    /// permutation and training of the random-label model, of the random-map control and of
    /// the bootstrap.
    pub seed: u64,
    /// Layers to randomise, in cascade order (top down by default). Cascading step k
    /// re-initialises the first k + 1 of them; independent step k only the k-th.
    pub layers: Vec<String>,
    /// Run the cascading randomisation.
    pub cascade: bool,
    /// Run the independent (one layer at a time) randomisation.
    pub independent: bool,
    /// Data randomisation: training images (the first this-many of the training split) whose
    /// labels are permuted; 0 skips data randomisation.
    pub random_labels_images: usize,
    /// Data randomisation: epochs of training on the permuted labels (all of them run: no
    /// early stopping, the last epoch's model is kept).
    pub random_labels_epochs: usize,
    /// Data randomisation: the optimiser of the random-label run; absent = the trained
    /// model's `[train] optimizer`. The trained model's regularised recipe may not fit random
    /// labels at all within a few epochs (the README says how far it gets), so the run can
    /// have its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub random_labels_optimizer: Option<OptimizerKind>,
    /// Data randomisation: peak learning rate of the random-label run; absent = the trained
    /// model's `[train] learning_rate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub random_labels_learning_rate: Option<f64>,
    /// Data randomisation: dropout of the random-label run; absent = the trained model's
    /// `[train] dropout`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub random_labels_dropout: Option<f64>,
    /// Data randomisation: L2 weight decay of the random-label run; absent = the trained
    /// model's `[train] weight_decay`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub random_labels_weight_decay: Option<f64>,
    /// DeepSHAP background size K for the maps of this stage (all models, the trained one
    /// included); absent = the `[attribute]` value recorded in `saliency.safetensors`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deep_shap_background: Option<usize>,
    /// Metrics under randomisation: the first this-many test images of each class (a subset
    /// of the explained ones) are scored; 0 skips this part.
    pub metric_images_per_class: usize,
    /// Bootstrap resamples of the images for every interval.
    pub bootstrap: usize,
    /// Confidence level of the intervals.
    pub ci: f64,
    /// Test images whose maps across the steps are stored for the report's grid (the first
    /// this-many explained images).
    pub example_images: usize,
}

impl Default for SanityConfig {
    fn default() -> Self {
        SanityConfig {
            images_per_class: 100,
            seed: 5,
            layers: LAYERS_TOP_DOWN.map(str::to_owned).to_vec(),
            cascade: true,
            independent: true,
            random_labels_images: 45_000,
            random_labels_epochs: 30,
            random_labels_optimizer: None,
            random_labels_learning_rate: None,
            random_labels_dropout: None,
            random_labels_weight_decay: None,
            deep_shap_background: None,
            metric_images_per_class: 10,
            bootstrap: 10_000,
            ci: 0.95,
            example_images: 2,
        }
    }
}

impl SanityConfig {
    /// The `[train]` settings of the random-label run: the trained model's recipe `train` with
    /// this section's seed and epochs, no early stopping, no augmentation, all training images
    /// offered (the run takes the first `random_labels_images`), the warm-up capped at the
    /// epochs, and `random_labels_optimizer`, `_learning_rate`, `_dropout` and `_weight_decay`
    /// replacing the recipe's values when set. Every other `[train]` field is inherited.
    ///
    /// The one definition of what determines the random-label model's training: `sal-sanity`
    /// trains with it and `xtask` keys the model's cache folder with it.
    pub fn random_labels_train(&self, train: &TrainConfig) -> TrainConfig {
        TrainConfig {
            seed: self.seed,
            epochs: self.random_labels_epochs,
            patience: 0,
            crop_padding: 0,
            horizontal_flip: false,
            max_train_images: None,
            warmup_epochs: train.warmup_epochs.min(self.random_labels_epochs as f64),
            optimizer: self.random_labels_optimizer.unwrap_or(train.optimizer),
            learning_rate: self
                .random_labels_learning_rate
                .unwrap_or(train.learning_rate),
            dropout: self.random_labels_dropout.unwrap_or(train.dropout),
            weight_decay: self
                .random_labels_weight_decay
                .unwrap_or(train.weight_decay),
            ..train.clone()
        }
    }

    /// Checks values; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(rate) = self.random_labels_learning_rate {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(format!(
                    "random_labels_learning_rate = {rate}: must be a positive number"
                ));
            }
        }
        if let Some(p) = self.random_labels_dropout {
            if !(0.0..1.0).contains(&p) {
                return Err(format!("random_labels_dropout = {p}: must be in [0, 1)"));
            }
        }
        if let Some(decay) = self.random_labels_weight_decay {
            if !(decay.is_finite() && decay >= 0.0) {
                return Err(format!(
                    "random_labels_weight_decay = {decay}: must be 0 or positive"
                ));
            }
        }
        if !(1..=1000).contains(&self.images_per_class) {
            return Err(format!(
                "images_per_class = {}: must be in 1..=1000",
                self.images_per_class
            ));
        }
        if self.metric_images_per_class > self.images_per_class {
            return Err(format!(
                "metric_images_per_class = {}: must be at most images_per_class = {}",
                self.metric_images_per_class, self.images_per_class
            ));
        }
        if self.layers.is_empty() && (self.cascade || self.independent) {
            return Err("layers is empty: name at least one layer to randomise".to_owned());
        }
        for (i, layer) in self.layers.iter().enumerate() {
            if !LAYERS_TOP_DOWN.contains(&layer.as_str()) {
                return Err(format!(
                    "layers: unknown layer {layer:?} (known: {})",
                    LAYERS_TOP_DOWN.join(", ")
                ));
            }
            if self.layers[..i].contains(layer) {
                return Err(format!("layers lists {layer:?} twice"));
            }
        }
        if self.random_labels_images == 1 {
            return Err(
                "random_labels_images = 1: 0 (off) or at least 2 (BatchNorm needs two)".to_owned(),
            );
        }
        if self.random_labels_images > 0 && self.random_labels_epochs == 0 {
            return Err("random_labels_epochs = 0: at least one epoch is needed".to_owned());
        }
        if self.deep_shap_background == Some(0) {
            return Err("deep_shap_background = 0: must be at least 1".to_owned());
        }
        if self.bootstrap == 0 {
            return Err("bootstrap = 0: at least one resample is needed".to_owned());
        }
        if !(self.ci > 0.0 && self.ci < 1.0) {
            return Err(format!("ci = {}: must be in (0, 1)", self.ci));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SanityConfig, String> {
        let config: SanityConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    #[test]
    fn defaults_are_valid_and_top_down() {
        let d = SanityConfig::default();
        d.validate().unwrap();
        assert_eq!(d.layers[0], "classifier");
        assert_eq!(d.layers[6], "block1.conv1");
        assert!(serde_json::to_value(&d)
            .unwrap()
            .get("deep_shap_background")
            .is_none());
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("images_per_class = 0", "images_per_class"),
            ("layers = [\"block4.conv1\"]", "block4.conv1"),
            ("layers = [\"classifier\", \"classifier\"]", "twice"),
            ("random_labels_images = 1", "random_labels_images"),
            ("random_labels_epochs = 0", "random_labels_epochs"),
            ("bootstrap = 0", "bootstrap"),
            ("ci = 1.0", "ci"),
            ("deep_shap_background = 0", "deep_shap_background"),
            ("metric_images_per_class = 200", "metric_images_per_class"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(key), "{text}: {err}");
        }
        assert!(parse("layrs = []").unwrap_err().contains("layrs"));
    }

    #[test]
    fn the_random_label_run_keeps_the_recipe_and_drops_augmentation_and_early_stopping() {
        let train = TrainConfig::default();
        let sanity = SanityConfig {
            random_labels_epochs: 7,
            ..SanityConfig::default()
        };
        let tc = sanity.random_labels_train(&train);
        assert_eq!(
            (tc.epochs, tc.patience, tc.crop_padding, tc.horizontal_flip),
            (7, 0, 0, false)
        );
        assert_eq!(tc.learning_rate, train.learning_rate);
        assert_eq!(tc.optimizer, train.optimizer);
        assert_eq!(tc.seed, sanity.seed);
        assert_ne!(tc.seed, train.seed, "the test must change something");
    }

    #[test]
    fn the_random_label_keys_replace_the_recipe_and_only_those_values() {
        let train = TrainConfig::default();
        let sanity = SanityConfig {
            random_labels_optimizer: Some(OptimizerKind::Adam),
            random_labels_learning_rate: Some(1e-3),
            random_labels_dropout: Some(0.0),
            random_labels_weight_decay: Some(0.0),
            ..SanityConfig::default()
        };
        let tc = sanity.random_labels_train(&train);
        assert_eq!(tc.optimizer, OptimizerKind::Adam);
        assert_eq!(
            (tc.learning_rate, tc.dropout, tc.weight_decay),
            (1e-3, 0.0, 0.0)
        );
        assert_eq!(
            (tc.batch_size, tc.schedule, tc.momentum),
            (train.batch_size, train.schedule, train.momentum)
        );
        assert_ne!(
            train.optimizer,
            OptimizerKind::Adam,
            "the test must change something"
        );
    }
}
