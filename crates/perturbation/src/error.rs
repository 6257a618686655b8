//! Errors of the perturbation crate.

/// What went wrong building orderings, fills or perturbed images.
#[derive(Debug, thiserror::Error)]
pub enum PerturbationError {
    /// A fill name that no registered fill has.
    #[error("unknown fill `{name}`; known fills: {known}")]
    UnknownFill { name: String, known: String },

    /// `[metrics] uniform_draws` names no known way of drawing.
    #[error("uniform_draws = {name:?}: must be \"paired\" or \"independent\"")]
    UnknownDraws { name: String },

    /// A buffer has the wrong number of values for the shape it must have.
    #[error("{what}: expected {expected} values ({shape}), got {found}")]
    BadLength {
        what: String,
        expected: usize,
        found: usize,
        shape: String,
    },

    /// A relevance map holds a NaN or an infinity, which has no place in an ordering.
    #[error("relevance of pixel {pixel} is {value}: orderings need finite relevance")]
    NonFiniteRelevance { pixel: usize, value: f32 },

    /// A pixel id, step range or count outside what an image has.
    #[error("{what} = {value} is out of range (at most {max})")]
    OutOfRange {
        what: String,
        value: usize,
        max: usize,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, PerturbationError>;

/// Checks that a buffer has exactly `expected` values.
pub(crate) fn check_len(what: &str, found: usize, expected: usize, shape: &str) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(PerturbationError::BadLength {
            what: what.to_owned(),
            expected,
            found,
            shape: shape.to_owned(),
        })
    }
}
