//! Errors of the report stage. Every variant names the file, figure or value that was wrong.

use std::path::PathBuf;

use sal_artifact::ArtifactError;

/// What went wrong while writing the report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// An input artifact is missing, malformed or does not follow its schema.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),

    /// Reading or writing a file failed (the message of `fs_err` names the file).
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// A JSON input (`stats.json`, `key.json`) is not what its contract describes.
    #[error("{path}: {message}")]
    BadJson { path: PathBuf, message: String },

    /// Two inputs disagree (for example their image indices), or one contradicts itself.
    #[error("{path}: {message}")]
    Inconsistent { path: PathBuf, message: String },

    /// An input lacks something the report needs to draw a figure or a table.
    #[error("{path}: {message}")]
    Missing { path: PathBuf, message: String },

    /// The bundled paper values (`data/paper_values.json`) do not parse.
    #[error("data/paper_values.json: {0}")]
    PaperValues(String),

    /// Drawing a figure failed.
    #[error("figure `{figure}`: {message}")]
    Plot { figure: String, message: String },

    /// Encoding a PNG failed.
    #[error("encoding `{name}` as PNG: {message}")]
    Png { name: String, message: String },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, ReportError>;
