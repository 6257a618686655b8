//! Table 1, inter-method reliability and Table 2.

use super::Context;
use crate::load::stats::Variant;
use crate::render::{num, with_interval, Document, Table, NONE};
use crate::tables::{table1, table2, table2_steps};

/// Table 1's section.
pub fn table1_section(doc: &mut Document, cx: &Context<'_>) {
    doc.heading(2, "Table 1: inter-rater reliability (Krippendorff's alpha)");
    let s = cx.stats;
    let level = s
        .alpha_level
        .clone()
        .unwrap_or_else(|| "unrecorded".to_owned());
    let interval = s.alpha_interval_level.map_or_else(
        || "unrecorded-level".to_owned(),
        |l| format!("{}%", num(l * 100.0, 1)),
    );
    let boot = s
        .bootstrap
        .map_or_else(|| "an unrecorded number of".to_owned(), |b| b.to_string());
    let caption = format!(
        "Krippendorff's alpha ({level} level) of the per-image rankings of the methods, images as raters, with {interval} bootstrap intervals from {boot} resamples of the images; ours beside the paper's. Paper: \"{}\" ({})",
        cx.paper.table1.caption, cx.paper.table1.reference
    );
    doc.table(caption, table1(cx.paper, s, &cx.metrics.fills));
}

/// Inter-method reliability: the mean pairwise Spearman rho between methods per variant.
pub fn inter_method_section(doc: &mut Document, cx: &Context<'_>) {
    doc.heading(
        2,
        "Inter-method reliability (mean pairwise Spearman rho between methods)",
    );
    let s = cx.stats;
    if s.inter_method.is_empty() {
        doc.paragraph("stats.json holds no inter-method correlations.");
        return;
    }
    let mut variants: Vec<Variant> = s.inter_method.iter().map(|e| e.variant.clone()).collect();
    variants.sort();
    variants.dedup();
    let mut table = Table::new(["Metric", "with edge", "without edge"]);
    for v in &variants {
        let cell = |edge: bool| {
            s.inter_method(v, edge)
                .map_or(NONE.to_owned(), |e| with_interval(e.value, e.ci))
        };
        table.row([v.label(), cell(true), cell(false)]);
    }
    let claim = &cx.paper.claims.inter_method;
    doc.table(
        format!(
            "Mean of the pairwise Spearman correlations between methods over images. The paper gives no table, only a range: \"{}\" ({})",
            claim.quote, claim.reference
        ),
        table,
    );
}

/// Table 2's section.
pub fn table2_section(doc: &mut Document, cx: &Context<'_>) {
    doc.heading(
        2,
        "Table 2: internal consistency (Spearman rho between metrics, per method)",
    );
    let steps = table2_steps(cx.paper, cx.stats);
    let at = steps.map_or_else(
        || "(no AOPC correlation computed)".to_owned(),
        |l| format!("at L = {l}"),
    );
    doc.table(
        format!(
            "Spearman correlations between pairs of metrics over the evaluated images, per method, AOPC {at}, mean fill unless stated; ours beside the paper's. Paper: \"{}\" ({})",
            cx.paper.table2.caption, cx.paper.table2.reference
        ),
        table2(cx.paper, cx.stats, &cx.metrics.methods),
    );
    doc.paragraph(
        "How the paper's Table 2 was read (its row labels are garbled in the markdown source):",
    );
    doc.list(cx.paper.table2.reading.clone());
}
