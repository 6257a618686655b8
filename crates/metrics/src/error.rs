//! Errors of the metrics crate. Variants about a file name it.

use std::path::PathBuf;

/// What went wrong computing, checkpointing, sharding or merging metrics.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// Reading or writing an artifact failed (the message names the file and the tensor).
    #[error(transparent)]
    Artifact(#[from] sal_artifact::ArtifactError),

    /// A file could not be read or written (the message of `fs_err` names it).
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// The model failed (loading it or running it).
    #[error(transparent)]
    Model(#[from] sal_model::ModelError),

    /// Orderings, fills or perturbed inputs could not be built.
    #[error(transparent)]
    Perturbation(#[from] sal_perturbation::PerturbationError),

    /// The `[metrics]` section is invalid.
    #[error("[metrics] {0}")]
    Config(String),

    /// An input artifact is readable but its content cannot be used.
    #[error("{path}: {message}")]
    BadInput { path: PathBuf, message: String },

    /// The model's class for an image is not the one the saliency maps explain.
    #[error(
        "test image {image_index}: the model predicts class {model} but saliency.safetensors says {saliency}; \
         the saliency maps were computed with another model or data set"
    )]
    PredictionMismatch {
        image_index: u32,
        saliency: u8,
        model: usize,
    },

    /// A buffer or curve has the wrong number of values for the shape it must have.
    #[error("{what}: expected {expected} values ({shape}), got {found}")]
    BadLength {
        what: String,
        expected: usize,
        found: usize,
        shape: String,
    },

    /// AOPC_L asked for more steps than a curve has.
    #[error("AOPC_{steps} needs a curve of at least {needed} values, got {len}", needed = .steps + 1)]
    StepsOutOfRange { steps: usize, len: usize },

    /// `--shard I/N` is malformed or out of range.
    #[error("shard `{spec}`: {message} (expected I/N with 0 <= I < N, e.g. 0/8)")]
    BadShard { spec: String, message: String },

    /// Shard files that do not belong together, or do not cover every image once.
    #[error("{path}: cannot merge: {message}")]
    Merge { path: PathBuf, message: String },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, MetricsError>;

/// Checks that a buffer has exactly `expected` values.
pub(crate) fn check_len(
    what: &str,
    found: usize,
    expected: usize,
    shape: impl FnOnce() -> String,
) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(MetricsError::BadLength {
            what: what.to_owned(),
            expected,
            found,
            shape: shape(),
        })
    }
}
