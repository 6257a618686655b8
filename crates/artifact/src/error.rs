//! Errors of reading and writing artifacts. Every variant names the file.

use std::path::PathBuf;

/// What went wrong with an artifact file.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// Reading, writing or renaming failed (the message of `fs_err` names the file).
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// The file is not valid safetensors (truncated, corrupt, not safetensors at all).
    #[error("{path}: not a valid safetensors file: {message}")]
    Parse { path: PathBuf, message: String },

    /// The file has no `sal` metadata (it was not written by sal or by a tool following its contract).
    #[error("{path}: no `sal` entry in the safetensors __metadata__; this file does not follow the sal artifact contract (see docs/artifacts.md)")]
    NoMetadata { path: PathBuf },

    /// The `sal` metadata is not the JSON object the contract describes.
    #[error("{path}: the `sal` metadata is not valid: {message}")]
    BadMetadata { path: PathBuf, message: String },

    /// The file holds another kind of artifact, or another version of this kind.
    #[error("{path}: expected schema `{expected}`, found `{found}`")]
    WrongSchema {
        path: PathBuf,
        expected: String,
        found: String,
    },

    /// A tensor the contract requires is absent.
    #[error("{path}: missing tensor `{name}`")]
    MissingTensor { path: PathBuf, name: String },

    /// A tensor has another dtype than the contract says.
    #[error("{path}: tensor `{name}` has dtype {found}, expected {expected}")]
    WrongDtype {
        path: PathBuf,
        name: String,
        expected: String,
        found: String,
    },

    /// A tensor has another shape than the contract says.
    #[error("{path}: tensor `{name}` has shape {found:?}, expected {expected}")]
    WrongShape {
        path: PathBuf,
        name: String,
        expected: String,
        found: Vec<usize>,
    },

    /// A float tensor holds a NaN or an infinity where the contract forbids it.
    #[error("{path}: tensor `{name}` holds a non-finite value ({value}) at flat index {index}")]
    NonFinite {
        path: PathBuf,
        name: String,
        index: usize,
        value: f64,
    },

    /// The tensors are well-formed but their content breaks the contract (a label out of
    /// range, overlapping splits, a non-positive standard deviation...).
    #[error("{path}: {message}")]
    BadContent { path: PathBuf, message: String },

    /// A tensor given to the writer has a length that does not match its shape.
    #[error("tensor `{name}`: {len} elements do not fill shape {shape:?}")]
    LengthMismatch {
        name: String,
        len: usize,
        shape: Vec<usize>,
    },

    /// The same tensor name was added twice to one writer.
    #[error("tensor `{name}` added twice")]
    DuplicateTensor { name: String },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, ArtifactError>;
