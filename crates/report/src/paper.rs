//! The paper's numbers and claims, transcribed in `data/paper_values.json` with their source.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{ReportError, Result};

/// The bundled transcription of the paper's tables and claims.
pub const PAPER_VALUES_JSON: &str = include_str!("../data/paper_values.json");

/// A saliency metric: the paper's three, then the newer ones the stats stage also scores (see
/// `sal_psychometrics::stage::variant::DEFINITIONS` and docs/artifacts.md for their
/// definitions). Adding one here is a variant and its row in [`Metric::ALL`] and the `match`es
/// below; every table, breakdown and figure panel iterates over [`Metric::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Faithfulness F (Alvarez-Melis and Jaakkola): higher is better.
    Faithfulness,
    /// AOPC with the most relevant pixels first: higher is better.
    Morf,
    /// AOPC with the least relevant pixels first: lower is better.
    Lerf,
    /// Symmetric relevance gain (Bluecher et al., TMLR 2024), AOPC_MoRF - AOPC_LeRF: higher
    /// is better. Not in the paper.
    Srg,
    /// Quantus's pixel-flipping AUC (trapezoid rule over f along MoRF): lower is better. Not
    /// in the paper.
    #[serde(rename = "auc_morf")]
    AucMorf,
}

impl Metric {
    /// Every metric, the paper's first (the order of its tables).
    pub const ALL: [Metric; 5] = [
        Metric::Faithfulness,
        Metric::Morf,
        Metric::Lerf,
        Metric::Srg,
        Metric::AucMorf,
    ];

    /// The paper's name (for the newer metrics, their authors').
    pub fn label(self) -> &'static str {
        match self {
            Metric::Faithfulness => "Faithfulness F",
            Metric::Morf => "AOPC_MoRF",
            Metric::Lerf => "AOPC_LeRF",
            Metric::Srg => "SRG",
            Metric::AucMorf => "AUC_MoRF (Quantus)",
        }
    }

    /// [`Metric::label`], followed by "(not in the paper)" for a metric the paper does not have.
    pub fn tagged_label(self) -> String {
        if self.in_paper() {
            self.label().to_owned()
        } else {
            format!("{} (not in the paper)", self.label())
        }
    }

    /// The name in the report's summary: `faithfulness`, `morf`, `lerf`, `srg` or `auc_morf`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Faithfulness => "faithfulness",
            Metric::Morf => "morf",
            Metric::Lerf => "lerf",
            Metric::Srg => "srg",
            Metric::AucMorf => "auc_morf",
        }
    }

    /// Parses [`Metric::name`] and the stats stage's names (`aopc_morf` / `aopc_lerf`, `f`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "faithfulness" | "f" => Some(Metric::Faithfulness),
            "morf" | "aopc_morf" => Some(Metric::Morf),
            "lerf" | "aopc_lerf" => Some(Metric::Lerf),
            "srg" => Some(Metric::Srg),
            "auc_morf" => Some(Metric::AucMorf),
            _ => None,
        }
    }

    /// Whether a higher score means a better saliency method.
    pub fn higher_is_better(self) -> bool {
        !matches!(self, Metric::Lerf | Metric::AucMorf)
    }

    /// Whether Tomsett et al. (2020) report it.
    pub fn in_paper(self) -> bool {
        matches!(self, Metric::Faithfulness | Metric::Morf | Metric::Lerf)
    }

    /// Whether its scores carry an L (every metric but F).
    pub fn has_steps(self) -> bool {
        self != Metric::Faithfulness
    }
}

/// Everything transcribed from the paper.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PaperValues {
    /// Citation and transcription notes.
    pub source: Source,
    /// Our fill name -> the paper's wording.
    pub fills: BTreeMap<String, String>,
    /// Our method name -> the paper's name.
    pub methods: BTreeMap<String, String>,
    /// The paper's figures: captions and what Figure 1 shows.
    pub figures: Figures,
    /// Table 1.
    pub table1: Table1,
    /// Table 2.
    pub table2: Table2,
    /// Claims of the text, with quotes.
    pub claims: Claims,
}

/// Where the values come from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Source {
    /// The paper.
    pub citation: String,
    /// The file transcribed.
    pub transcribed_from: String,
    /// How the transcription maps the paper's words to ours.
    pub notes: Vec<String>,
}

/// The paper's figures.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Figures {
    /// Figure 1.
    pub figure1: Figure1,
    /// Figure 2a.
    pub figure2a: FigureCaption,
    /// Figure 2b.
    pub figure2b: FigureCaption,
}

/// A figure's caption and where it is.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FigureCaption {
    /// Section of the paper.
    pub reference: String,
    /// The paper's caption.
    pub caption: String,
}

/// Figure 1: which classes, at which confidence.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Figure1 {
    /// Section of the paper.
    pub reference: String,
    /// The classes shown, top to bottom.
    pub classes: Vec<String>,
    /// The images' minimum confidence.
    pub min_confidence: f64,
    /// The paper's caption.
    pub caption: String,
}

