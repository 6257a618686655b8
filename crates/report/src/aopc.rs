//! AOPC as a function of L, from the drop curves of the metrics artifact.
//!
//! ARCHITECTURE.md: `AOPC_L = 1/(L+1) * sum_{k=1..L} (f(x^(0)) - f(x^(k)))`; the metrics
//! artifact stores the drops `d[k] = f(x^(0)) - f(x^(k))` in f64, so one curve of `L_max + 1`
//! drops gives AOPC at every L from 0 to `L_max`.

use statrs::distribution::{ContinuousCDF, Normal};

use crate::describe::quantile_sorted;

/// The normal quantile of a two-sided interval at `level` (e.g. 0.95 -> 1.96), from statrs.
///
/// # Panics
/// If `level` is not in (0, 1) (the stats config validates it).
pub fn normal_quantile(level: f64) -> f64 {
    assert!(
        level > 0.0 && level < 1.0,
        "interval level {level} not in (0, 1)"
    );
    Normal::standard().inverse_cdf(0.5 + level / 2.0)
}

/// A value per L with a lower and an upper bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// The central value per L.
    pub centre: Vec<f64>,
    /// Lower bound per L.
    pub lo: Vec<f64>,
    /// Upper bound per L.
    pub hi: Vec<f64>,
}

impl Band {
    /// `L_max + 1`.
    pub fn len(&self) -> usize {
        self.centre.len()
    }

    /// Whether the band holds no L at all.
    pub fn is_empty(&self) -> bool {
        self.centre.is_empty()
    }

    /// This band with `offset[L]` subtracted from every value.
    ///
    /// # Shapes
    /// `offset`: `len()` values.
    pub fn minus(&self, offset: &[f64]) -> Band {
        let sub = |v: &[f64]| v.iter().zip(offset).map(|(a, b)| a - b).collect();
        Band {
            centre: sub(&self.centre),
            lo: sub(&self.lo),
            hi: sub(&self.hi),
        }
    }
}

/// AOPC_L for L = 0..=L_max of one drop curve `d` (`d[k]` = f(x^(0)) - f(x^(k))), written
/// into `out`.
///
/// # Shapes
/// `drops`: `L_max + 1` values; `out`: the same length.
pub fn aopc_by_steps(drops: &[f64], out: &mut [f64]) {
    assert_eq!(drops.len(), out.len(), "one AOPC per curve point");
    let mut drop_sum = 0.0;
    for (l, (&d, o)) in drops.iter().zip(out.iter_mut()).enumerate() {
        if l > 0 {
            drop_sum += d;
        }
        *o = drop_sum / (l + 1) as f64;
    }
}

/// Mean AOPC_L over images with a normal-approximation interval `mean +- z * SE`.
///
/// # Shapes
/// `curves`: `[n, width]` row-major, one drop curve per image (`width = L_max + 1`); returns
/// bands of `width` values.
pub fn mean_aopc(curves: &[f64], n: usize, width: usize, z: f64) -> Band {
    assert_eq!(curves.len(), n * width, "curves must be [n, width]");
    let mut sum = vec![0.0f64; width];
    let mut sum_sq = vec![0.0f64; width];
    let mut aopc = vec![0.0f64; width];
    for curve in curves.chunks_exact(width) {
        aopc_by_steps(curve, &mut aopc);
        for l in 0..width {
            sum[l] += aopc[l];
            sum_sq[l] += aopc[l] * aopc[l];
        }
    }
    let nf = n as f64;
    let mut band = Band {
        centre: vec![0.0; width],
        lo: vec![0.0; width],
        hi: vec![0.0; width],
    };
    for l in 0..width {
        let mean = sum[l] / nf;
        let var = if n > 1 {
            ((sum_sq[l] - nf * mean * mean) / (nf - 1.0)).max(0.0)
        } else {
            0.0
        };
        let half = z * (var / nf).sqrt();
        band.centre[l] = mean;
        band.lo[l] = mean - half;
        band.hi[l] = mean + half;
    }
    band
}

/// The random baseline's band: the mean over orderings of their image-averaged AOPC_L, and the
/// `lower_q` / `upper_q` percentiles of those per-ordering values (ARCHITECTURE.md: 2.5 / 97.5).
///
/// # Shapes
/// `per_ordering`: `[r, width]` row-major (`aopc.random.<fill>`); returns bands of `width` values.
pub fn random_band(
    per_ordering: &[f64],
    r: usize,
    width: usize,
    lower_q: f64,
    upper_q: f64,
) -> Band {
    assert_eq!(
        per_ordering.len(),
        r * width,
        "per-ordering AOPC must be [r, width]"
    );
    assert!(r > 0, "at least one random ordering");
    let mut band = Band {
        centre: vec![0.0; width],
        lo: vec![0.0; width],
        hi: vec![0.0; width],
    };
    let mut column = vec![0.0f64; r];
    for l in 0..width {
        for (o, v) in column.iter_mut().enumerate() {
            *v = per_ordering[o * width + l];
        }
        band.centre[l] = column.iter().sum::<f64>() / r as f64;
        column.sort_by(f64::total_cmp);
        band.lo[l] = quantile_sorted(&column, lower_q);
        band.hi[l] = quantile_sorted(&column, upper_q);
    }
    band
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aopc_of_a_known_curve() {
        // c = [1, 0.5, 0.5, 0]: drops 0.5, 0.5, 1 -> AOPC_L = [0, 0.5/2, 1/3, 2/4].
        let mut out = [0.0; 4];
        aopc_by_steps(&[0.0, 0.5, 0.5, 1.0], &mut out);
        for (got, want) in out.iter().zip([0.0, 0.25, 1.0 / 3.0, 0.5]) {
            assert!((got - want).abs() < 1e-12, "{out:?}");
        }
    }

    #[test]
    fn mean_aopc_interval_is_mean_plus_minus_z_standard_errors() {
        // Two images whose AOPC_1 are 0.25 and 0.5: mean 0.375, sd 0.1768, SE 0.125.
        let curves = [0.0, 0.5, 0.0, 1.0];
        let band = mean_aopc(&curves, 2, 2, 2.0);
        assert_eq!(band.centre, vec![0.0, 0.375]);
        assert!(
            (band.hi[1] - 0.625).abs() < 1e-12 && (band.lo[1] - 0.125).abs() < 1e-12,
            "{band:?}"
        );
        assert_eq!((band.lo[0], band.hi[0]), (0.0, 0.0));
    }

    #[test]
    fn normal_quantiles_at_known_levels() {
        assert!((normal_quantile(0.95) - 1.959_963_984_540_054).abs() < 1e-9);
        assert!((normal_quantile(0.999) - 3.290_526_731_491_926).abs() < 1e-9);
        assert!((normal_quantile(0.6826894921370859) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn random_band_takes_percentiles_over_orderings() {
        // 5 orderings, one L: values 0..4 -> mean 2, 2.5% = 0.1, 97.5% = 3.9 (type 7).
        let per = [3.0, 0.0, 4.0, 1.0, 2.0];
        let band = random_band(&per, 5, 1, 0.025, 0.975);
        assert_eq!(band.centre, vec![2.0]);
        assert!(
            (band.lo[0] - 0.1).abs() < 1e-12 && (band.hi[0] - 3.9).abs() < 1e-12,
            "{band:?}"
        );
        let shifted = band.minus(&[2.0]);
        assert_eq!(shifted.centre, vec![0.0]);
    }
}
