//! The automatic comparison with the paper, as a summary and a table.

use super::Context;
use crate::compare::{join_words, summary, Finding, Verdict};
use crate::render::{Document, Table};
use crate::variants::VariantRow;

/// The comparison section.
pub fn write(doc: &mut Document, cx: &Context<'_>) {
    doc.heading(2, "Comparison with the paper");
    doc.paragraph(summary(cx.findings));
    let mut table = Table::prose(["Claim", "Paper", "This run", "Verdict"]);
    for f in cx.findings {
        table.row([
            f.topic.clone(),
            f.paper.clone(),
            f.ours.clone(),
            f.verdict.label().to_owned(),
        ]);
    }
    doc.table(
        "Each row checks one ranking or conclusion of the paper against our numbers; the verdict is computed from both (the paper's side is quoted or computed from its tables, see data/paper_values.json). Every claim that orders two things (two methods, a method and the random baseline, two fills, a correlation and 0) follows one rule: it agrees when our means give the paper's order, or when the two are not ordered the other way beyond our 95% intervals (overlapping intervals of the mean, the rule the paper uses for sensitivity against deep Taylor; for a Spearman rho, Fisher's z with Bonett and Wright's variance); the text then says so, and the count above says how many agree only that way. The other claims (accuracy, confident share, alpha and correlation patterns, the frog class against the median of the other classes) are read from the values alone.",
        table,
    );
    let causes = differing_causes(cx.findings, cx.variants);
    if !causes.is_empty() {
        doc.paragraph(if cx.variants.is_empty() {
            "Why each differing claim differs: what our numbers show (no variant of this run was given to compare with)."
        } else {
            "Why each differing claim differs: what our numbers show, and which variant of \"What moves the numbers\" (below) the claim agrees in, if any; a variant in which it agrees names the choice that explains it."
        });
        doc.list(causes);
    }
}

/// Per differing finding, its evidence and the variants in which it agrees (or that none does).
pub fn differing_causes(findings: &[Finding], variants: &[VariantRow]) -> Vec<String> {
    let runs: Vec<(&str, &[crate::variants::ClaimVerdict])> = variants
        .iter()
        .filter_map(|v| match v {
            VariantRow::Run { row, .. } => Some((row.name.as_str(), row.verdicts.as_slice())),
            VariantRow::Unavailable { .. } => None,
        })
        .collect();
    findings
        .iter()
        .filter(|f| f.verdict == Verdict::Differs)
        .map(|f| {
            let mut parts = Vec::new();
            if let Some(evidence) = &f.evidence {
                parts.push(evidence.clone());
            }
            let agreeing: Vec<String> = runs
                .iter()
                .filter(|(_, verdicts)| {
                    verdicts
                        .iter()
                        .any(|v| v.id == f.id && v.verdict == Verdict::Agrees.label())
                })
                .map(|(name, _)| format!("\"{name}\""))
                .collect();
            if !agreeing.is_empty() {
                parts.push(format!(
                    "it agrees in {}: that choice explains it",
                    join_words(&agreeing)
                ));
            } else if !runs.is_empty() {
                parts.push(format!(
                    "it differs in every variant run here ({}): none of those choices explains it",
                    join_words(
                        &runs
                            .iter()
                            .map(|(n, _)| format!("\"{n}\""))
                            .collect::<Vec<_>>()
                    )
                ));
            }
            if parts.is_empty() {
                parts.push("no evidence computed for this claim beyond its row above".to_owned());
            }
            format!("**{}** (`{}`): {}.", f.topic, f.id, parts.join("; "))
        })
        .collect()
}
