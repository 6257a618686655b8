//! Artifact kinds and their schema versions.

/// The kinds of artifact files, each with its own schema version.
///
/// Bump a version whenever the tensors or the metadata of that kind change meaning; readers
/// refuse any other version, and the version enters every cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `dataset.safetensors`, written by the `data` stage.
    Dataset,
    /// `model.safetensors`, written by the `train` stage.
    Model,
    /// `training_log.safetensors`, written by the `train` stage.
    TrainingLog,
    /// `saliency.safetensors`, written by the `attribute` stage.
    Saliency,
    /// `metrics.safetensors`, written by the `metrics` stage (and each of its shards).
    Metrics,
    /// `stats.safetensors`, written by the `stats` stage.
    Stats,
    /// `sanity.safetensors`, written by the `sanity` stage.
    Sanity,
}

impl Kind {
    /// Every kind, in pipeline order.
    pub const ALL: [Kind; 7] = [
        Kind::Dataset,
        Kind::Model,
        Kind::TrainingLog,
        Kind::Saliency,
        Kind::Metrics,
        Kind::Stats,
        Kind::Sanity,
    ];

    /// The schema name, e.g. `dataset`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Dataset => "dataset",
            Kind::Model => "model",
            Kind::TrainingLog => "training_log",
            Kind::Saliency => "saliency",
            Kind::Metrics => "metrics",
            Kind::Stats => "stats",
            Kind::Sanity => "sanity",
        }
    }

    /// The schema version of this kind.
    pub fn version(self) -> u32 {
        match self {
            Kind::Dataset => 1,
            Kind::Model => 1,
            Kind::TrainingLog => 1,
            Kind::Saliency => 1,
            Kind::Metrics => 2,
            Kind::Stats => 3,
            Kind::Sanity => 1,
        }
    }

    /// `<name>/<version>`, the value of the `schema` metadata field.
    pub fn schema(self) -> String {
        format!("{}/{}", self.name(), self.version())
    }

    /// The conventional file name, e.g. `dataset.safetensors`.
    pub fn file_name(self) -> String {
        format!("{}.safetensors", self.name())
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.schema())
    }
}
