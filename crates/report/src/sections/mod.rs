//! The report's sections, each appended to the document from the loaded inputs.

pub mod breakdowns;
pub mod comparison;
pub mod header;
pub mod reliability;
pub mod results;
pub mod saturation;

use sal_config::Config;

use crate::render::Document;

use crate::compare::Finding;
use crate::examples::Picks;
use crate::figures::font::TextSupport;
use crate::load::dataset::DatasetInfo;
use crate::load::metrics::Metrics;
use crate::load::provenance::StageRecord;
use crate::load::saliency::Saliency;
use crate::load::stats::Stats;
use crate::load::train::TrainInfo;
use crate::paper::PaperValues;
use crate::variants::{RunRow, VariantRow};

/// Everything a section may show.
#[derive(Debug)]
pub struct Context<'a> {
    /// The config the report was run with.
    pub config: &'a Config,
    /// The paper's values.
    pub paper: &'a PaperValues,
    /// Dataset facts.
    pub dataset: &'a DatasetInfo,
    /// Model facts and training log.
    pub train: &'a TrainInfo,
    /// Evaluated images and maps.
    pub saliency: &'a Saliency,
    /// AOPC and F summaries.
    pub metrics: &'a Metrics,
    /// Reliability statistics.
    pub stats: &'a Stats,
    /// Cache keys and wall times of the input stages.
    pub records: &'a [StageRecord],
    /// Figure 1's images.
    pub picks: &'a Picks,
    /// The comparison with the paper.
    pub findings: &'a [Finding],
    /// Whether figures have text.
    pub text: &'a TextSupport,
    /// The variants beside this run, already compared with it (see [`this_run`]).
    pub variants: &'a [VariantRow],
}

/// This run's row in "What moves the numbers", read from its own summary (as a variant's row
/// is read from the variant's), so both sides of a comparison come from one reader.
pub fn this_run(cx: &Context<'_>) -> RunRow {
    RunRow::from_summary("this run", &crate::output::summary_value(cx))
        .expect("this build reads the summary it writes")
}

impl Context<'_> {
    /// The display names of the methods, in method order.
    pub fn method_labels(&self) -> Vec<String> {
        self.metrics
            .methods
            .iter()
            .map(|m| self.paper.method_label(m))
            .collect()
    }
}

/// The whole report, section by section.
pub fn document(cx: &Context<'_>) -> Document {
    let mut doc = Document {
        title: "Sanity checks for saliency metrics: this run beside the paper".to_owned(),
        blocks: Vec::new(),
    };
    // The verdicts first (the claim scoreboard, Table 1 beside the paper's, the figures), as
    // the paper's results section reads; the provenance last, folded.
    header::intro(&mut doc, cx);
    comparison::write(&mut doc, cx);
    reliability::table1_section(&mut doc, cx);
    if !cx.variants.is_empty() {
        crate::variants::section(
            &mut doc,
            &this_run(cx),
            cx.variants,
            &RunRow::paper(cx.paper),
        );
    }
    results::figure1(&mut doc, cx);
    results::figure2a(&mut doc, cx);
    results::figure2b(&mut doc, cx);
    results::global_scores(&mut doc, cx);
    results::stats_global(&mut doc, cx);
    results::newer_metrics(&mut doc, cx);
    reliability::inter_method_section(&mut doc, cx);
    reliability::table2_section(&mut doc, cx);
    breakdowns::write(&mut doc, cx);
    saturation::write(&mut doc, cx);
    breakdowns::training_log(&mut doc, cx);
    header::provenance(&mut doc, cx);
    // The fold's summary is the section's heading (`##` in markdown).
    doc.folded("Source of the paper's values", |doc| {
        doc.paragraph(format!(
            "{} Transcribed from {}.",
            cx.paper.source.citation, cx.paper.source.transcribed_from
        ));
        doc.list(cx.paper.source.notes.clone());
    });
    doc
}
