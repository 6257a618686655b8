//! Krippendorff's alpha for any reliability data: `[coders, units]`, NaN = missing.
//!
//! `alpha = 1 - D_o / D_e = 1 - (n - 1) sum_ck o_ck delta^2_ck / sum_ck n_c n_k delta^2_ck`,
//! with `o_ck` the coincidence matrix (Krippendorff 2011, "Computing Krippendorff's
//! Alpha-Reliability"): every ordered pair of values `(c, k)` coded in the same unit by two
//! different coders adds `1 / (m_u - 1)`, where `m_u` is the number of values in unit `u`.
//! Units with fewer than two values are not pairable and drop out; `n_c` counts the pairable
//! values equal to `c` and `n` all pairable values.
//!
//! This module never builds the coincidence matrix (whose size is the square of the number of
//! distinct values, unbounded for continuous data). It sums the same quantities per unit:
//! - interval: `sum_{i != j} (x_i - x_j)^2 = 2 m sum_i (x_i - mean)^2` within each unit and over
//!   all pairable values;
//! - ordinal: Krippendorff's rank-frequency distance `sum_{g=c..k} n_g - (n_c + n_k) / 2` equals
//!   `r_k - r_c` with the mid-rank `r_c = (number of pairable values below c) + n_c / 2`, so
//!   ordinal alpha is interval alpha on the mid-ranks;
//! - nominal: `m^2 - sum_c n_uc^2` disagreeing ordered pairs per unit;
//! - ratio: pairs of distinct values within each unit (quadratic in the distinct values).
//!
//! The coincidence-matrix form itself is in [`crate::coincidence`], which the bootstrap of
//! rank data uses; the tests check that both agree.

use crate::bootstrap::Bootstrap;
use crate::error::{check_shape, Result, StatsError};
use crate::level::Level;

/// Krippendorff's alpha and what it was computed from.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Alpha {
    /// `1 - D_o / D_e`; NaN when undefined (no pairable values, or no variation at all so that
    /// `D_e = 0`).
    pub alpha: f64,
    /// Coders (rows) in the data.
    pub coders: usize,
    /// Units (columns) in the data.
    pub units: usize,
    /// Units with at least two values.
    pub pairable_units: usize,
    /// n: values in pairable units.
    pub pairable_values: usize,
    /// D_o, the observed disagreement.
    pub observed: f64,
    /// D_e, the disagreement expected by chance.
    pub expected: f64,
}

impl Alpha {
    /// An alpha from the two disagreement sums (see the module documentation).
    pub(crate) fn from_sums(
        observed_sum: f64,
        expected_sum: f64,
        n: usize,
        coders: usize,
        units: usize,
        pairable_units: usize,
    ) -> Self {
        let nf = n as f64;
        let observed = if n == 0 { f64::NAN } else { observed_sum / nf };
        let expected = if n < 2 {
            f64::NAN
        } else {
            expected_sum / (nf * (nf - 1.0))
        };
        let alpha = if n < 2 || expected_sum <= 0.0 {
            f64::NAN
        } else {
            1.0 - (nf - 1.0) * observed_sum / expected_sum
        };
        Alpha {
            alpha,
            coders,
            units,
            pairable_units,
            pairable_values: n,
            observed,
            expected,
        }
    }
}

/// Krippendorff's alpha of reliability data `data` laid out `[coders, units]` (row = coder,
/// column = unit), NaN marking a missing value.
///
/// Errors on a shape mismatch, an infinite value, or a negative value with [`Level::Ratio`].
///
/// # Shapes
/// `data`: [coders, units], row-major.
pub fn krippendorff_alpha(
    data: &[f64],
    coders: usize,
    units: usize,
    level: Level,
) -> Result<Alpha> {
    check_data(data, coders, units, level)?;
    let rows: Vec<u32> = (0..coders as u32).collect();
    Ok(alpha_of_rows(data, units, &rows, level))
}

