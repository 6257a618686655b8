//! Errors of the model crate.

use std::path::PathBuf;

/// What went wrong building, loading, running or training the model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Reading or writing an artifact failed (the message names the file and the tensor).
    #[error(transparent)]
    Artifact(#[from] sal_artifact::ArtifactError),
    /// A file could not be read or written (the message names it).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// candle failed.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// The `architecture` metadata of a model file is missing or malformed.
    #[error("{path}: bad `architecture` metadata: {message}")]
    BadArchitecture { path: PathBuf, message: String },
    /// A buffer given to the model has the wrong length for the shape it must have.
    #[error("{what}: expected {expected} values ({shape}), got {found}")]
    BadLength {
        what: String,
        expected: usize,
        found: usize,
        shape: String,
    },
    /// A pixel id is not one of the image's 1024 pixels.
    #[error("pixel id {pixel} out of range (an image has 1024 pixels, ids 0..1024)")]
    BadPixel { pixel: usize },
    /// A class index is out of range.
    #[error("class index {class} out of range (the model has {classes} classes)")]
    BadClass { class: usize, classes: usize },
    /// The configured device does not exist or this build lacks its feature.
    #[error("device {device:?} is not available: {reason}")]
    Device { device: String, reason: String },
    /// A recording of the fast network does not fit the network or the call.
    #[error("bad recording: {message}")]
    BadRecording { message: String },
    /// A value became NaN or infinite (e.g. training diverged).
    #[error("non-finite value in {what}")]
    NonFinite { what: String },
    /// A training checkpoint is unusable.
    #[error("{path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    /// The configuration asks for something this build or this data cannot do.
    #[error("[train] {key}: {message}")]
    Config { key: String, message: String },
    /// Training stopped after an epoch because the caller asked (`stop_after_epoch`); the
    /// checkpoint in the output folder lets a later run continue.
    #[error(
        "training stopped after epoch {epoch} as requested; the checkpoint is kept for resuming"
    )]
    Stopped { epoch: usize },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, ModelError>;

/// Checks that a buffer has exactly `expected` values.
pub fn check_len(
    what: &str,
    found: usize,
    expected: usize,
    shape: impl FnOnce() -> String,
) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(ModelError::BadLength {
            what: what.to_owned(),
            expected,
            found,
            shape: shape(),
        })
    }
}
