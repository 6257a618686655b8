//! Sample quantiles and a five-number-style summary.

/// The `p`-quantile of an ascending sample by linear interpolation between order statistics
/// (Hyndman and Fan's type 7, the default of R and numpy): `h = (n - 1) p`,
/// `q = x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h])`. NaN for an empty sample.
///
/// # Shapes
/// `sorted`: [n], ascending, no NaN.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    debug_assert!(
        (0.0..=1.0).contains(&p),
        "quantile level {p} outside [0, 1]"
    );
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * p;
            let lo = (h.floor() as usize).min(n - 1);
            let hi = (lo + 1).min(n - 1);
            let frac = h - lo as f64;
            sorted[lo] + frac * (sorted[hi] - sorted[lo])
        }
    }
}

/// The non-NaN values of `values`, sorted ascending.
///
/// # Shapes
/// `values`: [n]; returns [m], m = number of non-NaN values.
pub fn sorted_finite(values: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// Mean, median and quartiles of the non-NaN values of a sample.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Values used (non-NaN).
    pub n: usize,
    /// NaN values left out.
    pub missing: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (type-7 quantile 0.5).
    pub median: f64,
    /// Lower quartile (type-7 quantile 0.25).
    pub q25: f64,
    /// Upper quartile (type-7 quantile 0.75).
    pub q75: f64,
}

impl Summary {
    /// Summarises the non-NaN values of `values` (every statistic NaN when there are none).
    ///
    /// # Shapes
    /// `values`: [n].
    pub fn of(values: &[f64]) -> Self {
        let sorted = sorted_finite(values);
        let n = sorted.len();
        let mean = if n == 0 {
            f64::NAN
        } else {
            sorted.iter().sum::<f64>() / n as f64
        };
        Summary {
            n,
            missing: values.len() - n,
            mean,
            median: quantile_sorted(&sorted, 0.5),
            q25: quantile_sorted(&sorted, 0.25),
            q75: quantile_sorted(&sorted, 0.75),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_7_quantiles_of_a_known_sample() {
        // numpy.quantile([1, 2, 3, 4, 10], [0, .25, .5, .75, .9, 1]) = [1, 2, 3, 4, 7.6, 10]
        let x = [1.0, 2.0, 3.0, 4.0, 10.0];
        let q: Vec<f64> = [0.0, 0.25, 0.5, 0.75, 0.9, 1.0]
            .iter()
            .map(|&p| quantile_sorted(&x, p))
            .collect();
        let expected = [1.0, 2.0, 3.0, 4.0, 7.6, 10.0];
        for (a, b) in q.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{q:?}");
        }
        assert!(quantile_sorted(&[], 0.5).is_nan());
        assert_eq!(quantile_sorted(&[3.0], 0.9), 3.0);
    }

    #[test]
    fn summary_skips_nan_and_counts_it() {
        let s = Summary::of(&[4.0, f64::NAN, 1.0, 3.0, 2.0]);
        assert_eq!((s.n, s.missing), (4, 1));
        assert_eq!((s.mean, s.median, s.q25, s.q75), (2.5, 2.5, 1.75, 3.25));
        let empty = Summary::of(&[f64::NAN]);
        assert!(empty.mean.is_nan() && empty.median.is_nan());
    }
}