/// Bootstrap replicates of Krippendorff's alpha, resampling the coders (rows) with replacement.
///
/// # Shapes
/// `data`: [coders, units]; returns [resamples] (NaN where alpha is undefined on a resample).
pub fn alpha_bootstrap(
    data: &[f64],
    coders: usize,
    units: usize,
    level: Level,
    bootstrap: &Bootstrap,
) -> Result<Vec<f64>> {
    check_data(data, coders, units, level)?;
    Ok(bootstrap.replicate(coders, |rows| alpha_of_rows(data, units, rows, level).alpha))
}

/// Checks the shape and the values of reliability data.
fn check_data(data: &[f64], coders: usize, units: usize, level: Level) -> Result<()> {
    check_shape(
        "reliability data [coders, units]",
        data.len(),
        &[coders, units],
    )?;
    if let Some(index) = data.iter().position(|v| v.is_infinite()) {
        return Err(StatsError::Infinite {
            what: "reliability data".to_owned(),
            index,
            value: data[index],
        });
    }
    if level == Level::Ratio {
        if let Some(index) = data.iter().position(|&v| v < 0.0) {
            return Err(StatsError::NegativeRatio {
                what: "reliability data".to_owned(),
                index,
                value: data[index],
            });
        }
    }
    Ok(())
}

/// Alpha of the coders `rows` (repetitions allowed) of checked data.
///
/// # Shapes
/// `data`: [coders, units]; `rows`: [r] coder indices.
fn alpha_of_rows(data: &[f64], units: usize, rows: &[u32], level: Level) -> Alpha {
    // The values of each pairable unit, stored unit after unit.
    let mut values = Vec::with_capacity(rows.len() * units);
    let mut bounds = Vec::with_capacity(units + 1);
    bounds.push(0);
    for u in 0..units {
        let start = values.len();
        values.extend(
            rows.iter()
                .map(|&r| data[r as usize * units + u])
                .filter(|v| !v.is_nan()),
        );
        if values.len() - start < 2 {
            values.truncate(start);
        } else {
            bounds.push(values.len());
        }
    }
    let pairable_units = bounds.len() - 1;
    let n = values.len();
    let unit_slices = || bounds.windows(2).map(|w| &values[w[0]..w[1]]);
    let (observed_sum, expected_sum) = match level {
        Level::Nominal => {
            let mut scratch = Vec::new();
            let observed = unit_slices()
                .map(|u| nominal_disagreeing_pairs(u, &mut scratch) / (u.len() - 1) as f64)
                .sum();
            (observed, nominal_disagreeing_pairs(&values, &mut scratch))
        }
        Level::Interval => squared_difference_sums(unit_slices(), &values),
        Level::Ordinal => {
            let midranks = midranks_of(&values);
            let ranked: Vec<f64> = values.iter().map(|v| midrank(&midranks, *v)).collect();
            let ranked_units = bounds.windows(2).map(|w| &ranked[w[0]..w[1]]);
            squared_difference_sums(ranked_units, &ranked)
        }
        Level::Ratio => {
            let observed = unit_slices()
                .map(|u| ratio_pair_sum(&distinct_counts(u)) / (u.len() - 1) as f64)
                .sum();
            (observed, ratio_pair_sum(&distinct_counts(&values)))
        }
    };
    Alpha::from_sums(
        observed_sum,
        expected_sum,
        n,
        rows.len(),
        units,
        pairable_units,
    )
}

/// Ordered pairs `(i, j)`, `i != j`, of different values: `m^2 - sum_c n_c^2`.
fn nominal_disagreeing_pairs(values: &[f64], scratch: &mut Vec<f64>) -> f64 {
    scratch.clear();
    scratch.extend_from_slice(values);
    scratch.sort_by(f64::total_cmp);
    let m = values.len() as f64;
    let same: f64 = runs(scratch).map(|(_, c)| (c as f64) * (c as f64)).sum();
    m * m - same
}

