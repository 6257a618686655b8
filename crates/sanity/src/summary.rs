//! Mean over images and its percentile bootstrap interval, per column of a table.

use sal_psychometrics::{column_means_bootstrap, percentile_interval, Bootstrap};

use crate::error::Result;

/// Mean, interval lo, interval hi of each column of a row-major `[n, k]` table (rows =
/// images). NaN cells are left out of their column; a column without a defined cell gives NaN.
/// The resamples are those of `sal-psychometrics` (image rows with replacement, resample b from
/// `(seed, b)`), so the same seed gives the same intervals for any thread count.
///
/// # Shapes
/// `table`: `[n, k]`; returns `[k]` of `[mean, lo, hi]`.
pub fn mean_intervals(
    table: &[f64],
    n: usize,
    k: usize,
    bootstrap: &Bootstrap,
    level: f64,
) -> Result<Vec<[f64; 3]>> {
    let replicates = column_means_bootstrap(table, n, k, bootstrap)?;
    let mut out = Vec::with_capacity(k);
    for j in 0..k {
        let column: Vec<f64> = (0..n)
            .map(|i| table[i * k + j])
            .filter(|v| !v.is_nan())
            .collect();
        let mean = if column.is_empty() {
            f64::NAN
        } else {
            column.iter().sum::<f64>() / column.len() as f64
        };
        let reps: Vec<f64> = (0..bootstrap.resamples)
            .map(|b| replicates[b * k + j])
            .collect();
        let interval = percentile_interval(&reps, level)?;
        out.push([mean, interval.lo, interval.hi]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_columns_have_a_point_interval_and_nan_cells_are_skipped() {
        let table = [1.0, 0.5, 1.0, f64::NAN, 1.0, 0.5];
        let b = Bootstrap {
            resamples: 200,
            seed: 1,
        };
        let s = mean_intervals(&table, 3, 2, &b, 0.95).unwrap();
        assert_eq!(s[0], [1.0, 1.0, 1.0]);
        assert_eq!(s[1], [0.5, 0.5, 0.5]);
        assert_eq!(s, mean_intervals(&table, 3, 2, &b, 0.95).unwrap());
    }
}
