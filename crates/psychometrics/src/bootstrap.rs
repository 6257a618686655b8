//! The nonparametric bootstrap over rows (images, coders), seeded and thread-count independent.
//!
//! Resample `b` draws its `n` row indices from its own generator,
//! `ChaCha8Rng::seed_from_u64(seed)` switched to stream `b`: every resample is a pure function
//! of `(seed, b)`, so the replicates are identical whatever the number of rayon threads and
//! whatever order the resamples run in.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{Result, StatsError};
use crate::quantile::{quantile_sorted, sorted_finite};

/// Default number of resamples (the paper's 10,000).
pub const DEFAULT_RESAMPLES: usize = 10_000;

/// How to bootstrap: the number of resamples and the seed they derive from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bootstrap {
    /// B, the number of resamples.
    pub resamples: usize,
    /// The seed of every resample's generator.
    pub seed: u64,
}

impl Bootstrap {
    /// The generator of resample `resample`.
    pub fn rng(&self, resample: usize) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(resample as u64);
        rng
    }

    /// The row indices of resample `resample`: `n` draws from `0..n` with replacement.
    ///
    /// # Shapes
    /// `rows`: cleared, then filled with [n] indices.
    ///
    /// # Panics
    /// If `n` does not fit in a `u32`.
    pub fn draw_rows(&self, resample: usize, n: usize, rows: &mut Vec<u32>) {
        let n32 = u32::try_from(n).expect("bootstrap over more than u32::MAX rows");
        rows.clear();
        if n32 == 0 {
            return;
        }
        let mut rng = self.rng(resample);
        rows.extend((0..n).map(|_| rng.random_range(0..n32)));
    }

    /// The statistic `stat(rows)` on every resample of `n` rows, in resample order, computed in
    /// parallel.
    ///
    /// # Shapes
    /// Returns [resamples].
    pub fn replicate<F>(&self, n: usize, stat: F) -> Vec<f64>
    where
        F: Fn(&[u32]) -> f64 + Sync + Send,
    {
        self.replicate_with(n, || (), |(), rows| stat(rows))
    }

    /// [`Bootstrap::replicate`] with a per-thread scratch state `S` made by `init` (buffers the
    /// statistic reuses; it must not carry results from one resample to the next).
    ///
    /// # Shapes
    /// Returns [resamples].
    pub fn replicate_with<S, I, F>(&self, n: usize, init: I, stat: F) -> Vec<f64>
    where
        I: Fn() -> S + Sync + Send,
        F: Fn(&mut S, &[u32]) -> f64 + Sync + Send,
    {
        (0..self.resamples)
            .into_par_iter()
            .map_init(
                || (init(), Vec::with_capacity(n)),
                |(state, rows), b| {
                    self.draw_rows(b, n, rows);
                    stat(state, rows)
                },
            )
            .collect()
    }

    /// A vector statistic of `k` values on every resample: `stat(state, rows, out)` writes the
    /// `k` values of one resample into `out`.
    ///
    /// # Shapes
    /// Returns [resamples, k], row-major.
    pub fn replicate_vec_with<S, I, F>(&self, n: usize, k: usize, init: I, stat: F) -> Vec<f64>
    where
        I: Fn() -> S + Sync + Send,
        F: Fn(&mut S, &[u32], &mut [f64]) + Sync + Send,
    {
        let mut out = vec![0.0; self.resamples * k];
        if k == 0 {
            return out;
        }
        out.par_chunks_mut(k).enumerate().for_each_init(
            || (init(), Vec::with_capacity(n)),
            |(state, rows), (b, slot)| {
                self.draw_rows(b, n, rows);
                stat(state, rows, slot);
            },
        );
        out
    }
}

/// A percentile bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    /// Lower end: the `(1 - level) / 2` quantile of the defined replicates.
    pub lo: f64,
    /// Upper end: the `(1 + level) / 2` quantile of the defined replicates.
    pub hi: f64,
    /// Replicates that were NaN (the statistic was undefined on that resample), left out.
    pub undefined: usize,
}

