//! Checks against Table 1 (alpha), the inter-method correlations and Table 2.

use super::{join_words, method_list, Finding, Verdict};
use crate::load::stats::{Estimate, Stats, Variant};
use crate::paper::{Metric, PaperValues};
use crate::render::num;
use crate::tables::{table2_estimate, table2_ours, table2_steps};

pub(super) fn findings(paper: &PaperValues, stats: &Stats) -> Vec<Finding> {
    let mut out = vec![
        alpha_threshold(paper, stats),
        edge_raises_alpha(paper, stats),
        random_fill_lowers_alpha(paper, stats),
    ];
    out.push(inter_method(paper, stats));
    out.extend(table2_signs(paper, stats));
    out.push(table2_fill_pair_highest(paper, stats));
    out
}

fn alpha_threshold(paper: &PaperValues, stats: &Stats) -> Finding {
    let claim = &paper.claims.alpha_threshold.data;
    let topic = format!("Krippendorff's alpha below {} everywhere", claim.value);
    let said = format!(
        "every alpha < {}; the largest is {}",
        claim.value,
        num(claim.largest, 2)
    );
    // The paper's claims are about the paper's metrics and fills: newer ones (SRG, AUC, the
    // imputation fill) stay out.
    let paper_alphas: Vec<_> = stats
        .alpha
        .iter()
        .filter(|a| a.variant.in_paper(paper))
        .collect();
    let Some(max) = paper_alphas
        .iter()
        .max_by(|a, b| a.alpha.value.total_cmp(&b.alpha.value))
    else {
        return Finding::not_comparable(
            "alpha_threshold",
            topic,
            said,
            "stats.json holds no alpha",
        );
    };
    let edge = if max.with_edge {
        "with edge"
    } else {
        "without edge"
    };
    let ours = format!(
        "the largest of {} alphas is {} ({}, {edge})",
        paper_alphas.len(),
        num(max.alpha.value, 2),
        max.variant.label()
    );
    Finding::new(
        "alpha_threshold",
        topic,
        said,
        ours,
        Verdict::from_bool(max.alpha.value < claim.value),
    )
}

/// (cells where `first` > `second`, comparable cells) over pairs of Table 1 cells.
fn count_higher(pairs: impl Iterator<Item = (f64, f64)>) -> (usize, usize) {
    pairs.fold((0, 0), |(higher, n), (a, b)| {
        (higher + usize::from(a > b), n + 1)
    })
}

fn majority_verdict(paper: (usize, usize), ours: (usize, usize)) -> Verdict {
    if ours.1 == 0 {
        Verdict::NotComparable
    } else {
        Verdict::from_bool((2 * paper.0 > paper.1) == (2 * ours.0 > ours.1))
    }
}

fn edge_raises_alpha(paper: &PaperValues, stats: &Stats) -> Finding {
    let cols = &paper.table1.columns;
    let paper_pairs = paper.table1.rows.iter().flat_map(|row| {
        cols.iter()
            .enumerate()
            .filter(|(_, c)| c.with_edge)
            .filter_map(move |(i, c)| {
                let j = cols.iter().position(|d| !d.with_edge && d.fill == c.fill)?;
                Some((row.cells[i][0], row.cells[j][0]))
            })
    });
    let p = count_higher(paper_pairs);
    let ours_pairs = stats
        .alpha
        .iter()
        .filter(|a| a.with_edge && a.variant.in_paper(paper))
        .filter_map(|a| Some((a.alpha.value, stats.alpha(&a.variant, false)?.value)));
    let o = count_higher(ours_pairs);
    let said = format!(
        "including edge detection gives higher alpha (in {} of the table's {} pairs of cells)",
        p.0, p.1
    );
    let ours = format!(
        "higher with edge detection in {} of {} pairs of cells",
        o.0, o.1
    );
    Finding::new(
        "edge_raises_alpha",
        "Including edge detection raises alpha",
        said,
        ours,
        majority_verdict(p, o),
    )
}

