//! Errors of the psychometrics crate. Every variant carries what was wrong: the shape, the
//! value, the file or the tensor.

use std::path::PathBuf;

/// What went wrong computing a statistic or running the `stats` stage.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// Reading or writing an artifact failed (the message names the file and the tensor).
    #[error(transparent)]
    Artifact(#[from] sal_artifact::ArtifactError),

    /// A file or folder could not be read or created (the message names it).
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// A flat buffer does not fill the shape it is said to have.
    #[error("{what}: {len} values do not fill shape {shape:?}")]
    Shape {
        what: String,
        len: usize,
        shape: Vec<usize>,
    },

    /// Two inputs that must have the same length do not.
    #[error("{what}: lengths {left} and {right} differ")]
    LengthMismatch {
        what: String,
        left: usize,
        right: usize,
    },

    /// A measurement level name that is not nominal, ordinal, interval or ratio.
    #[error("unknown level of measurement {0:?}: expected nominal, ordinal, interval or ratio")]
    UnknownLevel(String),

    /// An infinite value where only finite values or NaN (missing) are allowed.
    #[error("{what}: non-finite value {value} at flat index {index} (NaN marks a missing value; infinities are not allowed)")]
    Infinite {
        what: String,
        index: usize,
        value: f64,
    },

    /// A negative value with the ratio level, whose distance is defined for values >= 0 only.
    #[error("{what}: value {value} at flat index {index} is negative; the ratio level needs values >= 0")]
    NegativeRatio {
        what: String,
        index: usize,
        value: f64,
    },

    /// A confidence level outside (0, 1).
    #[error("confidence level {0} is not in (0, 1)")]
    BadCiLevel(f64),

    /// Too many units to rank with the fast rank table.
    #[error("{units} units: the rank table holds at most {max}")]
    TooManyUnits { units: usize, max: usize },

    /// A user's tensor file is not valid safetensors.
    #[error("{path}: not a valid safetensors file: {message}")]
    TensorParse { path: PathBuf, message: String },

    /// A user's tensor file has no tensor of that name; lists the names present.
    #[error("{path}: no tensor `{name}` (tensors: {available})")]
    TensorMissing {
        path: PathBuf,
        name: String,
        available: String,
    },

    /// A tensor whose dtype is not a real number type.
    #[error("{path}: tensor `{name}` has dtype {dtype}; expected a float (f64, f32, f16, bf16) or integer type")]
    TensorDtype {
        path: PathBuf,
        name: String,
        dtype: String,
    },

    /// A tensor with another number of dimensions than required.
    #[error("{path}: tensor `{name}` has shape {shape:?}; expected {expected} dimension(s)")]
    TensorRank {
        path: PathBuf,
        name: String,
        shape: Vec<usize>,
        expected: usize,
    },

    /// The `[stats]` section is invalid.
    #[error("[stats] {0}")]
    Config(String),

    /// An input artifact holds values the stage cannot use.
    #[error("{path}: {message}")]
    BadInput { path: PathBuf, message: String },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, StatsError>;

/// Checks that a flat buffer of `len` values fills `shape`.
pub(crate) fn check_shape(what: &str, len: usize, shape: &[usize]) -> Result<()> {
    if len == shape.iter().product::<usize>() {
        Ok(())
    } else {
        Err(StatsError::Shape {
            what: what.to_owned(),
            len,
            shape: shape.to_vec(),
        })
    }
}