/// The percentile interval at confidence `level` (e.g. 0.999) of bootstrap replicates, using
/// type-7 quantiles; NaN replicates are left out and counted. Both ends are NaN when no
/// replicate is defined.
///
/// # Shapes
/// `replicates`: [B].
pub fn percentile_interval(replicates: &[f64], level: f64) -> Result<Interval> {
    if !(level > 0.0 && level < 1.0) {
        return Err(StatsError::BadCiLevel(level));
    }
    let sorted = sorted_finite(replicates);
    let tail = (1.0 - level) / 2.0;
    Ok(Interval {
        lo: quantile_sorted(&sorted, tail),
        hi: quantile_sorted(&sorted, 1.0 - tail),
        undefined: replicates.len() - sorted.len(),
    })
}

/// Resamples per block of [`column_means_bootstrap`]: their sums stay in L1/L2 while each table
/// row is read once per block.
const MEANS_BLOCK: usize = 32;

/// Bootstrap replicates of the mean of each of `k` columns over the rows of a row-major
/// `[n, k]` table; NaN cells are left out of their column's mean (a column whose resampled
/// cells are all NaN gives NaN).
///
/// Resamples are the same as [`Bootstrap::draw_rows`]'s. They are processed in blocks of 32:
/// the draws of a block become per-row multiplicities, and each table row is then added once,
/// weighted, to the sums of every resample of the block that drew it. NaN cells count as 0 and
/// are subtracted from their column's count through a list of the NaN cells of each row.
///
/// # Shapes
/// `table`: [n, k]; returns [resamples, k].
pub fn column_means_bootstrap(
    table: &[f64],
    n: usize,
    k: usize,
    bootstrap: &Bootstrap,
) -> Result<Vec<f64>> {
    crate::error::check_shape("column_means_bootstrap table", table.len(), &[n, k])?;
    let mut out = vec![f64::NAN; bootstrap.resamples * k];
    if k == 0 || n == 0 {
        return Ok(out);
    }
    let zeroed: Vec<f64> = table
        .iter()
        .map(|&v| if v.is_nan() { 0.0 } else { v })
        .collect();
    // CSR list of the NaN columns of each row.
    let mut nan_start = Vec::with_capacity(n + 1);
    let mut nan_columns = Vec::new();
    for row in table.chunks_exact(k) {
        nan_start.push(nan_columns.len());
        nan_columns.extend(
            row.iter()
                .enumerate()
                .filter(|(_, v)| v.is_nan())
                .map(|(j, _)| j as u32),
        );
    }
    nan_start.push(nan_columns.len());

    out.par_chunks_mut(MEANS_BLOCK * k)
        .enumerate()
        .for_each_init(
            || {
                (
                    Vec::with_capacity(n),
                    vec![0u32; n * MEANS_BLOCK],
                    vec![0.0; MEANS_BLOCK * k],
                    vec![0u32; MEANS_BLOCK * k],
                )
            },
            |(rows, weights, sums, nan_counts), (block, slot)| {
                let size = slot.len() / k;
                // weights[i * MEANS_BLOCK + b]: how often resample b of the block drew row i.
                weights.fill(0);
                for b in 0..size {
                    bootstrap.draw_rows(block * MEANS_BLOCK + b, n, rows);
                    for &r in rows.iter() {
                        weights[r as usize * MEANS_BLOCK + b] += 1;
                    }
                }
                sums.fill(0.0);
                nan_counts.fill(0);
                for i in 0..n {
                    let row = &zeroed[i * k..(i + 1) * k];
                    let nans = &nan_columns[nan_start[i]..nan_start[i + 1]];
                    for (b, &w) in weights[i * MEANS_BLOCK..i * MEANS_BLOCK + size]
                        .iter()
                        .enumerate()
                    {
                        if w == 0 {
                            continue;
                        }
                        let wf = f64::from(w);
                        for (s, &v) in sums[b * k..(b + 1) * k].iter_mut().zip(row) {
                            *s += wf * v;
                        }
                        for &j in nans {
                            nan_counts[b * k + j as usize] += w;
                        }
                    }
                }
                for b in 0..size {
                    for j in 0..k {
                        let count = n as u32 - nan_counts[b * k + j];
                        slot[b * k + j] = if count == 0 {
                            f64::NAN
                        } else {
                            sums[b * k + j] / f64::from(count)
                        };
                    }
                }
            },
        );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resamples_are_a_function_of_seed_and_index() {
        let boot = Bootstrap {
            resamples: 3,
            seed: 11,
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        boot.draw_rows(2, 100, &mut a);
        boot.draw_rows(2, 100, &mut b);
        assert_eq!(a, b);
        assert!(a.iter().all(|&r| r < 100));
        boot.draw_rows(1, 100, &mut b);
        assert_ne!(a, b, "different resamples must differ");
        Bootstrap {
            resamples: 3,
            seed: 12,
        }
        .draw_rows(2, 100, &mut b);
        assert_ne!(a, b, "different seeds must differ");
    }

    #[test]
    fn draws_cover_the_rows_uniformly() {
        // 200 resamples of 50 rows: each row is drawn 200 times in expectation (sd ~ 14).
        let boot = Bootstrap {
            resamples: 200,
            seed: 1,
        };
        let mut counts = [0usize; 50];
        let mut rows = Vec::new();
        for b in 0..boot.resamples {
            boot.draw_rows(b, 50, &mut rows);
            rows.iter().for_each(|&r| counts[r as usize] += 1);
        }
        assert!(
            counts.iter().all(|&c| (130..=270).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn percentile_interval_of_a_known_sample_and_bad_levels() {
        let reps: Vec<f64> = (0..=100).map(f64::from).chain([f64::NAN]).collect();
        let ci = percentile_interval(&reps, 0.9).unwrap();
        assert!(
            (ci.lo - 5.0).abs() < 1e-12 && (ci.hi - 95.0).abs() < 1e-12,
            "{ci:?}"
        );
        assert_eq!(ci.undefined, 1);
        assert!(matches!(
            percentile_interval(&reps, 1.0),
            Err(StatsError::BadCiLevel(_))
        ));
        assert!(matches!(
            percentile_interval(&reps, 0.0),
            Err(StatsError::BadCiLevel(_))
        ));
    }

    #[test]
    fn column_means_match_a_direct_computation_and_skip_nan() {
        // Column 1 has one NaN; column 2 is NaN but for row 0 (often undrawn: NaN mean).
        let (n, k) = (7, 3);
        let table: Vec<f64> = (0..n * k)
            .map(|i| match (i / k, i % k) {
                (1, 1) => f64::NAN,
                (r, 2) if r > 0 => f64::NAN,
                _ => (i * i % 11) as f64,
            })
            .collect();
        // More resamples than one block of 32, and a partial last block.
        let boot = Bootstrap {
            resamples: 75,
            seed: 3,
        };
        let means = column_means_bootstrap(&table, n, k, &boot).unwrap();
        let mut rows = Vec::new();
        for b in 0..boot.resamples {
            boot.draw_rows(b, n, &mut rows);
            for j in 0..k {
                let vals: Vec<f64> = rows
                    .iter()
                    .map(|&r| table[r as usize * k + j])
                    .filter(|v| !v.is_nan())
                    .collect();
                let expected = vals.iter().sum::<f64>() / vals.len() as f64;
                let got = means[b * k + j];
                assert!(
                    (got - expected).abs() < 1e-12 || (got.is_nan() && vals.is_empty()),
                    "{got} vs {expected}"
                );
            }
        }
    }
}
