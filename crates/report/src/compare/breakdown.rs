//! Checks against the breakdowns of the discussion: low-confidence images and the frog class.

use super::{join_words, Finding, Ours, Verdict};
use crate::load::stats::{Group, Variant};
use crate::paper::{Metric, PaperValues};
use crate::render::num;

/// The AOPC L the breakdowns are read at: the largest L the stage reports for `metric`.
fn breakdown_steps(groups: &[&Group], metric: Metric) -> Option<usize> {
    groups
        .iter()
        .flat_map(|g| g.means.iter())
        .filter(|m| m.variant.metric == metric)
        .filter_map(|m| m.variant.steps)
        .max()
}

pub(super) fn findings(paper: &PaperValues, ours: Ours<'_>) -> Vec<Finding> {
    let mut out = low_confidence(paper, ours);
    out.push(frog(paper, ours));
    out
}

fn low_confidence(paper: &PaperValues, ours: Ours<'_>) -> Vec<Finding> {
    let claim = &paper.claims.low_confidence_lerf.data;
    let names = join_words(
        &claim
            .methods
            .iter()
            .map(|m| paper.method_label(m))
            .collect::<Vec<_>>(),
    );
    let said = format!(
        "on the {} images with confidence <= {}, {names} have LeRF better than random",
        claim.count, claim.threshold
    );
    let topic = |fill: &str| format!("Low-confidence images: LeRF against random, {fill} fill");
    let Some(group) = &ours.stats.low_confidence else {
        return vec![Finding::not_comparable(
            "low_confidence_lerf",
            topic("any"),
            said,
            "stats.json has no confidence breakdown",
        )];
    };
    let steps = breakdown_steps(&[group], Metric::Lerf);
    ours.metrics
        .fills
        .iter()
        .filter(|fill| paper.has_fill(fill))
        .map(|fill| {
            let id = format!("low_confidence_lerf.{fill}");
            let variant = Variant {
                metric: Metric::Lerf,
                steps,
                fill: fill.clone(),
            };
            let Some(random) = group.mean("random", &variant) else {
                return Finding::not_comparable(
                    id,
                    topic(fill),
                    said.clone(),
                    "stats.json has no random-baseline mean for this group",
                );
            };
            let values: Vec<(String, f64)> = claim
                .methods
                .iter()
                .filter_map(|m| Some((m.clone(), group.mean(m, &variant)?)))
                .collect();
            if values.len() != claim.methods.len() {
                return Finding::not_comparable(
                    id,
                    topic(fill),
                    said.clone(),
                    "a method the claim names is missing",
                );
            }
            let text = format!(
                "{} images ({}): AOPC_LeRF at L={} {} vs random {}",
                group.images,
                group.name,
                steps.map_or_else(|| "?".to_owned(), |l| l.to_string()),
                values
                    .iter()
                    .map(|(m, v)| format!("{} {}", paper.method_label(m), num(*v, 3)))
                    .collect::<Vec<_>>()
                    .join(", "),
                num(random, 3)
            );
            Finding::new(
                id,
                topic(fill),
                said.clone(),
                text,
                Verdict::from_bool(values.iter().all(|(_, v)| *v < random)),
            )
        })
        .collect()
}

/// Frog images: better MoRF, worse LeRF and better F than the other classes (averaged over the
/// methods, mean fill): each of the three counts if frog beats the median of the other classes.
fn frog(paper: &PaperValues, ours: Ours<'_>) -> Finding {
    let class = &paper.claims.frog_class.data.class;
    let topic = format!("The {class} class: better AOPC_MoRF, worse AOPC_LeRF, better F");
    let said = format!("{class} images have generally better AOPC_MoRF, worse AOPC_LeRF and better F than other classes");
    let groups: Vec<&Group> = ours.stats.per_class.iter().collect();
    if !groups.iter().any(|g| &g.name == class) {
        return Finding::not_comparable(
            "frog_class",
            topic,
            said,
            format!("stats.json has no {class} class"),
        );
    }
    let fill = ours.metrics.fills.first().cloned().unwrap_or_default();
    let methods: Vec<&String> = ours
        .metrics
        .methods
        .iter()
        .filter(|m| m.as_str() != "edge")
        .collect();
    let mut parts = Vec::new();
    let mut ok = true;
    for metric in [Metric::Morf, Metric::Lerf, Metric::Faithfulness] {
        let steps = if metric == Metric::Faithfulness {
            None
        } else {
            breakdown_steps(&groups, metric)
        };
        let variant = Variant {
            metric,
            steps,
            fill: fill.clone(),
        };
        let score = |g: &Group| -> Option<f64> {
            let v: Vec<f64> = methods.iter().filter_map(|m| g.mean(m, &variant)).collect();
            (v.len() == methods.len() && !v.is_empty())
                .then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        let Some(target) = groups
            .iter()
            .find(|g| &g.name == class)
            .and_then(|g| score(g))
        else {
            return Finding::not_comparable(
                "frog_class",
                topic,
                said,
                format!("stats.json lacks {} for {class}", variant.label()),
            );
        };
        let mut others: Vec<f64> = groups
            .iter()
            .filter(|g| &g.name != class)
            .filter_map(|g| score(g))
            .collect();
        if others.is_empty() {
            return Finding::not_comparable(
                "frog_class",
                topic,
                said,
                "no other class to compare with",
            );
        }
        others.sort_by(f64::total_cmp);
        let median = crate::describe::quantile_sorted(&others, 0.5);
        // "Better" LeRF is lower; the paper says frog LeRF is worse, i.e. higher.
        let claim_holds = target > median;
        ok &= claim_holds;
        parts.push(format!(
            "{} {} vs median of other classes {}",
            variant.label(),
            num(target, 3),
            num(median, 3)
        ));
    }
    let text = format!("mean over methods without edge: {}", parts.join("; "));
    Finding::new("frog_class", topic, said, text, Verdict::from_bool(ok))
}
