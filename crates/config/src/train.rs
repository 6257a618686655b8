//! `[train]`: the model architecture and how it is trained.

use serde::{Deserialize, Serialize};

/// Which code computes the training steps (the backend shared with `[attribute]` and
/// `[metrics]`).
pub use crate::device::Backend as TrainBackendKind;

/// The optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Stochastic gradient descent with (optionally Nesterov) momentum, as PyTorch's `SGD`.
    Sgd,
    /// Adam (beta1 0.9, beta2 0.999, eps 1e-8) with L2 weight decay added to the gradient, as
    /// PyTorch's `Adam(weight_decay=...)` (not AdamW).
    Adam,
}

/// The learning-rate schedule, applied per step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// Linear warm-up over `warmup_epochs`, then constant.
    Constant,
    /// Linear warm-up over `warmup_epochs`, then cosine decay to 0 at the end of `epochs`.
    Cosine,
}

/// `[train]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Seed of weight initialisation, shuffling, dropout and augmentation.
    pub seed: u64,
    /// `cpu`, `cuda:N` or `metal`. A device that is not available is an error.
    pub device: String,
    /// `auto` (fast kernels on the CPU, candle elsewhere), `fast` or `candle`.
    pub backend: TrainBackendKind,
    /// Conv widths: block1.conv1, block1.conv2, block2.conv1, ..., block3.conv2.
    pub widths: [usize; 6],
    /// Maximum number of epochs (also the length of the cosine schedule).
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// `sgd` or `adam`.
    pub optimizer: OptimizerKind,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// SGD momentum (ignored by Adam).
    pub momentum: f64,
    /// Nesterov momentum for SGD (ignored by Adam).
    pub nesterov: bool,
    /// `cosine` or `constant` (both after the warm-up).
    pub schedule: ScheduleKind,
    /// Epochs (may be fractional) of linear learning-rate warm-up from 0 to `learning_rate`.
    pub warmup_epochs: f64,
    /// L2 weight decay on conv and linear weights (not on BatchNorm parameters).
    pub weight_decay: f64,
    /// Dropout probability before the classifier.
    pub dropout: f64,
    /// Early stopping: epochs without a better validation accuracy before stopping; 0 turns
    /// early stopping off. The model of the best validation epoch is kept either way.
    pub patience: usize,
    /// Augmentation: random crop after zero-padding each side by this many pixels (0 = off).
    pub crop_padding: usize,
    /// Augmentation: flip each training image horizontally with probability 1/2.
    pub horizontal_flip: bool,
    /// Train on only the first this-many images of the training split (tiny configs); all
    /// of them when absent. Validation and test sets are always complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_train_images: Option<usize>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 1,
            device: "cpu".to_owned(),
            backend: TrainBackendKind::Auto,
            widths: [32, 32, 64, 64, 128, 128],
            epochs: 30,
            batch_size: 128,
            optimizer: OptimizerKind::Sgd,
            learning_rate: 0.05,
            momentum: 0.9,
            nesterov: true,
            schedule: ScheduleKind::Cosine,
            warmup_epochs: 1.0,
            weight_decay: 5e-4,
            dropout: 0.5,
            patience: 5,
            crop_padding: 4,
            horizontal_flip: true,
            max_train_images: None,
        }
    }
}

impl TrainConfig {
    /// Checks values; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.widths.contains(&0) {
            return Err(format!(
                "widths = {:?}: every width must be at least 1",
                self.widths
            ));
        }
        if self.epochs == 0 {
            return Err("epochs = 0: at least one epoch is needed".to_owned());
        }
        if self.batch_size < 2 {
            return Err(format!(
                "batch_size = {}: must be at least 2 (BatchNorm needs two images per batch)",
                self.batch_size
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(format!(
                "learning_rate = {}: must be positive and finite",
                self.learning_rate
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(format!("momentum = {}: must be in [0, 1)", self.momentum));
        }
        if !(self.warmup_epochs >= 0.0 && self.warmup_epochs <= self.epochs as f64) {
            return Err(format!(
                "warmup_epochs = {}: must be in [0, epochs = {}]",
                self.warmup_epochs, self.epochs
            ));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(format!(
                "weight_decay = {}: must be >= 0 and finite",
                self.weight_decay
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout = {}: must be in [0, 1)", self.dropout));
        }
        if self.crop_padding > 16 {
            return Err(format!(
                "crop_padding = {}: must be at most 16 pixels",
                self.crop_padding
            ));
        }
        if let Some(n) = self.max_train_images {
            if n < 2 {
                return Err(format!("max_train_images = {n}: must be at least 2"));
            }
        }
        crate::device::validate(&self.device, self.backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TrainConfig, String> {
        let config: TrainConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    #[test]
    fn defaults_are_valid_and_keys_parse() {
        TrainConfig::default().validate().unwrap();
        let c = parse(
            "optimizer = \"adam\"\nschedule = \"constant\"\nbackend = \"candle\"\nmax_train_images = 300\n\
             crop_padding = 0\nhorizontal_flip = false\nwarmup_epochs = 0.5\n",
        )
        .unwrap();
        assert_eq!(c.optimizer, OptimizerKind::Adam);
        assert_eq!(c.schedule, ScheduleKind::Constant);
        assert_eq!(c.backend, TrainBackendKind::Candle);
        assert_eq!(c.max_train_images, Some(300));
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("batch_size = 1", "batch_size"),
            ("momentum = 1.0", "momentum"),
            ("epochs = 2\nwarmup_epochs = 3.0", "warmup_epochs"),
            ("dropout = 1.0", "dropout"),
            ("crop_padding = 40", "crop_padding"),
            ("max_train_images = 1", "max_train_images"),
            ("device = \"gpu\"", "device"),
            ("device = \"cuda:0\"\nbackend = \"fast\"", "backend"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(key), "{text}: {err}");
        }
        assert!(parse("optimizer = \"rmsprop\"")
            .unwrap_err()
            .contains("rmsprop"));
    }

    #[test]
    fn absent_max_train_images_stays_out_of_the_json() {
        let json = serde_json::to_value(TrainConfig::default()).unwrap();
        assert!(json.get("max_train_images").is_none());
        assert_eq!(json["optimizer"], "sgd");
        assert_eq!(json["schedule"], "cosine");
    }
}
