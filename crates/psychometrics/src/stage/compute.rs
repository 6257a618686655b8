//! The computations of the stage: reliability (alpha, inter-method rho), internal consistency,
//! global and per-group scores.

use indicatif::ProgressBar;

use crate::bootstrap::{column_means_bootstrap, percentile_interval, Bootstrap, Interval};
use crate::correlation::{spearman, Correlation};
use crate::error::Result;
use crate::level::Level;
use crate::quantile::Summary;
use crate::rank_alpha::{bootstrap_many, RankScratch, RankTable};
use crate::stage::inputs::StageInputs;
use crate::stage::results::{
    Consistency, GroupAlpha, GroupRandom, GroupScore, NanCount, PairRho, RandomBaseline,
    Reliability, Score,
};
use crate::stage::variant::{Subset, Variant, DEFINITIONS};

/// Rank tables bootstrapped together on shared resamples (one progress step each).
const SHARED_BOOTSTRAPS: usize = 8;

/// The settings of one run, checked and resolved against the inputs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Alpha's level of measurement.
    pub level: Level,
    /// Resamples and seed of every bootstrap.
    pub bootstrap: Bootstrap,
    /// Confidence level of alpha's intervals.
    pub alpha_ci: f64,
    /// Confidence level of the mean scores' intervals.
    pub mean_ci: f64,
    /// The AOPC L values reported, ascending.
    pub aopc_steps: Vec<usize>,
    /// L of Table 2.
    pub consistency_steps: usize,
}

/// A group of images for the breakdowns.
#[derive(Debug, Clone)]
pub struct GroupDef {
    /// `label=<k>`, `confidence<=<t>`, `confidence><t>`.
    pub name: String,
    /// `label` or `confidence`.
    pub kind: &'static str,
    /// The label of a `label` group.
    pub label: Option<u8>,
    /// Its image rows (indices into the inputs), ascending.
    pub rows: Vec<u32>,
}

/// One group per true label present (ascending), then confidence `<= threshold` and `> threshold`.
pub fn groups(inputs: &StageInputs, threshold: f64) -> Vec<GroupDef> {
    let mut labels: Vec<u8> = inputs.label.clone();
    labels.sort_unstable();
    labels.dedup();
    let rows_where = |keep: &dyn Fn(usize) -> bool| {
        (0..inputs.images())
            .filter(|&i| keep(i))
            .map(|i| i as u32)
            .collect()
    };
    let mut out: Vec<GroupDef> = labels
        .into_iter()
        .map(|l| GroupDef {
            name: format!("label={l}"),
            kind: "label",
            label: Some(l),
            rows: rows_where(&|i| inputs.label[i] == l),
        })
        .collect();
    let low = |i: usize| f64::from(inputs.confidence[i]) <= threshold;
    out.push(GroupDef {
        name: format!("confidence<={threshold}"),
        kind: "confidence",
        label: None,
        rows: rows_where(&low),
    });
    out.push(GroupDef {
        name: format!("confidence>{threshold}"),
        kind: "confidence",
        label: None,
        rows: rows_where(&|i| !low(i)),
    });
    out
}

/// NaN faithfulness per method and fill.
pub fn faithfulness_nan(inputs: &StageInputs) -> Vec<NanCount> {
    let mut out = Vec::new();
    for fill in &inputs.fills {
        for (m, method) in inputs.methods.iter().enumerate() {
            let f = inputs.method_scores(m, &Variant::faithfulness(fill));
            out.push(NanCount {
                method: method.clone(),
                fill: fill.clone(),
                count: f.iter().filter(|v| v.is_nan()).count(),
            });
        }
    }
    out
}

