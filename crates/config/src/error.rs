//! Errors of loading a config file.

use std::path::PathBuf;

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read (the message names it).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Not valid TOML, a wrong type, or an unknown key.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// Parsed, but a value is out of range or inconsistent.
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}
