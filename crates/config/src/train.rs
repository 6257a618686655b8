//! `[train]`: the model architecture and how it is trained.

use serde::{Deserialize, Serialize};

/// `[train]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Seed of weight initialisation, shuffling, dropout and augmentation.
    pub seed: u64,
    /// `cpu`, `cuda:N` or `metal`. A device that is not available is an error.
    pub device: String,
    /// Conv widths: block1.conv1, block1.conv2, block2.conv1, ..., block3.conv2.
    pub widths: [usize; 6],
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// L2 weight decay on conv and linear weights.
    pub weight_decay: f64,
    /// Dropout probability before the classifier.
    pub dropout: f64,
    /// Early stopping: epochs without a better validation accuracy before stopping.
    pub patience: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 1,
            device: "cpu".to_owned(),
            widths: [32, 32, 64, 64, 128, 128],
            epochs: 30,
            batch_size: 128,
            learning_rate: 1e-3,
            weight_decay: 5e-4,
            dropout: 0.5,
            patience: 5,
        }
    }
}

impl TrainConfig {
    /// Checks values.
    pub fn validate(&self) -> Result<(), String> {
        if self.widths.contains(&0) {
            return Err(format!("widths = {:?}: every width must be at least 1", self.widths));
        }
        if self.epochs == 0 {
            return Err("epochs = 0: at least one epoch is needed".to_owned());
        }
        if self.batch_size == 0 {
            return Err("batch_size = 0: must be at least 1".to_owned());
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(format!("learning_rate = {}: must be positive and finite", self.learning_rate));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(format!("weight_decay = {}: must be >= 0 and finite", self.weight_decay));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout = {}: must be in [0, 1)", self.dropout));
        }
        let device_ok = self.device == "cpu"
            || self.device == "metal"
            || self.device.strip_prefix("cuda:").is_some_and(|n| n.parse::<usize>().is_ok());
        if !device_ok {
            return Err(format!("device = {:?}: expected \"cpu\", \"cuda:N\" or \"metal\"", self.device));
        }
        Ok(())
    }
}