/// Table 1 and the inter-method correlations for every variant and subset, plus each group's
/// alpha (`group_alpha[g]` collects group `g`'s rows).
pub fn reliability(
    inputs: &StageInputs,
    settings: &Settings,
    variants: &[Variant],
    subsets: &[Subset],
    groups: &[GroupDef],
    progress: &ProgressBar,
) -> Result<(Vec<Reliability>, Vec<Vec<GroupAlpha>>)> {
    let n = inputs.images();
    // Every (variant, subset) rank table, then their bootstraps on shared resamples.
    let mut jobs = Vec::new();
    for variant in variants {
        for subset in subsets {
            let scores = inputs.scores(variant, &subset.methods);
            let table = RankTable::from_scores(
                &scores,
                n,
                subset.methods.len(),
                variant.metric.direction(),
            )?;
            jobs.push((variant, subset, table));
        }
    }
    let mut replicates = Vec::with_capacity(jobs.len());
    for chunk in jobs.chunks(SHARED_BOOTSTRAPS) {
        let (variant, subset, _) = &chunk[0];
        progress.set_message(format!("alpha from {variant} {}", subset.name));
        let tables: Vec<RankTable> = chunk.iter().map(|(_, _, t)| t.clone()).collect();
        replicates.extend(bootstrap_many(
            &tables,
            settings.level,
            &settings.bootstrap,
        )?);
        progress.inc(chunk.len() as u64);
    }

    let mut rows = Vec::new();
    let mut group_alpha = vec![Vec::new(); groups.len()];
    let mut pairs = Vec::new();
    for ((variant, subset, table), replicates) in jobs.iter().zip(&replicates) {
        if subset.name == subsets[0].name {
            pairs = pairwise_spearman(inputs, variant)?;
        }
        let alpha = table.alpha(settings.level);
        let interval = percentile_interval(replicates, settings.alpha_ci)?;
        let in_subset: Vec<&(usize, usize, Correlation)> = pairs
            .iter()
            .filter(|(a, b, _)| subset.methods.contains(a) && subset.methods.contains(b))
            .collect();
        let inter_method_rho =
            in_subset.iter().map(|(_, _, c)| c.value).sum::<f64>() / in_subset.len() as f64;
        let mut scratch = RankScratch::default();
        for (g, group) in groups.iter().enumerate() {
            let a = table.alpha_of_rows(&group.rows, settings.level, &mut scratch);
            group_alpha[g].push(GroupAlpha {
                variant: (*variant).into(),
                subset: subset.name.clone(),
                alpha: a.alpha,
                pairable_values: a.pairable_values,
            });
        }
        rows.push(Reliability {
            variant: (*variant).into(),
            subset: subset.name.clone(),
            methods: subset
                .methods
                .iter()
                .map(|&m| inputs.methods[m].clone())
                .collect(),
            alpha: alpha.alpha,
            alpha_ci: [interval.lo, interval.hi],
            alpha_ci_undefined: interval.undefined,
            pairable_values: alpha.pairable_values,
            mean_rank: table.mean_ranks(),
            missing: table.missing(),
            inter_method_rho,
            pairs: in_subset
                .iter()
                .map(|(a, b, c)| PairRho {
                    a: inputs.methods[*a].clone(),
                    b: inputs.methods[*b].clone(),
                    rho: c.value,
                    n: c.n,
                })
                .collect(),
        });
    }
    Ok((rows, group_alpha))
}

/// Spearman's rho over images between every pair of methods `(a, b)`, `a < b`.
fn pairwise_spearman(
    inputs: &StageInputs,
    variant: &Variant,
) -> Result<Vec<(usize, usize, Correlation)>> {
    let columns: Vec<Vec<f64>> = (0..inputs.methods.len())
        .map(|m| inputs.method_scores(m, variant))
        .collect();
    let mut out = Vec::new();
    for a in 0..columns.len() {
        for b in a + 1..columns.len() {
            out.push((a, b, spearman(&columns[a], &columns[b])?));
        }
    }
    Ok(out)
}

/// Table 2: per method, Spearman's rho between two metric variants, each curve metric at
/// `consistency_steps`. Within each fill, every pair a definition lists in `consistency_with`
/// (the paper's F vs MoRF, F vs LeRF, MoRF vs LeRF, then the newer metrics' pairs); between
/// each pair of fills, every metric marked `across_fills`. Comparisons are named
/// `<x>_vs_<y>` and `<metric>_fills`.
pub fn consistency(inputs: &StageInputs, settings: &Settings) -> Result<Vec<Consistency>> {
    let l = Some(settings.consistency_steps);
    let mut comparisons: Vec<(String, Variant, Variant)> = Vec::new();
    for fill in &inputs.fills {
        for d in &DEFINITIONS {
            for &x in d.consistency_with {
                comparisons.push((
                    format!("{}_vs_{}", x.name(), d.name),
                    Variant::at(x, l, fill),
                    Variant::at(d.metric, l, fill),
                ));
            }
        }
    }
    for (i, a) in inputs.fills.iter().enumerate() {
        for b in &inputs.fills[i + 1..] {
            for d in DEFINITIONS.iter().filter(|d| d.across_fills) {
                comparisons.push((
                    format!("{}_fills", d.name),
                    Variant::at(d.metric, l, a),
                    Variant::at(d.metric, l, b),
                ));
            }
        }
    }
    let mut out = Vec::new();
    for (comparison, x, y) in &comparisons {
        for (m, method) in inputs.methods.iter().enumerate() {
            let c = spearman(&inputs.method_scores(m, x), &inputs.method_scores(m, y))?;
            out.push(Consistency {
                method: method.clone(),
                comparison: comparison.clone(),
                x: x.into(),
                y: y.into(),
                rho: c.value,
                n: c.n,
            });
        }
    }
    Ok(out)
}

