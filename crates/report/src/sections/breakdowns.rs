//! The per-class and per-confidence breakdowns of the stats stage, and the training log.

use super::Context;
use crate::load::stats::{Group, Variant};
use crate::paper::Metric;
use crate::render::{num, Document, Table, NONE};

/// The variants a breakdown reports, sorted (metric, L, fill).
fn variants(groups: &[&Group]) -> Vec<Variant> {
    let mut v: Vec<Variant> = groups
        .iter()
        .flat_map(|g| g.means.iter().map(|m| m.variant.clone()))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Only the largest L of each curve metric (the breakdowns would otherwise repeat every L).
fn headline(variants: Vec<Variant>) -> Vec<Variant> {
    let max_l = |metric: Metric| {
        variants
            .iter()
            .filter(|v| v.metric == metric)
            .filter_map(|v| v.steps)
            .max()
    };
    let largest: Vec<(Metric, Option<usize>)> =
        Metric::ALL.iter().map(|&m| (m, max_l(m))).collect();
    variants
        .into_iter()
        .filter(|v| !v.metric.has_steps() || largest.contains(&(v.metric, v.steps)))
        .collect()
}

/// One table per variant: rows are groups, columns methods (and `random` where reported).
fn group_tables(doc: &mut Document, cx: &Context<'_>, groups: &[&Group], what: &str) {
    let mut methods: Vec<String> = cx.metrics.methods.clone();
    if groups
        .iter()
        .any(|g| g.means.iter().any(|m| m.method == "random"))
    {
        methods.push("random".to_owned());
    }
    for variant in headline(variants(groups)) {
        let mut header = vec!["Group".to_owned(), "images".to_owned()];
        header.extend(methods.iter().map(|m| {
            if m == "random" {
                "random baseline".to_owned()
            } else {
                cx.paper.method_label(m)
            }
        }));
        let mut table = Table::new(header);
        for g in groups {
            let mut row = vec![g.name.clone(), g.images.to_string()];
            row.extend(
                methods
                    .iter()
                    .map(|m| g.mean(m, &variant).map_or(NONE.to_owned(), |v| num(v, 3))),
            );
            table.row(row);
        }
        let better = if variant.metric.higher_is_better() {
            "higher is better"
        } else {
            "lower is better"
        };
        doc.table(
            format!("Mean {} per {what} ({better})", variant.label()),
            table,
        );
    }
}

/// The breakdowns section.
pub fn write(doc: &mut Document, cx: &Context<'_>) {
    doc.heading(2, "Breakdowns: per class and by confidence");
    let s = cx.stats;
    let frog = &cx.paper.claims.frog_class;
    let low = &cx.paper.claims.low_confidence_lerf;
    doc.paragraph(format!(
        "The paper's discussion: \"{}\" and \"{}\" ({}).",
        frog.quote, low.quote, frog.reference
    ));
    if s.per_class.is_empty() {
        doc.paragraph("stats.json holds no per-class breakdown.");
    } else {
        let groups: Vec<&Group> = s.per_class.iter().collect();
        group_tables(doc, cx, &groups, "class");
    }
    let conf: Vec<&Group> = s
        .low_confidence
        .iter()
        .chain(s.high_confidence.iter())
        .collect();
    if conf.is_empty() {
        doc.paragraph("stats.json holds no confidence breakdown.");
    } else {
        let threshold = s
            .confidence_threshold
            .map_or_else(|| "the configured threshold".to_owned(), |t| num(t, 2));
        group_tables(
            doc,
            cx,
            &conf,
            &format!("confidence group (threshold {threshold})"),
        );
    }
}

/// The training log, one row per epoch.
pub fn training_log(doc: &mut Document, cx: &Context<'_>) {
    doc.heading(2, "Training log");
    let Some(log) = &cx.train.log else {
        doc.paragraph("The train folder holds no training_log.safetensors.");
        return;
    };
    let mut table = Table::new([
        "Epoch",
        "train loss",
        "train accuracy",
        "validation accuracy",
    ]);
    for e in 0..log.train_loss.len() {
        table.row([
            (e + 1).to_string(),
            num(f64::from(log.train_loss[e]), 4),
            num(f64::from(log.train_accuracy[e]), 4),
            num(f64::from(log.val_accuracy[e]), 4),
        ]);
    }
    doc.table("Per-epoch values of training_log.safetensors", table);
}