fn random_fill_lowers_alpha(paper: &PaperValues, stats: &Stats) -> Finding {
    let metrics = &paper.claims.random_fill_lowers_alpha.data.metrics;
    let cols = &paper.table1.columns;
    let paper_pairs = paper
        .table1
        .rows
        .iter()
        .filter(|r| metrics.contains(&r.metric))
        .flat_map(|row| {
            cols.iter()
                .enumerate()
                .filter(|(_, c)| c.fill == "mean")
                .filter_map(move |(i, c)| {
                    let j = cols
                        .iter()
                        .position(|d| d.fill == "uniform" && d.with_edge == c.with_edge)?;
                    Some((row.cells[i][0], row.cells[j][0]))
                })
        });
    let p = count_higher(paper_pairs);
    let ours_pairs = stats
        .alpha
        .iter()
        .filter(|a| a.variant.fill == "mean" && metrics.contains(&a.variant.metric))
        .filter_map(|a| {
            let uniform = Variant {
                fill: "uniform".to_owned(),
                ..a.variant.clone()
            };
            Some((a.alpha.value, stats.alpha(&uniform, a.with_edge)?.value))
        });
    let o = count_higher(ours_pairs);
    let names: Vec<&str> = metrics.iter().map(|m| m.label()).collect();
    let said = format!(
        "random RGB perturbation reduces alpha for {} (lower in {} of the table's {} pairs)",
        names.join(" and "),
        p.0,
        p.1
    );
    let ours = format!(
        "alpha lower with the uniform fill in {} of {} pairs",
        o.0, o.1
    );
    Finding::new(
        "random_fill_lowers_alpha",
        "Random RGB fill lowers alpha (F, AOPC_MoRF)",
        said,
        ours,
        majority_verdict(p, o),
    )
}

fn inter_method(paper: &PaperValues, stats: &Stats) -> Finding {
    let claim = &paper.claims.inter_method.data;
    let topic = "Inter-method reliability: AOPC_MoRF highest, F lowest (without edge)";
    let said = format!(
        "highest {} ({}), lowest {} ({})",
        num(claim.highest.value, 2),
        claim.highest.metric.label(),
        num(claim.lowest.value, 2),
        claim.lowest.metric.label()
    );
    let without: Vec<_> = stats
        .inter_method
        .iter()
        .filter(|e| !e.with_edge && e.variant.in_paper(paper))
        .collect();
    let max = without
        .iter()
        .max_by(|a, b| a.rho.value.total_cmp(&b.rho.value));
    let min = without
        .iter()
        .min_by(|a, b| a.rho.value.total_cmp(&b.rho.value));
    let (Some(max), Some(min)) = (max, min) else {
        return Finding::not_comparable(
            "inter_method",
            topic,
            said,
            "stats.json holds no inter-method correlations without edge",
        );
    };
    let ours = format!(
        "highest {} ({}), lowest {} ({})",
        num(max.rho.value, 2),
        max.variant.label(),
        num(min.rho.value, 2),
        min.variant.label()
    );
    let ok =
        max.variant.metric == claim.highest.metric && min.variant.metric == claim.lowest.metric;
    Finding::new("inter_method", topic, said, ours, Verdict::from_bool(ok))
}

