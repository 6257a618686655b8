//! Levels of measurement, which choose Krippendorff's difference function.

use std::fmt;
use std::str::FromStr;

use crate::error::StatsError;

/// The level of measurement of the values being coded (Krippendorff 2011, section E).
///
/// It fixes the squared difference `delta^2(c, k)` between two values `c` and `k`:
/// - `Nominal`: 0 if `c == k`, else 1;
/// - `Ordinal`: `(sum_{g=c..k} n_g - (n_c + n_k) / 2)^2`, with `n_g` the number of pairable
///   values equal to `g` (ranks by frequency, so it depends on the data, not on the numbers);
/// - `Interval`: `(c - k)^2`;
/// - `Ratio`: `((c - k) / (c + k))^2`, for values `>= 0` (0 when `c = k = 0`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Categories without order.
    Nominal,
    /// Ordered categories; only the order counts.
    Ordinal,
    /// Numbers whose differences count.
    Interval,
    /// Non-negative numbers whose ratios count.
    Ratio,
}

impl Level {
    /// Every level.
    pub const ALL: [Level; 4] = [
        Level::Nominal,
        Level::Ordinal,
        Level::Interval,
        Level::Ratio,
    ];

    /// The lowercase name (`nominal`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Level::Nominal => "nominal",
            Level::Ordinal => "ordinal",
            Level::Interval => "interval",
            Level::Ratio => "ratio",
        }
    }
}

impl FromStr for Level {
    type Err = StatsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| StatsError::UnknownLevel(s.to_owned()))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for level in Level::ALL {
            assert_eq!(level.name().parse::<Level>().unwrap(), level);
        }
        let err = "ordinall".parse::<Level>().unwrap_err().to_string();
        assert!(err.contains("ordinall"), "{err}");
    }
}
