//! Errors of the attribution crate. Every variant names what was wrong: the file, the method,
//! the image or the shape.

use std::path::PathBuf;

/// What went wrong computing saliency maps or running the `attribute` stage.
#[derive(Debug, thiserror::Error)]
pub enum AttributionError {
    /// Reading or writing an artifact failed (the message names the file and the tensor).
    #[error(transparent)]
    Artifact(#[from] sal_artifact::ArtifactError),

    /// A file or folder could not be created or read (the message names it).
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// Loading or running the model failed.
    #[error(transparent)]
    Model(#[from] sal_model::ModelError),

    /// A candle operation of a method's candle path failed (on the configured device).
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),

    /// A configured method name is not registered.
    #[error("unknown saliency method {name:?}; known methods: {known}")]
    UnknownMethod { name: String, known: String },

    /// The `[attribute]` section is invalid.
    #[error("[attribute] {0}")]
    Config(String),

    /// A saliency map holds a NaN or an infinity.
    #[error("method {method}: non-finite relevance {value} for test image {image} at pixel {pixel} (row {row}, col {col})", row = pixel / 32, col = pixel % 32)]
    NonFinite {
        method: String,
        image: u32,
        pixel: usize,
        value: f32,
    },

    /// An input artifact holds values the stage cannot use (wrong class labels, too few images).
    #[error("{path}: {message}")]
    BadInput { path: PathBuf, message: String },

    /// A buffer has the wrong length for the shape it must have.
    #[error("{what}: expected {expected} values ({shape}), got {found}")]
    BadLength {
        what: String,
        expected: usize,
        found: usize,
        shape: String,
    },

    /// A requested background or selection is larger than what it is drawn from.
    #[error("{what}: asked for {wanted}, only {available} available")]
    TooMany {
        what: String,
        wanted: usize,
        available: usize,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, AttributionError>;

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
        Err(AttributionError::BadLength {
            what: what.to_owned(),
            expected,
            found,
            shape: shape(),
        })
    }
}