/// `(sum over units of 2 m_u SS_u / (m_u - 1), 2 n SS_all)`: the interval disagreement sums,
/// with `SS` the sum of squared deviations from the mean.
fn squared_difference_sums<'a>(units: impl Iterator<Item = &'a [f64]>, all: &[f64]) -> (f64, f64) {
    let observed = units
        .map(|u| 2.0 * u.len() as f64 * sum_squared_deviations(u) / (u.len() - 1) as f64)
        .sum();
    (
        observed,
        2.0 * all.len() as f64 * sum_squared_deviations(all),
    )
}

fn sum_squared_deviations(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    values.iter().map(|v| (v - mean) * (v - mean)).sum()
}

/// Runs of equal values in a sorted slice: `(value, count)`.
fn runs(sorted: &[f64]) -> impl Iterator<Item = (f64, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let value = *sorted.get(i)?;
        let start = i;
        while i < sorted.len() && sorted[i] == value {
            i += 1;
        }
        Some((value, i - start))
    })
}

/// Distinct values and their counts, ascending.
fn distinct_counts(values: &[f64]) -> Vec<(f64, usize)> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    runs(&sorted).collect()
}

/// Distinct pairable values with their mid-rank `(values below) + n_c / 2`, ascending.
fn midranks_of(values: &[f64]) -> Vec<(f64, f64)> {
    let mut below = 0usize;
    distinct_counts(values)
        .into_iter()
        .map(|(value, count)| {
            let r = below as f64 + count as f64 / 2.0;
            below += count;
            (value, r)
        })
        .collect()
}

fn midrank(midranks: &[(f64, f64)], value: f64) -> f64 {
    let i = midranks.partition_point(|(v, _)| *v < value);
    midranks[i].1
}

/// `sum_{c != k} n_c n_k ((c - k) / (c + k))^2` over distinct values with counts.
fn ratio_pair_sum(distinct: &[(f64, usize)]) -> f64 {
    let mut sum = 0.0;
    for (i, &(c, nc)) in distinct.iter().enumerate() {
        for &(k, nk) in &distinct[i + 1..] {
            sum += 2.0 * (nc * nk) as f64 * ratio_delta2(c, k);
        }
    }
    sum
}

/// The ratio squared difference; 0 for two zeros.
pub(crate) fn ratio_delta2(c: f64, k: f64) -> f64 {
    if c + k == 0.0 {
        0.0
    } else {
        ((c - k) / (c + k)).powi(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_coders_that_agree_on_varying_values_give_one() {
        let data = [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0];
        for level in Level::ALL {
            let a = krippendorff_alpha(&data, 2, 4, level).unwrap();
            assert_eq!(a.alpha, 1.0, "{level}");
            assert_eq!(a.pairable_values, 8);
        }
    }

    #[test]
    fn no_variation_at_all_is_undefined_not_one() {
        let a = krippendorff_alpha(&[2.0; 6], 2, 3, Level::Interval).unwrap();
        assert!(a.alpha.is_nan());
        let a = krippendorff_alpha(&[1.0, f64::NAN, f64::NAN, 2.0], 2, 2, Level::Nominal).unwrap();
        assert_eq!(a.pairable_values, 0);
        assert!(a.alpha.is_nan());
    }

    #[test]
    fn bad_inputs_are_named() {
        assert!(matches!(
            krippendorff_alpha(&[1.0; 5], 2, 3, Level::Nominal),
            Err(StatsError::Shape { .. })
        ));
        let err = krippendorff_alpha(&[1.0, f64::NEG_INFINITY], 1, 2, Level::Nominal).unwrap_err();
        assert!(
            matches!(err, StatsError::Infinite { index: 1, .. }),
            "{err}"
        );
        let err = krippendorff_alpha(&[1.0, -2.0], 1, 2, Level::Ratio).unwrap_err();
        assert!(
            matches!(err, StatsError::NegativeRatio { index: 1, .. }),
            "{err}"
        );
        assert!(krippendorff_alpha(&[1.0, -2.0], 1, 2, Level::Interval).is_ok());
    }
}
