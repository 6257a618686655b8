//! Pearson's r and Spearman's rho over paired samples, pairs with a NaN dropped.

use crate::bootstrap::Bootstrap;
use crate::error::{Result, StatsError};
use crate::rank::{average_ranks_into, Direction};

/// A correlation coefficient and the number of pairs it was computed from.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Correlation {
    /// The coefficient in [-1, 1]; NaN when undefined (fewer than 2 pairs, or a sample without
    /// variance). Never 0 in place of undefined.
    pub value: f64,
    /// Pairs used (both values not NaN).
    pub n: usize,
}

/// Pearson's product-moment correlation of the pairs `(x[i], y[i])` where neither is NaN.
///
/// # Shapes
/// `x`, `y`: [n] each.
pub fn pearson(x: &[f64], y: &[f64]) -> Result<Correlation> {
    let (x, y) = complete_pairs(x, y)?;
    Ok(Correlation {
        value: pearson_complete(&x, &y),
        n: x.len(),
    })
}

/// Spearman's rho: Pearson's r of the average ranks (ties share their mean rank) of the pairs
/// where neither value is NaN. The ranks are taken after dropping the incomplete pairs.
///
/// # Shapes
/// `x`, `y`: [n] each.
pub fn spearman(x: &[f64], y: &[f64]) -> Result<Correlation> {
    let (x, y) = complete_pairs(x, y)?;
    let mut scratch = SpearmanScratch::default();
    Ok(Correlation {
        value: scratch.rho(&x, &y),
        n: x.len(),
    })
}

/// Bootstrap replicates of Spearman's rho: the complete pairs (neither value NaN) are resampled
/// with replacement, `bootstrap.resamples` times; each replicate re-ranks its resample.
///
/// # Shapes
/// `x`, `y`: [n] each; returns [resamples] (NaN for a resample without variance).
pub fn spearman_bootstrap(x: &[f64], y: &[f64], bootstrap: &Bootstrap) -> Result<Vec<f64>> {
    let (x, y) = complete_pairs(x, y)?;
    Ok(
        bootstrap.replicate_with(x.len(), SpearmanScratch::default, |scratch, rows| {
            scratch.rho_of_rows(&x, &y, rows)
        }),
    )
}

/// Buffers reused across Spearman computations.
#[derive(Debug, Default)]
struct SpearmanScratch {
    gx: Vec<f64>,
    gy: Vec<f64>,
    rx: Vec<f64>,
    ry: Vec<f64>,
    order: Vec<usize>,
}

impl SpearmanScratch {
    /// Spearman's rho of the rows `rows` (with repetitions) of complete samples.
    fn rho_of_rows(&mut self, x: &[f64], y: &[f64], rows: &[u32]) -> f64 {
        self.gx.clear();
        self.gy.clear();
        self.gx.extend(rows.iter().map(|&r| x[r as usize]));
        self.gy.extend(rows.iter().map(|&r| y[r as usize]));
        self.rx.resize(rows.len(), 0.0);
        self.ry.resize(rows.len(), 0.0);
        average_ranks_into(
            &self.gx,
            Direction::Ascending,
            &mut self.rx,
            &mut self.order,
        );
        average_ranks_into(
            &self.gy,
            Direction::Ascending,
            &mut self.ry,
            &mut self.order,
        );
        pearson_complete(&self.rx, &self.ry)
    }

    /// Spearman's rho of complete samples.
    fn rho(&mut self, x: &[f64], y: &[f64]) -> f64 {
        self.rx.resize(x.len(), 0.0);
        self.ry.resize(y.len(), 0.0);
        average_ranks_into(x, Direction::Ascending, &mut self.rx, &mut self.order);
        average_ranks_into(y, Direction::Ascending, &mut self.ry, &mut self.order);
        pearson_complete(&self.rx, &self.ry)
    }
}

/// The pairs where neither value is NaN; refuses infinities and unequal lengths.
fn complete_pairs(x: &[f64], y: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
    if x.len() != y.len() {
        return Err(StatsError::LengthMismatch {
            what: "correlation of x and y".to_owned(),
            left: x.len(),
            right: y.len(),
        });
    }
    for (what, values) in [("x", x), ("y", y)] {
        if let Some(index) = values.iter().position(|v| v.is_infinite()) {
            return Err(StatsError::Infinite {
                what: what.to_owned(),
                index,
                value: values[index],
            });
        }
    }
    Ok(x.iter()
        .zip(y)
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .map(|(&a, &b)| (a, b))
        .unzip())
}

