//! The stage folders the report reads.

use std::path::{Path, PathBuf};

use sal_artifact::Kind;
use sal_config::Stage;

use crate::variants::VariantInput;

/// The artifact folders of the stages before `report` (what `sal report` gets as
/// `--data DIR --train DIR --attribute DIR --metrics DIR --stats DIR --sanity DIR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportInputs {
    /// Holds `dataset.safetensors`.
    pub data: PathBuf,
    /// Holds `model.safetensors` and `training_log.safetensors`.
    pub train: PathBuf,
    /// Holds `saliency.safetensors`.
    pub attribute: PathBuf,
    /// Holds `metrics.safetensors`.
    pub metrics: PathBuf,
    /// Holds `stats.json` and `stats.safetensors`.
    pub stats: PathBuf,
    /// Holds `sanity.json` and `sanity.safetensors`; without it the report has no sanity
    /// section (the pipeline always passes it; `cargo xtask regress` does not).
    pub sanity: Option<PathBuf>,
    /// Variants of this run's protocol shown in "What moves the numbers" (`--variant NAME=DIR`
    /// and `--variant-missing NAME=CONFIG`, in the config's order); none: no such section.
    pub variants: Vec<VariantInput>,
}

/// The file name of the stats stage's JSON summary.
pub const STATS_JSON: &str = "stats.json";

impl ReportInputs {
    /// The five input stages before `sanity` with their folders, in pipeline order.
    pub fn stages(&self) -> [(Stage, &Path); 5] {
        [
            (Stage::Data, &self.data),
            (Stage::Train, &self.train),
            (Stage::Attribute, &self.attribute),
            (Stage::Metrics, &self.metrics),
            (Stage::Stats, &self.stats),
        ]
    }

    /// `<data>/dataset.safetensors`
    pub fn dataset(&self) -> PathBuf {
        self.data.join(Kind::Dataset.file_name())
    }

    /// `<train>/model.safetensors`
    pub fn model(&self) -> PathBuf {
        self.train.join(Kind::Model.file_name())
    }

    /// `<train>/training_log.safetensors`
    pub fn training_log(&self) -> PathBuf {
        self.train.join(Kind::TrainingLog.file_name())
    }

    /// `<attribute>/saliency.safetensors`
    pub fn saliency(&self) -> PathBuf {
        self.attribute.join(Kind::Saliency.file_name())
    }

    /// `<metrics>/metrics.safetensors`
    pub fn metrics(&self) -> PathBuf {
        self.metrics.join(Kind::Metrics.file_name())
    }

    /// `<stats>/stats.json`
    pub fn stats_json(&self) -> PathBuf {
        self.stats.join(STATS_JSON)
    }
}
