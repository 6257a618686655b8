//! The automatic comparison with the paper, as a summary and a table.

use super::Context;
use crate::compare::summary;
use crate::render::{Document, Table};

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
        "Each row checks one ranking or conclusion of the paper against our numbers; the verdict is computed from both (the paper's side is quoted or computed from its tables, see data/paper_values.json). A ranking agrees when our means give the paper's order, or when the methods our means put out of the paper's order are tied with the ones they swap with (overlapping 95% intervals of the mean, the rule the paper uses for sensitivity against deep Taylor); the text then says so.",
        table,
    );
}
