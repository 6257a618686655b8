//! Alpha over per-coder rankings, with a fast bootstrap: the paper's inter-rater reliability.
//!
//! Each coder (image) ranks the same few units (saliency methods) by a score. Average ranks
//! take only the values `1, 1.5, 2, ..., units`, so each rank is stored as a one-byte code
//! `2 r - 2` and a resample's alpha needs only the per-unit counts of each code
//! ([`crate::coincidence`]), a fixed `units x (2 units - 1)` table, never a per-resample copy of
//! the data. Coders that rank identically share a *pattern* (with 5 units there are at most a
//! few hundred in practice): a resample counts how often each pattern is drawn (one increment
//! per drawn coder) and then adds each drawn pattern's codes once, weighted.

use std::collections::BTreeMap;

use crate::alpha::Alpha;
use crate::bootstrap::Bootstrap;
use crate::coincidence::{alpha_from_counts, CoincidenceScratch};
use crate::error::{check_shape, Result, StatsError};
use crate::level::Level;
use crate::rank::{average_ranks_into, Direction};

/// The largest number of units a [`RankTable`] holds (codes are bytes).
pub const MAX_RANK_UNITS: usize = 127;

/// The code of a missing rank.
const MISSING: u8 = u8::MAX;

/// Per-coder average ranks of a few units, coded for fast alpha and bootstrap.
#[derive(Debug, Clone)]
pub struct RankTable {
    coders: usize,
    units: usize,
    /// [coders, units]: `2 r - 2` for rank `r`, or `MISSING`.
    codes: Vec<u8>,
    /// [patterns, units]: the distinct rows of `codes`, in order of first appearance.
    patterns: Vec<u8>,
    /// [coders]: the pattern of each coder.
    pattern_of: Vec<u32>,
    /// The possible rank values `1, 1.5, ..., units`, indexed by code.
    values: Vec<f64>,
}

impl RankTable {
    /// Ranks each row of `scores` (a coder's scores of the units): rank 1 goes to the first
    /// score in `direction` (use [`Direction::Descending`] when higher is better), ties share
    /// their average rank, and a NaN score is a missing value (the coder's other scores are
    /// ranked among themselves).
    ///
    /// # Shapes
    /// `scores`: [coders, units], row-major.
    pub fn from_scores(
        scores: &[f64],
        coders: usize,
        units: usize,
        direction: Direction,
    ) -> Result<Self> {
        check_shape("scores [coders, units]", scores.len(), &[coders, units])?;
        if units == 0 {
            return Err(StatsError::Shape {
                what: "scores [coders, units] need at least one unit".to_owned(),
                len: scores.len(),
                shape: vec![coders, units],
            });
        }
        if units > MAX_RANK_UNITS {
            return Err(StatsError::TooManyUnits {
                units,
                max: MAX_RANK_UNITS,
            });
        }
        let mut codes = vec![MISSING; coders * units];
        let mut ranks = vec![0.0; units];
        let mut order = Vec::with_capacity(units);
        for (row, out) in scores
            .chunks_exact(units)
            .zip(codes.chunks_exact_mut(units))
        {
            average_ranks_into(row, direction, &mut ranks, &mut order);
            for (code, &r) in out.iter_mut().zip(&ranks) {
                if !r.is_nan() {
                    // r is a whole or half number in 1..=units, so 2 r - 2 is exact.
                    *code = (2.0 * r - 2.0) as u8;
                }
            }
        }
        let values = (0..(2 * units).saturating_sub(1))
            .map(|c| 1.0 + c as f64 / 2.0)
            .collect();
        let (patterns, pattern_of) = distinct_rows(&codes, units);
        Ok(RankTable {
            coders,
            units,
            codes,
            patterns,
            pattern_of,
            values,
        })
    }

    /// Number of coders (rows).
    pub fn coders(&self) -> usize {
        self.coders
    }

    /// Number of units (columns).
    pub fn units(&self) -> usize {
        self.units
    }

    /// The ranks, NaN where missing.
    ///
    /// # Shapes
    /// Returns [coders, units].
    pub fn ranks(&self) -> Vec<f64> {
        self.codes
            .iter()
            .map(|&c| {
                if c == MISSING {
                    f64::NAN
                } else {
                    self.values[c as usize]
                }
            })
            .collect()
    }

    /// The mean rank of each unit over the coders that ranked it (NaN if none did).
    ///
    /// # Shapes
    /// Returns [units].
    pub fn mean_ranks(&self) -> Vec<f64> {
        let mut sums = vec![0.0; self.units];
        let mut counts = vec![0usize; self.units];
        for row in self.codes.chunks_exact(self.units) {
            for (u, &c) in row.iter().enumerate() {
                if c != MISSING {
                    sums[u] += self.values[c as usize];
                    counts[u] += 1;
                }
            }
        }
        sums.iter()
            .zip(&counts)
            .map(|(&s, &n)| if n == 0 { f64::NAN } else { s / n as f64 })
            .collect()
    }

    /// Missing ranks per unit.
    ///
    /// # Shapes
    /// Returns [units].
    pub fn missing(&self) -> Vec<usize> {
        let mut missing = vec![0; self.units];
        for row in self.codes.chunks_exact(self.units) {
            for (u, &c) in row.iter().enumerate() {
                missing[u] += usize::from(c == MISSING);
            }
        }
        missing
    }

    /// Number of distinct rankings among the coders.
    pub fn patterns(&self) -> usize {
        self.patterns.len() / self.units
    }

