//! What the report takes from the `train` stage: the model's recorded facts and its training log.

use std::collections::BTreeMap;
use std::path::Path;

use sal_artifact::{names::model as names, Artifact, Kind};
use serde_json::Value;

use crate::error::Result;

/// The model's metadata and, when present, its per-epoch training log.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainInfo {
    /// Kind-specific metadata of `model.safetensors` (accuracies, epochs, ...), without the
    /// architecture, which is kept apart.
    pub facts: BTreeMap<String, Value>,
    /// The `architecture` metadata field.
    pub architecture: Option<Value>,
    /// `training_log.safetensors`, if the folder holds one.
    pub log: Option<TrainingLog>,
}

/// Per-epoch values of `training_log.safetensors`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingLog {
    /// Mean training loss per epoch.
    pub train_loss: Vec<f32>,
    /// Training accuracy per epoch.
    pub train_accuracy: Vec<f32>,
    /// Validation accuracy per epoch.
    pub val_accuracy: Vec<f32>,
}

impl TrainInfo {
    /// Reads the metadata of `model` and, if `log` exists, the training log.
    pub fn load(model: &Path, log: &Path) -> Result<Self> {
        let artifact = Artifact::open(model, Kind::Model)?;
        let mut facts = artifact.meta().extra.clone();
        let architecture = facts.remove("architecture");
        let log = if log.is_file() {
            Some(TrainingLog::load(log)?)
        } else {
            None
        };
        Ok(TrainInfo {
            facts,
            architecture,
            log,
        })
    }

    /// The recorded test accuracy (`test_accuracy`, a fraction in 0..1), if any.
    pub fn test_accuracy(&self) -> Option<f64> {
        self.facts.get("test_accuracy").and_then(Value::as_f64)
    }

    /// The recorded share of all test images predicted with confidence >= 0.99
    /// (`test_confident_share`, a fraction in 0..1), if the model records it.
    pub fn test_confident_share(&self) -> Option<f64> {
        self.facts
            .get("test_confident_share")
            .and_then(Value::as_f64)
    }
}

impl TrainingLog {
    /// Reads `training_log.safetensors`; the three tensors must have the same length.
    pub fn load(path: &Path) -> Result<Self> {
        let artifact = Artifact::open(path, Kind::TrainingLog)?;
        let (shape, train_loss) = artifact.read_dims::<f32>(names::LOG_TRAIN_LOSS, &[None])?;
        let train_accuracy = artifact.read(names::LOG_TRAIN_ACCURACY, &shape)?;
        let val_accuracy = artifact.read(names::LOG_VAL_ACCURACY, &shape)?;
        Ok(TrainingLog {
            train_loss,
            train_accuracy,
            val_accuracy,
        })
    }
}