/// Pearson's r of two complete samples (two passes: means, then centred sums). NaN when
/// `n < 2` or either sample has no variance.
///
/// # Shapes
/// `x`, `y`: [n] each, no NaN.
pub(crate) fn pearson_complete(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    if n < 2 {
        return f64::NAN;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (&a, &b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    (sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn pearson_of_a_known_sample() {
        // x = 1..5, y = (2, 4, 5, 4, 5): r = 6 / sqrt(10 * 6) = 0.774596669...
        let r = pearson(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 4.0, 5.0, 4.0, 5.0]).unwrap();
        assert!(close(r.value, 6.0 / 60f64.sqrt(), 1e-12), "{r:?}");
        assert_eq!(r.n, 5);
    }

    #[test]
    fn pearson_is_invariant_to_affine_maps_and_flips_sign_with_negation() {
        let x = [0.3, -1.2, 4.4, 2.0, 0.0, 3.3];
        let y = [1.0, 0.5, 2.5, 2.0, 0.1, 0.0];
        let r = pearson(&x, &y).unwrap().value;
        let x2: Vec<f64> = x.iter().map(|v| 3.0 * v - 7.0).collect();
        let y2: Vec<f64> = y.iter().map(|v| -0.5 * v + 1.0).collect();
        assert!(close(pearson(&x2, &y).unwrap().value, r, 1e-12));
        assert!(close(pearson(&x, &y2).unwrap().value, -r, 1e-12));
    }

    #[test]
    fn spearman_of_a_monotone_map_is_one_and_known_value_with_ties() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y: Vec<f64> = x.iter().map(|v: &f64| v.exp()).collect();
        assert!(close(spearman(&x, &y).unwrap().value, 1.0, 1e-15));
        let rev: Vec<f64> = x.iter().map(|v| -v * v).collect();
        assert!(close(spearman(&x, &rev).unwrap().value, -1.0, 1e-15));
        // Ties: x ranks (1, 2.5, 2.5, 4), y ranks (1, 2, 3, 4): Pearson of those.
        let rho = spearman(&[1.0, 2.0, 2.0, 3.0], &[10.0, 20.0, 30.0, 40.0])
            .unwrap()
            .value;
        let expected = pearson(&[1.0, 2.5, 2.5, 4.0], &[1.0, 2.0, 3.0, 4.0])
            .unwrap()
            .value;
        assert!(close(rho, expected, 1e-15));
        assert!(close(rho, 4.5 / (4.5f64 * 5.0).sqrt(), 1e-12));
    }

    #[test]
    fn nan_pairs_are_dropped_and_zero_variance_is_nan() {
        let r = spearman(&[1.0, f64::NAN, 3.0, 4.0], &[1.0, 2.0, f64::NAN, 3.0]).unwrap();
        assert_eq!(r.n, 2);
        assert!(close(r.value, 1.0, 1e-15));
        let r = pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).unwrap();
        assert!(r.value.is_nan());
        assert_eq!(r.n, 3);
        assert!(spearman(&[1.0], &[2.0]).unwrap().value.is_nan());
    }

    #[test]
    fn unequal_lengths_and_infinities_are_errors() {
        assert!(matches!(
            pearson(&[1.0], &[1.0, 2.0]),
            Err(StatsError::LengthMismatch { .. })
        ));
        let err = spearman(&[1.0, f64::INFINITY], &[1.0, 2.0]).unwrap_err();
        assert!(
            matches!(err, StatsError::Infinite { index: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn bootstrap_replicates_lie_in_range_and_are_reproducible() {
        let x: Vec<f64> = (0..50).map(|i| (i as f64 * 0.37).sin()).collect();
        let y: Vec<f64> = (0..50)
            .map(|i| (i as f64 * 0.37).sin() + 0.3 * (i as f64 * 1.7).cos())
            .collect();
        let boot = Bootstrap {
            resamples: 200,
            seed: 9,
        };
        let a = spearman_bootstrap(&x, &y, &boot).unwrap();
        let b = spearman_bootstrap(&x, &y, &boot).unwrap();
        assert_eq!(a, b);
        assert!(a.iter().all(|r| (-1.0..=1.0).contains(r)));
        let rho = spearman(&x, &y).unwrap().value;
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        assert!(
            (mean - rho).abs() < 0.1,
            "bootstrap mean {mean} far from rho {rho}"
        );
    }
}