    /// Krippendorff's alpha of the ranks (coders = rows, units = columns, ranks = values).
    pub fn alpha(&self, level: Level) -> Alpha {
        let rows: Vec<u32> = (0..self.coders as u32).collect();
        self.alpha_of_rows(&rows, level, &mut RankScratch::default())
    }

    /// Alpha of the coders `rows` (repetitions allowed), reusing `scratch`.
    ///
    /// # Shapes
    /// `rows`: [r] coder indices.
    pub fn alpha_of_rows(&self, rows: &[u32], level: Level, scratch: &mut RankScratch) -> Alpha {
        let (v, units) = (self.values.len(), self.units);
        scratch.drawn.clear();
        scratch.drawn.resize(self.patterns(), 0);
        for &r in rows {
            scratch.drawn[self.pattern_of[r as usize] as usize] += 1;
        }
        scratch.counts.clear();
        scratch.counts.resize(units * v, 0);
        for (pattern, &weight) in self.patterns.chunks_exact(units).zip(&scratch.drawn) {
            if weight == 0 {
                continue;
            }
            for (u, &c) in pattern.iter().enumerate() {
                if c != MISSING {
                    scratch.counts[u * v + c as usize] += weight;
                }
            }
        }
        alpha_from_counts(
            &scratch.counts,
            units,
            &self.values,
            level,
            rows.len(),
            &mut scratch.coincidence,
        )
    }

    /// Bootstrap replicates of alpha, resampling coders with replacement.
    ///
    /// # Shapes
    /// Returns [resamples] (NaN where alpha is undefined on a resample).
    pub fn bootstrap(&self, level: Level, bootstrap: &Bootstrap) -> Vec<f64> {
        bootstrap.replicate_with(self.coders, RankScratch::default, |scratch, rows| {
            self.alpha_of_rows(rows, level, scratch).alpha
        })
    }
}

/// Bootstrap replicates of alpha for several rank tables of the same coders, on shared
/// resamples: each resample's coders are drawn once and counted in every table, so drawing
/// costs are paid once. `replicates[t]` equals `tables[t].bootstrap(level, bootstrap)`.
///
/// # Shapes
/// Returns [tables][resamples].
pub fn bootstrap_many(
    tables: &[RankTable],
    level: Level,
    bootstrap: &Bootstrap,
) -> Result<Vec<Vec<f64>>> {
    let Some(first) = tables.first() else {
        return Ok(Vec::new());
    };
    if let Some(other) = tables.iter().find(|t| t.coders != first.coders) {
        return Err(StatsError::LengthMismatch {
            what: "coders of rank tables bootstrapped together".to_owned(),
            left: first.coders,
            right: other.coders,
        });
    }
    let t = tables.len();
    let flat = bootstrap.replicate_vec_with(
        first.coders,
        t,
        || vec![RankScratch::default(); t],
        |scratches, rows, out| {
            for ((table, scratch), slot) in
                tables.iter().zip(scratches.iter_mut()).zip(out.iter_mut())
            {
                *slot = table.alpha_of_rows(rows, level, scratch).alpha;
            }
        },
    );
    Ok((0..t)
        .map(|i| flat.iter().skip(i).step_by(t).copied().collect())
        .collect())
}

/// Reusable buffers of [`RankTable::alpha_of_rows`].
#[derive(Debug, Default, Clone)]
pub struct RankScratch {
    drawn: Vec<u32>,
    counts: Vec<u32>,
    coincidence: CoincidenceScratch,
}

/// The distinct rows of a `[rows, width]` table in order of first appearance, and the index of
/// each row's distinct row.
///
/// # Shapes
/// `table`: [rows, width]; returns ([distinct, width], [rows]).
fn distinct_rows(table: &[u8], width: usize) -> (Vec<u8>, Vec<u32>) {
    let mut index: BTreeMap<&[u8], u32> = BTreeMap::new();
    let mut distinct = Vec::new();
    let mut of = Vec::with_capacity(table.len() / width);
    for row in table.chunks_exact(width) {
        let next = index.len() as u32;
        let id = *index.entry(row).or_insert_with(|| {
            distinct.extend_from_slice(row);
            next
        });
        of.push(id);
    }
    (distinct, of)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_are_coded_per_row_with_direction_ties_and_missing() {
        let scores = [0.9, 0.1, 0.5, /* */ 0.2, 0.2, f64::NAN];
        let up = RankTable::from_scores(&scores, 2, 3, Direction::Ascending).unwrap();
        let r = up.ranks();
        assert_eq!(&r[..3], &[3.0, 1.0, 2.0]);
        assert_eq!(&r[3..5], &[1.5, 1.5]);
        assert!(r[5].is_nan());
        let down = RankTable::from_scores(&scores, 2, 3, Direction::Descending).unwrap();
        assert_eq!(&down.ranks()[..3], &[1.0, 3.0, 2.0]);
        assert_eq!(down.missing(), [0, 0, 1]);
        assert_eq!(down.mean_ranks()[..2], [1.25, 2.25]);
        assert_eq!(down.patterns(), 2);
    }

    #[test]
    fn too_many_units_and_bad_shapes_are_errors() {
        let scores = vec![0.0; 200];
        assert!(matches!(
            RankTable::from_scores(&scores, 1, 200, Direction::Ascending),
            Err(StatsError::TooManyUnits { .. })
        ));
        assert!(matches!(
            RankTable::from_scores(&scores, 3, 7, Direction::Ascending),
            Err(StatsError::Shape { .. })
        ));
    }
}