/// The table of per-image scores behind the global and group means: one column per (variant,
/// method), variant-major, then one per (fill, L) of the per-image random AOPC.
///
/// # Shapes
/// Returns [N, K], K = variants x methods + fills x aopc_steps.
fn score_table(
    inputs: &StageInputs,
    variants: &[Variant],
    settings: &Settings,
) -> (Vec<f64>, usize) {
    let mut columns: Vec<Vec<f64>> = Vec::new();
    for variant in variants {
        columns.extend((0..inputs.methods.len()).map(|m| inputs.method_scores(m, variant)));
    }
    for fill in &inputs.fills {
        columns.extend(
            settings
                .aopc_steps
                .iter()
                .map(|&l| inputs.random_per_image(l, fill)),
        );
    }
    let k = columns.len();
    let table = (0..inputs.images())
        .flat_map(|i| columns.iter().map(move |c| c[i]))
        .collect();
    (table, k)
}

/// Per column of a `[rows, k]` table: its summary and the bootstrap interval of its mean.
fn column_statistics(
    table: &[f64],
    rows: usize,
    k: usize,
    settings: &Settings,
) -> Result<Vec<(Summary, Interval)>> {
    let replicates = column_means_bootstrap(table, rows, k, &settings.bootstrap)?;
    (0..k)
        .map(|j| {
            let column: Vec<f64> = table.iter().skip(j).step_by(k).copied().collect();
            let reps: Vec<f64> = replicates.iter().skip(j).step_by(k).copied().collect();
            Ok((
                Summary::of(&column),
                percentile_interval(&reps, settings.mean_ci)?,
            ))
        })
        .collect()
}

/// What [`scores`] returns: global scores, the random baseline, and per group its mean scores
/// and random baseline.
pub type ScoreResults = (
    Vec<Score>,
    Vec<RandomBaseline>,
    Vec<(Vec<GroupScore>, Vec<GroupRandom>)>,
);

/// Global scores (summary and bootstrap interval of the mean per method and variant), the
/// random baseline, and the same means per group.
pub fn scores(
    inputs: &StageInputs,
    settings: &Settings,
    variants: &[Variant],
    groups: &[GroupDef],
    progress: &ProgressBar,
) -> Result<ScoreResults> {
    let (table, k) = score_table(inputs, variants, settings);
    let n = inputs.images();
    let m = inputs.methods.len();
    progress.set_message("global scores");
    let global_stats = column_statistics(&table, n, k, settings)?;
    progress.inc(1);
    let mut global = Vec::new();
    for (v, variant) in variants.iter().enumerate() {
        for (j, method) in inputs.methods.iter().enumerate() {
            let (s, ci) = global_stats[v * m + j];
            global.push(Score {
                method: method.clone(),
                variant: variant.into(),
                n: s.n,
                missing: s.missing,
                mean: s.mean,
                ci: [ci.lo, ci.hi],
                median: s.median,
                q25: s.q25,
                q75: s.q75,
            });
        }
    }
    let random_offset = variants.len() * m;
    let tail = (1.0 - settings.mean_ci) / 2.0;
    let mut random = Vec::new();
    for (fi, fill) in inputs.fills.iter().enumerate() {
        for (si, &l) in settings.aopc_steps.iter().enumerate() {
            let per_ordering = crate::quantile::sorted_finite(&inputs.random_per_ordering(l, fill));
            let (_, ci) = global_stats[random_offset + fi * settings.aopc_steps.len() + si];
            random.push(RandomBaseline {
                fill: fill.clone(),
                steps: l,
                orderings: per_ordering.len(),
                mean: per_ordering.iter().sum::<f64>() / per_ordering.len() as f64,
                interval: [
                    crate::quantile::quantile_sorted(&per_ordering, tail),
                    crate::quantile::quantile_sorted(&per_ordering, 1.0 - tail),
                ],
                ci: [ci.lo, ci.hi],
            });
        }
    }

    let mut per_group = Vec::new();
    for group in groups {
        progress.set_message(format!("scores of {}", group.name));
        let sub: Vec<f64> = group
            .rows
            .iter()
            .flat_map(|&r| &table[r as usize * k..(r as usize + 1) * k])
            .copied()
            .collect();
        let stats = column_statistics(&sub, group.rows.len(), k, settings)?;
        let mut scores = Vec::new();
        for (v, variant) in variants.iter().enumerate() {
            for (j, method) in inputs.methods.iter().enumerate() {
                let (s, ci) = stats[v * m + j];
                scores.push(GroupScore {
                    method: method.clone(),
                    variant: variant.into(),
                    n: s.n,
                    mean: s.mean,
                    ci: [ci.lo, ci.hi],
                });
            }
        }
        let mut random = Vec::new();
        for (fi, fill) in inputs.fills.iter().enumerate() {
            for (si, &l) in settings.aopc_steps.iter().enumerate() {
                let (s, ci) = stats[random_offset + fi * settings.aopc_steps.len() + si];
                random.push(GroupRandom {
                    fill: fill.clone(),
                    steps: l,
                    mean: s.mean,
                    ci: [ci.lo, ci.hi],
                });
            }
        }
        per_group.push((scores, random));
        progress.inc(1);
    }
    Ok((global, random, per_group))
}
