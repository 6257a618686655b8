//! The pipeline stages, in order, and what each reads.

use serde::{Deserialize, Serialize};

/// A pipeline stage. Each writes one folder of artifacts under `artifacts/<stage>/<key>/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// CIFAR-10 batches -> `dataset.safetensors`.
    Data,
    /// dataset -> `model.safetensors`, `training_log.safetensors`.
    Train,
    /// dataset, model -> `saliency.safetensors`.
    Attribute,
    /// dataset, model, saliency -> `metrics.safetensors`.
    Metrics,
    /// saliency, metrics -> `stats.safetensors`, `stats.json`.
    Stats,
    /// dataset, model, saliency, metrics -> `sanity.safetensors`, `sanity.json`.
    Sanity,
    /// everything -> `report/`.
    Report,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 7] = [
        Stage::Data,
        Stage::Train,
        Stage::Attribute,
        Stage::Metrics,
        Stage::Stats,
        Stage::Sanity,
        Stage::Report,
    ];

    /// The stage name used on the command line, in folders and in metadata.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Data => "data",
            Stage::Train => "train",
            Stage::Attribute => "attribute",
            Stage::Metrics => "metrics",
            Stage::Stats => "stats",
            Stage::Sanity => "sanity",
            Stage::Report => "report",
        }
    }

    /// The stage of this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The stages whose artifacts this stage reads, in pipeline order. Each is passed to
    /// `sal <stage>` as `--<input-stage> <folder>`.
    pub fn inputs(self) -> &'static [Stage] {
        match self {
            Stage::Data => &[],
            Stage::Train => &[Stage::Data],
            Stage::Attribute => &[Stage::Data, Stage::Train],
            Stage::Metrics => &[Stage::Data, Stage::Train, Stage::Attribute],
            Stage::Stats => &[Stage::Attribute, Stage::Metrics],
            Stage::Sanity => &[Stage::Data, Stage::Train, Stage::Attribute, Stage::Metrics],
            Stage::Report => &[
                Stage::Data,
                Stage::Train,
                Stage::Attribute,
                Stage::Metrics,
                Stage::Stats,
                Stage::Sanity,
            ],
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