/// Table 1: Krippendorff's alpha with bootstrap intervals.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Table1 {
    /// Section of the paper.
    pub reference: String,
    /// The paper's caption.
    pub caption: String,
    /// Level of the bracketed intervals.
    pub interval_level: f64,
    /// Bootstrap resamples.
    pub bootstrap: usize,
    /// Columns: fill x edge.
    pub columns: Vec<Table1Column>,
    /// Rows: metric (and L).
    pub rows: Vec<Table1Row>,
}

/// A column of Table 1.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Table1Column {
    /// Our fill name.
    pub fill: String,
    /// Whether edge detection is among the ranked methods.
    pub with_edge: bool,
    /// The paper's header.
    pub label: String,
}

/// A row of Table 1.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Table1Row {
    /// The metric.
    pub metric: Metric,
    /// L for AOPC; none for F.
    pub steps: Option<usize>,
    /// The paper's row label.
    pub label: String,
    /// Per column: `[alpha, lower, upper]`.
    pub cells: Vec<[f64; 3]>,
}

/// Table 2: Spearman correlations between metrics, per method.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Table2 {
    /// Section of the paper.
    pub reference: String,
    /// The paper's caption.
    pub caption: String,
    /// L of the AOPC values correlated.
    pub steps: usize,
    /// Our method names, in the paper's column order.
    pub columns: Vec<String>,
    /// How the garbled row labels were read.
    pub reading: Vec<String>,
    /// The rows.
    pub rows: Vec<Table2Row>,
}

/// One metric variant: a metric under a fill.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub struct MetricFill {
    /// The metric.
    pub metric: Metric,
    /// Our fill name.
    pub fill: String,
}

/// A row of Table 2.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Table2Row {
    /// A short id.
    pub id: String,
    /// The paper's row label (as reconstructed).
    pub label: String,
    /// First metric.
    pub x: MetricFill,
    /// Second metric.
    pub y: MetricFill,
    /// One rho per column.
    pub values: Vec<f64>,
}

/// A claim: its data, the paper's words, and where they are.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Claim<T> {
    /// What the claim says, as data.
    #[serde(flatten)]
    pub data: T,
    /// The paper's words.
    pub quote: String,
    /// The section.
    pub reference: String,
}

/// A number.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Value {
    /// The value.
    pub value: f64,
}

/// The best method per fill.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ByFill {
    /// Fill -> method (or a verdict word such as `indistinguishable`).
    pub by_fill: BTreeMap<String, String>,
}

/// The LeRF ranking the paper describes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LerfOrder {
    /// The two best methods (either order).
    pub best_two: Vec<String>,
    /// The third.
    pub third: String,
    /// The last.
    pub last: String,
    /// Whether the ranking is the same for every fill.
    pub consistent_between_fills: bool,
}

/// A set of methods.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Methods {
    /// Our method names.
    pub methods: Vec<String>,
}

/// One method.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OneMethod {
    /// Our method name.
    pub method: String,
}

/// The alpha threshold and the largest alpha of Table 1.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AlphaThreshold {
    /// Values below this indicate unreliability.
    pub value: f64,
    /// The largest alpha in the paper's Table 1.
    pub largest: f64,
}

/// Metrics a claim is about.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Metrics {
    /// The metrics.
    pub metrics: Vec<Metric>,
}

/// Nothing beyond the quote.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Empty {}

/// One inter-method reliability value and the variant it belongs to.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InterMethodPoint {
    /// Mean pairwise Spearman rho.
    pub value: f64,
    /// The metric.
    pub metric: Metric,
    /// L for AOPC.
    pub steps: Option<usize>,
    /// Our fill name.
    pub fill: String,
    /// Whether edge detection is included.
    pub with_edge: bool,
}

/// The inter-method reliability the text reports.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InterMethod {
    /// The lowest mean pairwise rho.
    pub lowest: InterMethodPoint,
    /// The highest.
    pub highest: InterMethodPoint,
    /// Range of AOPC_MoRF values.
    pub morf_range: [f64; 2],
    /// Range of faithfulness values without edge detection.
    pub faithfulness_range_without_edge: [f64; 2],
}

/// A share of images above a confidence threshold.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Share {
    /// The threshold.
    pub threshold: f64,
    /// The share.
    pub value: f64,
}

/// The low-confidence LeRF observation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LowConfidence {
    /// Confidence at most this.
    pub threshold: f64,
    /// How many test images the paper had below it.
    pub count: usize,
    /// The methods concerned.
    pub methods: Vec<String>,
}

/// A class singled out.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OneClass {
    /// The class name.
    pub class: String,
}

