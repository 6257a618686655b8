//! Krippendorff's alpha from per-unit value counts, through the coincidence matrix, exactly as
//! written in Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability".
//!
//! For data with few possible values (ranks of a handful of methods), the table `n_uc` of how
//! often value `c` occurs in unit `u` is all alpha needs. It is cheap to accumulate for a
//! bootstrap resample (one increment per coder and unit) and holds `units x values` numbers,
//! whatever the number of coders; this is what makes bootstrapping alpha over 10,000 images
//! fast.

use crate::alpha::{ratio_delta2, Alpha};
use crate::level::Level;

/// Reusable buffers of [`alpha_from_counts`] (sized on first use).
#[derive(Debug, Default, Clone)]
pub struct CoincidenceScratch {
    coincidences: Vec<f64>,
    marginals: Vec<f64>,
}

/// Krippendorff's alpha of discrete data summarised by its per-unit value counts.
///
/// `values` are the possible values, strictly ascending; `counts[u * V + c]` is how many coders
/// gave unit `u` the value `values[c]`. `coders` is only reported back. The coincidence matrix
/// `o_ck = sum_u n_uc (n_uk - [c = k]) / (m_u - 1)` over units with `m_u >= 2` values, its
/// marginals `n_c`, and the level's `delta^2_ck` (ordinal: `(sum_{g=c..k} n_g - (n_c + n_k)/2)^2`
/// with the marginals of this very table) give `alpha = 1 - (n - 1) sum o delta^2 / sum n_c n_k
/// delta^2`.
///
/// # Shapes
/// `counts`: [units, V]; `values`: [V].
///
/// # Panics
/// If `counts.len() != units * values.len()`.
pub fn alpha_from_counts(
    counts: &[u32],
    units: usize,
    values: &[f64],
    level: Level,
    coders: usize,
    scratch: &mut CoincidenceScratch,
) -> Alpha {
    let v = values.len();
    assert_eq!(
        counts.len(),
        units * v,
        "alpha_from_counts: counts must be [units, values]"
    );
    let o = &mut scratch.coincidences;
    o.clear();
    o.resize(v * v, 0.0);
    let mut n = 0usize;
    let mut pairable_units = 0;
    for unit in counts.chunks_exact(v.max(1)).take(units) {
        let m: u32 = unit.iter().sum();
        if m < 2 {
            continue;
        }
        pairable_units += 1;
        n += m as usize;
        let w = 1.0 / f64::from(m - 1);
        for (c, &nc) in unit.iter().enumerate() {
            if nc == 0 {
                continue;
            }
            for (k, &nk) in unit.iter().enumerate() {
                let pairs = if c == k { nc * (nk - 1) } else { nc * nk };
                o[c * v + k] += f64::from(pairs) * w;
            }
        }
    }
    let marginals = &mut scratch.marginals;
    marginals.clear();
    marginals.extend(
        o.chunks_exact(v.max(1))
            .take(v)
            .map(|row| row.iter().sum::<f64>()),
    );
    let (mut observed_sum, mut expected_sum) = (0.0, 0.0);
    for c in 0..v {
        for k in 0..v {
            if c == k {
                continue;
            }
            let d2 = delta2(level, values, marginals, c, k);
            observed_sum += o[c * v + k] * d2;
            expected_sum += marginals[c] * marginals[k] * d2;
        }
    }
    Alpha::from_sums(observed_sum, expected_sum, n, coders, units, pairable_units)
}

/// The squared difference of values `c` and `k` (indices into `values`) at `level`.
fn delta2(level: Level, values: &[f64], marginals: &[f64], c: usize, k: usize) -> f64 {
    match level {
        Level::Nominal => 1.0,
        Level::Interval => (values[c] - values[k]).powi(2),
        Level::Ratio => ratio_delta2(values[c], values[k]),
        Level::Ordinal => {
            let (lo, hi) = (c.min(k), c.max(k));
            let span: f64 = marginals[lo..=hi].iter().sum();
            (span - (marginals[lo] + marginals[hi]) / 2.0).powi(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_with_one_value_drop_out() {
        // Unit 0: values (1, 1); unit 1: value 2 only; unit 2: values (1, 2).
        let counts = [2, 0, 0, 1, 1, 1];
        let a = alpha_from_counts(
            &counts,
            3,
            &[1.0, 2.0],
            Level::Nominal,
            2,
            &mut CoincidenceScratch::default(),
        );
        assert_eq!(a.pairable_units, 2);
        assert_eq!(a.pairable_values, 4);
        // o = [[2, 1], [1, 0]], n_c = (3, 1): alpha = 1 - 3 * 2 / (2 * 3 * 1) = 0.
        assert!(a.alpha.abs() < 1e-15, "{a:?}");
    }
}