/// Per Table 2 row: do our correlations have the paper's signs?
fn table2_signs(paper: &PaperValues, stats: &Stats) -> Vec<Finding> {
    let steps = table2_steps(paper, stats);
    paper
        .table2
        .rows
        .iter()
        .map(|row| {
            let id = format!("table2_sign.{}", row.id);
            let topic = format!("Sign of rho, {}", row.label);
            let pairs: Vec<(&String, f64, Option<f64>)> = paper
                .table2
                .columns
                .iter()
                .zip(&row.values)
                .map(|(m, &p)| (m, p, table2_ours(stats, row, m, steps)))
                .collect();
            let said = pairs
                .iter()
                .map(|(m, p, _)| format!("{} {}", paper.method_label(m), num(*p, 2)))
                .collect::<Vec<_>>()
                .join(", ");
            // The methods the paper gives a sign (non-zero), with our rho and its interval.
            let signed: Vec<(&String, f64, Estimate)> = paper
                .table2
                .columns
                .iter()
                .zip(&row.values)
                .filter(|(_, p)| **p != 0.0)
                .filter_map(|(m, &p)| Some((m, p, table2_estimate(stats, row, m, steps)?)))
                .collect();
            if signed.is_empty() {
                return Finding::not_comparable(
                    id,
                    topic,
                    said,
                    "stats.json holds none of this row's correlations",
                );
            }
            let same = signed
                .iter()
                .filter(|(_, p, o)| p.signum() == o.value.signum() && o.value != 0.0)
                .count();
            // A sign is contradicted only when our interval lies wholly on the other side of 0.
            let opposite: Vec<&String> = signed
                .iter()
                .filter(|(_, p, o)| {
                    // Without an interval (n not recorded) the value alone decides.
                    let (lo, hi) = o.ci.unwrap_or((o.value, o.value));
                    if *p > 0.0 {
                        hi < 0.0
                    } else {
                        lo > 0.0
                    }
                })
                .map(|(m, _, _)| *m)
                .collect();
            let undecided: Vec<String> = signed
                .iter()
                .filter(|(_, p, o)| p.signum() != o.value.signum() || o.value == 0.0)
                .filter(|(m, _, _)| !opposite.contains(m))
                .map(|(m, _, o)| {
                    format!(
                        "{} {}",
                        paper.method_label(m),
                        crate::render::with_interval(o.value, o.ci)
                    )
                })
                .collect();
            let mut ours = format!(
                "{}; same sign as the paper for {same} of {} methods",
                pairs
                    .iter()
                    .filter_map(|(m, _, o)| Some(format!(
                        "{} {}",
                        paper.method_label(m),
                        num((*o)?, 2)
                    )))
                    .collect::<Vec<_>>()
                    .join(", "),
                signed.len()
            );
            if !undecided.is_empty() {
                ours.push_str(&format!(
                    "; the 95% interval of {} holds both signs",
                    join_words(&undecided)
                ));
            }
            // The interval list above already says which signs are undecided: no tie note.
            let contradiction = (!opposite.is_empty()).then(|| {
                format!(
                    "the sign of {} is opposite to the paper's beyond our 95% intervals",
                    method_list(paper, opposite.iter().copied())
                )
            });
            Finding::judged(
                id,
                topic,
                said,
                ours,
                same == signed.len(),
                contradiction,
                "",
            )
        })
        .collect()
}