/// The claims of the text the comparison checks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Claims {
    /// Test accuracy of the paper's model.
    pub test_accuracy: Claim<Value>,
    /// Best method under MoRF per fill.
    pub morf_best: Claim<ByFill>,
    /// Sensitivity against deep Taylor under MoRF, per fill.
    pub morf_sensitivity_vs_deep_taylor: Claim<ByFill>,
    /// The LeRF ranking.
    pub lerf_order: Claim<LerfOrder>,
    /// Methods worse than random under LeRF.
    pub lerf_worse_than_random: Claim<Methods>,
    /// Methods whose MoRF is better with the random fill.
    pub random_fill_helps_edge_like_morf: Claim<Methods>,
    /// The method with the lowest mean F in every fill.
    pub faithfulness_lowest: Claim<OneMethod>,
    /// Alpha below 0.65 everywhere.
    pub alpha_threshold: Claim<AlphaThreshold>,
    /// Including edge detection raises alpha.
    pub edge_raises_alpha: Claim<Empty>,
    /// The random fill lowers alpha for these metrics.
    pub random_fill_lowers_alpha: Claim<Metrics>,
    /// Inter-method reliability.
    pub inter_method: Claim<InterMethod>,
    /// Share of very confident classifications.
    pub high_confidence_share: Claim<Share>,
    /// LeRF on low-confidence images.
    pub low_confidence_lerf: Claim<LowConfidence>,
    /// The frog class.
    pub frog_class: Claim<OneClass>,
}

impl PaperValues {
    /// Parses the bundled transcription.
    pub fn bundled() -> Result<Self> {
        let values: PaperValues = serde_json::from_str(PAPER_VALUES_JSON)
            .map_err(|e| ReportError::PaperValues(e.to_string()))?;
        values.check()?;
        Ok(values)
    }

    /// Checks the shapes the tables promise: every row has one cell per column, every interval
    /// holds its value.
    fn check(&self) -> Result<()> {
        for row in &self.table1.rows {
            if row.cells.len() != self.table1.columns.len() {
                return Err(ReportError::PaperValues(format!(
                    "table1 row `{}` has {} cells",
                    row.label,
                    row.cells.len()
                )));
            }
            if let Some(cell) = row.cells.iter().find(|[v, lo, hi]| !(lo <= v && v <= hi)) {
                return Err(ReportError::PaperValues(format!(
                    "table1 row `{}`: interval {cell:?} excludes its value",
                    row.label
                )));
            }
        }
        for row in &self.table2.rows {
            if row.values.len() != self.table2.columns.len() {
                return Err(ReportError::PaperValues(format!(
                    "table2 row `{}` has {} values",
                    row.id,
                    row.values.len()
                )));
            }
        }
        Ok(())
    }

    /// The paper's name of our method, or the method name itself.
    pub fn method_label(&self, method: &str) -> String {
        self.methods
            .get(method)
            .cloned()
            .unwrap_or_else(|| method.to_owned())
    }

    /// `<fill> fill (<paper's wording>)`, or `<fill> fill (not in the paper)`.
    pub fn fill_label(&self, fill: &str) -> String {
        match self.fills.get(fill) {
            Some(paper) => format!("{fill} fill ({paper})"),
            None => format!("{fill} fill (not in the paper)"),
        }
    }

    /// The fill's name, followed by "(not in the paper)" for a fill the paper does not have.
    pub fn fill_name(&self, fill: &str) -> String {
        if self.has_fill(fill) {
            fill.to_owned()
        } else {
            format!("{fill} (not in the paper)")
        }
    }

    /// Whether the paper perturbs with this fill (`mean`, `uniform`): its claims are checked
    /// on those fills only, never on a newer one such as `imputation`.
    pub fn has_fill(&self, fill: &str) -> bool {
        self.fills.contains_key(fill)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_values_parse_and_hold_the_papers_headline_numbers() {
        let p = PaperValues::bundled().unwrap();
        assert_eq!(p.table1.rows.len(), 11);
        assert_eq!(p.table1.columns.len(), 4);
        // "The largest value in the table, 0.48 for AOPC_MoRF at L = 100 using mean perturbation
        // and including edge detection".
        let largest = p
            .table1
            .rows
            .iter()
            .flat_map(|r| r.cells.iter().map(|c| c[0]))
            .fold(0.0, f64::max);
        assert_eq!(largest, p.claims.alpha_threshold.data.largest);
        assert_eq!(
            p.figures.figure1.classes,
            ["dog", "frog", "horse", "ship", "truck"]
        );
        let morf100 = p
            .table1
            .rows
            .iter()
            .find(|r| r.metric == Metric::Morf && r.steps == Some(100))
            .unwrap();
        assert_eq!(morf100.cells[0][0], 0.48);
        // The discussion's rho = 0.58 (deep Taylor) and 0.77 (SHAP) are in the MoRF random-vs-mean row.
        let row = p
            .table2
            .rows
            .iter()
            .find(|r| r.id == "morf_uniform_vs_mean")
            .unwrap();
        let col = |m: &str| p.table2.columns.iter().position(|c| c == m).unwrap();
        assert_eq!(
            (row.values[col("deep_taylor")], row.values[col("deep_shap")]),
            (0.58, 0.77)
        );
        // "slightly anti-correlated with AOPC_LeRF across all saliency methods".
        let row = p.table2.rows.iter().find(|r| r.id == "f_vs_lerf").unwrap();
        assert!(row.values.iter().all(|&v| v < 0.0));
    }
}
