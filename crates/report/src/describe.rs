//! Descriptive statistics for the figures: quantiles, histograms, kernel densities.
//!
//! These only describe a sample for drawing; the inferential statistics (alpha, Spearman,
//! bootstrap intervals) come from the `stats` stage.

/// Mean, spread and quartiles of the finite values of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Describe {
    /// Finite values used.
    pub n: usize,
    /// Values left out because they are NaN or infinite.
    pub non_finite: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1); 0 for one value.
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Lower quartile (type-7 interpolation).
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Upper quartile.
    pub q3: f64,
    /// Largest value.
    pub max: f64,
}

impl Describe {
    /// Describes the finite values of `values`; `None` when there are none.
    ///
    /// # Shapes
    /// `values`: any length.
    pub fn of(values: &[f32]) -> Option<Self> {
        let mut sorted: Vec<f64> = values
            .iter()
            .map(|&v| f64::from(v))
            .filter(|v| v.is_finite())
            .collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let mean = sorted.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Describe {
            n,
            non_finite: values.len() - n,
            mean,
            sd,
            min: sorted[0],
            q1: quantile_sorted(&sorted, 0.25),
            median: quantile_sorted(&sorted, 0.5),
            q3: quantile_sorted(&sorted, 0.75),
            max: sorted[n - 1],
        })
    }
}

/// The `q`-quantile of ascending `sorted` values by linear interpolation between order
/// statistics (Hyndman and Fan type 7, the default of R and numpy).
///
/// # Shapes
/// `sorted`: at least one value, ascending.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of an empty sample");
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Histogram of the finite values in `[lo, hi]`, as a density (bar areas sum to the share of
/// values inside the range), so a kernel density can be drawn over it.
///
/// # Shapes
/// Returns `bins` densities; bin `b` covers `[lo + b w, lo + (b + 1) w)`, the last one closed.
pub fn histogram_density(values: &[f32], lo: f64, hi: f64, bins: usize) -> Vec<f64> {
    assert!(bins > 0 && hi > lo, "histogram needs bins > 0 and hi > lo");
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    let mut n = 0usize;
    for v in values
        .iter()
        .map(|&v| f64::from(v))
        .filter(|v| v.is_finite())
    {
        n += 1;
        if v < lo || v > hi {
            continue;
        }
        let b = (((v - lo) / width) as usize).min(bins - 1);
        counts[b] += 1;
    }
    counts
        .iter()
        .map(|&c| {
            if n == 0 {
                0.0
            } else {
                c as f64 / (n as f64 * width)
            }
        })
        .collect()
}

/// Silverman's rule-of-thumb bandwidth, `0.9 min(sd, IQR / 1.34) n^(-1/5)`, falling back to
/// the standard deviation when the IQR is 0, and to a small positive width for a constant sample.
pub fn silverman_bandwidth(d: &Describe) -> f64 {
    let iqr = (d.q3 - d.q1) / 1.34;
    let spread = if iqr > 0.0 { d.sd.min(iqr) } else { d.sd };
    let h = 0.9 * spread * (d.n as f64).powf(-0.2);
    if h > 0.0 {
        h
    } else {
        1e-3 * d.mean.abs().max(1.0)
    }
}

/// Gaussian kernel density of the finite `values` with bandwidth `h`, evaluated at `grid`.
///
/// # Shapes
/// Returns one density per grid point.
pub fn gaussian_kde(values: &[f32], h: f64, grid: &[f64]) -> Vec<f64> {
    let xs: Vec<f64> = values
        .iter()
        .map(|&v| f64::from(v))
        .filter(|v| v.is_finite())
        .collect();
    if xs.is_empty() {
        return vec![0.0; grid.len()];
    }
    let norm = 1.0 / (xs.len() as f64 * h * (2.0 * std::f64::consts::PI).sqrt());
    grid.iter()
        .map(|&g| {
            let s: f64 = xs
                .iter()
                .map(|&x| (-0.5 * ((g - x) / h).powi(2)).exp())
                .sum();
            s * norm
        })
        .collect()
}

/// `points` evenly spaced values from `lo` to `hi` inclusive.
pub fn linspace(lo: f64, hi: f64, points: usize) -> Vec<f64> {
    match points {
        0 => Vec::new(),
        1 => vec![lo],
        _ => (0..points)
            .map(|i| lo + (hi - lo) * i as f64 / (points - 1) as f64)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy_linear_interpolation() {
        // numpy.quantile([1, 2, 3, 4, 10], [0.25, 0.5, 0.75, 0.9]) = [2, 3, 4, 7.6]
        let s = [1.0, 2.0, 3.0, 4.0, 10.0];
        for (q, expected) in [
            (0.25, 2.0),
            (0.5, 3.0),
            (0.75, 4.0),
            (0.9, 7.6),
            (0.0, 1.0),
            (1.0, 10.0),
        ] {
            assert!((quantile_sorted(&s, q) - expected).abs() < 1e-12, "q = {q}");
        }
    }

    #[test]
    fn describe_skips_and_counts_non_finite_values() {
        let d = Describe::of(&[3.0, f32::NAN, 1.0, 2.0, f32::INFINITY]).unwrap();
        assert_eq!((d.n, d.non_finite), (3, 2));
        assert_eq!((d.min, d.median, d.max, d.mean), (1.0, 2.0, 3.0, 2.0));
        assert!((d.sd - 1.0).abs() < 1e-12);
        assert!(Describe::of(&[f32::NAN]).is_none());
    }

    #[test]
    fn histogram_density_integrates_to_the_share_inside_the_range() {
        let values: Vec<f32> = (0..100)
            .map(|i| (i as f32 + 0.5) / 100.0)
            .chain([5.0, f32::NAN])
            .collect();
        let density = histogram_density(&values, 0.0, 1.0, 10);
        let area: f64 = density.iter().map(|d| d * 0.1).sum();
        assert!((area - 100.0 / 101.0).abs() < 1e-12, "{area}");
        assert!(
            density.iter().all(|&d| (d - density[0]).abs() < 1e-12),
            "uniform input, flat histogram"
        );
    }

    #[test]
    fn kernel_density_integrates_to_one_and_peaks_at_the_data() {
        let values = [0.0f32, 0.1, -0.1, 0.05];
        let d = Describe::of(&values).unwrap();
        let h = silverman_bandwidth(&d);
        let grid = linspace(-2.0, 2.0, 4001);
        let density = gaussian_kde(&values, h, &grid);
        let area: f64 = density.iter().sum::<f64>() * (grid[1] - grid[0]);
        assert!((area - 1.0).abs() < 1e-6, "{area}");
        let peak = grid[density
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0];
        assert!(peak.abs() < 0.05, "{peak}");
    }

    #[test]
    fn a_constant_sample_still_gets_a_positive_bandwidth() {
        let d = Describe::of(&[0.5; 10]).unwrap();
        assert!(silverman_bandwidth(&d) > 0.0);
    }
}
