//! Errors of the sanity crate. Every variant names what was wrong: the file, the step, the
//! method or the value.

use std::path::PathBuf;

/// What went wrong running the randomisation checks.
#[derive(Debug, thiserror::Error)]
pub enum SanityError {
    /// Reading or writing an artifact failed (the message names the file and the tensor).
    #[error(transparent)]
    Artifact(#[from] sal_artifact::ArtifactError),

    /// A file or folder could not be created or read (the message names it).
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// Loading, running or training the model failed.
    #[error(transparent)]
    Model(#[from] sal_model::ModelError),

    /// Computing saliency maps failed.
    #[error(transparent)]
    Attribution(#[from] sal_attribution::AttributionError),

    /// Scoring maps with the metrics failed.
    #[error(transparent)]
    Metrics(#[from] sal_metrics::MetricsError),

    /// A statistic could not be computed.
    #[error(transparent)]
    Stats(#[from] sal_psychometrics::StatsError),

    /// The `[sanity]` section is invalid.
    #[error("[sanity] {0}")]
    Config(String),

    /// An input artifact holds something the stage cannot use.
    #[error("{path}: {message}")]
    BadInput { path: PathBuf, message: String },

    /// A layer name that is not one of the network's.
    #[error("unknown layer {0:?}")]
    UnknownLayer(String),

    /// The built-in control failed: the model-free edge maps changed with the model, or their
    /// similarity to the trained model's is not 1.
    #[error("edge control failed at step {step}: {message} (the edge baseline does not read the model, so its maps must not change)")]
    EdgeControl { step: String, message: String },

    /// A buffer has the wrong length for its shape.
    #[error("{what}: expected {expected} values ({shape}), got {found}")]
    BadLength {
        what: String,
        expected: usize,
        found: usize,
        shape: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, SanityError>;

/// An error unless `found == expected`.
pub(crate) fn check_len(
    what: &str,
    found: usize,
    expected: usize,
    shape: impl FnOnce() -> String,
) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(SanityError::BadLength {
            what: what.to_owned(),
            expected,
            found,
            shape: shape(),
        })
    }
}