/// "The most consistent correlations across methods are between AOPC_MoRF applied with random
/// RGB versus mean perturbation": for each method, is that row the highest of Table 2?
fn table2_fill_pair_highest(paper: &PaperValues, stats: &Stats) -> Finding {
    let topic = "Table 2: AOPC_MoRF random-vs-mean fill is the highest correlation";
    let steps = table2_steps(paper, stats);
    let Some(target) = paper
        .table2
        .rows
        .iter()
        .position(|r| r.x.metric == Metric::Morf && r.y.metric == Metric::Morf)
    else {
        return Finding::not_comparable(
            "table2_fill_pair_highest",
            topic,
            "",
            "the paper's table has no such row",
        );
    };
    let is_highest = |values: &[Option<f64>]| -> Option<bool> {
        let t = values[target]?;
        Some(values.iter().flatten().all(|&v| t >= v))
    };
    let (mut paper_yes, mut ours_yes, mut ours_n) = (0, 0, 0);
    for (c, method) in paper.table2.columns.iter().enumerate() {
        let paper_col: Vec<Option<f64>> = paper
            .table2
            .rows
            .iter()
            .map(|r| Some(r.values[c]))
            .collect();
        paper_yes += usize::from(is_highest(&paper_col) == Some(true));
        let ours_col: Vec<Option<f64>> = paper
            .table2
            .rows
            .iter()
            .map(|r| table2_ours(stats, r, method, steps))
            .collect();
        if let Some(yes) = is_highest(&ours_col) {
            ours_n += 1;
            ours_yes += usize::from(yes);
        }
    }
    let n = paper.table2.columns.len();
    let row = &paper.table2.rows[target].values;
    let (lo, hi) = row
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let said = format!(
        "the highest (or tied) correlation for {paper_yes} of {n} methods (rho {} to {})",
        num(lo, 2),
        num(hi, 2)
    );
    if ours_n == 0 {
        return Finding::not_comparable(
            "table2_fill_pair_highest",
            topic,
            said,
            "stats.json lacks this row",
        );
    }
    let ours = format!("the highest for {ours_yes} of {ours_n} methods");
    Finding::new(
        "table2_fill_pair_highest",
        topic,
        said,
        ours,
        majority_verdict((paper_yes, n), (ours_yes, ours_n)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlation::spearman_interval;
    use crate::load::stats::ConsistencyEntry;

    /// Stats holding Table 2's first row (F vs AOPC_MoRF at L=100, mean fill) with `rho` per
    /// method over `n` images (no interval without n).
    fn stats_with(rhos: &[(&str, f64)], n: Option<usize>) -> Stats {
        let x = Variant {
            metric: Metric::Faithfulness,
            steps: None,
            fill: "mean".to_owned(),
        };
        let y = Variant {
            metric: Metric::Morf,
            steps: Some(100),
            fill: "mean".to_owned(),
        };
        Stats {
            consistency_steps: Some(100),
            consistency: rhos
                .iter()
                .map(|&(method, rho)| ConsistencyEntry {
                    method: method.to_owned(),
                    x: x.clone(),
                    y: y.clone(),
                    rho: Estimate {
                        value: rho,
                        ci: n.and_then(|n| spearman_interval(rho, n, 0.95)),
                    },
                    n,
                })
                .collect(),
            ..Stats::default()
        }
    }

    fn f_vs_morf(stats: &Stats) -> Finding {
        let paper = PaperValues::bundled().unwrap();
        table2_signs(&paper, stats)
            .into_iter()
            .find(|f| f.id == "table2_sign.f_vs_morf")
            .unwrap()
    }

    #[test]
    fn a_sign_differs_only_when_its_interval_excludes_the_papers_sign() {
        // The paper: sensitivity 0.34, gradient x input 0.11, SHAP 0.00, deep Taylor 0.24,
        // edge 0.17. Our values with the paper's signs agree by the values.
        let rhos = |gxi: f64| {
            [
                ("sensitivity", 0.37),
                ("gradient_x_input", gxi),
                ("deep_shap", -0.3),
                ("deep_taylor", 0.32),
                ("edge", 0.11),
            ]
        };
        let same = f_vs_morf(&stats_with(&rhos(0.1), Some(500)));
        assert_eq!(
            (same.verdict, same.within_intervals),
            (Verdict::Agrees, false)
        );
        // -0.05 over 500 images: interval -0.139 to 0.036 (by hand), both signs: agrees within
        // the intervals and says so; SHAP's 0.00 in the paper has no sign to check.
        let unsure = f_vs_morf(&stats_with(&rhos(-0.052369841479365915), Some(500)));
        assert_eq!(
            (unsure.verdict, unsure.within_intervals),
            (Verdict::Agrees, true)
        );
        assert!(unsure.ours.contains("holds both signs"), "{}", unsure.ours);
        assert!(
            unsure.ours.contains("-0.14") && unsure.ours.contains("0.04"),
            "{}",
            unsure.ours
        );
        // -0.2 over 500 images: interval wholly below 0, the sign is contradicted.
        let opposite = f_vs_morf(&stats_with(&rhos(-0.2), Some(500)));
        assert_eq!(opposite.verdict, Verdict::Differs);
        assert!(opposite.evidence.unwrap().contains("gradient"));
        // Without n there is no interval: the value alone decides.
        let bare = f_vs_morf(&stats_with(&rhos(-0.05), None));
        assert_eq!(bare.verdict, Verdict::Differs);
    }
}
