//! The automatic comparison: which of the paper's rankings and conclusions our numbers share.
//!
//! Each check states the paper's claim (from `data/paper_values.json`, quoted or computed from
//! its tables), our corresponding numbers, and a verdict computed from both. Nothing here knows
//! the answer in advance: reverse our numbers and the verdicts reverse.

mod breakdown;
mod global;
mod reliability;

use crate::load::metrics::Metrics;
use crate::load::saliency::Saliency;
use crate::load::stats::Stats;
use crate::load::train::TrainInfo;
use crate::paper::PaperValues;

/// Whether our numbers agree with a claim of the paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Our numbers support the claim.
    Agrees,
    /// Our numbers contradict it.
    Differs,
    /// We lack what the claim needs (a method, a fill, a statistic).
    NotComparable,
}

impl Verdict {
    /// The word shown in the report.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Agrees => "agrees",
            Verdict::Differs => "differs",
            Verdict::NotComparable => "not comparable",
        }
    }

    /// `Agrees` if `ok`, else `Differs`.
    pub fn from_bool(ok: bool) -> Self {
        if ok {
            Verdict::Agrees
        } else {
            Verdict::Differs
        }
    }
}

/// One checked claim.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// A stable id (claim id, plus the fill or row where it is split).
    pub id: String,
    /// What is compared.
    pub topic: String,
    /// What the paper says or shows.
    pub paper: String,
    /// What our numbers show.
    pub ours: String,
    /// The verdict.
    pub verdict: Verdict,
}

impl Finding {
    fn new(
        id: impl Into<String>,
        topic: impl Into<String>,
        paper: impl Into<String>,
        ours: impl Into<String>,
        verdict: Verdict,
    ) -> Self {
        Finding {
            id: id.into(),
            topic: topic.into(),
            paper: paper.into(),
            ours: ours.into(),
            verdict,
        }
    }

    fn not_comparable(
        id: impl Into<String>,
        topic: impl Into<String>,
        paper: impl Into<String>,
        why: impl Into<String>,
    ) -> Self {
        Finding::new(id, topic, paper, why, Verdict::NotComparable)
    }
}

/// Everything of ours the comparison reads.
#[derive(Debug, Clone, Copy)]
pub struct Ours<'a> {
    /// AOPC bands and F values.
    pub metrics: &'a Metrics,
    /// Reliability statistics and breakdowns.
    pub stats: &'a Stats,
    /// Confidence of each evaluated image.
    pub saliency: &'a Saliency,
    /// The model's recorded facts.
    pub train: &'a TrainInfo,
}

/// Every check, in the order of the report: global scores (Figure 2), reliability (Tables 1
/// and 2), then the breakdowns the discussion mentions.
pub fn compare(paper: &PaperValues, ours: Ours<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(global::findings(paper, ours));
    findings.extend(reliability::findings(paper, ours.stats));
    findings.extend(breakdown::findings(paper, ours));
    findings
}

/// A one-paragraph tally of the verdicts.
pub fn summary(findings: &[Finding]) -> String {
    let count = |v: Verdict| findings.iter().filter(|f| f.verdict == v).count();
    let (agree, differ, na) = (
        count(Verdict::Agrees),
        count(Verdict::Differs),
        count(Verdict::NotComparable),
    );
    let differing: Vec<&str> = findings
        .iter()
        .filter(|f| f.verdict == Verdict::Differs)
        .map(|f| f.topic.as_str())
        .collect();
    let mut text = format!(
        "Of {} checks of the paper's rankings and conclusions, {agree} agree with our numbers, {differ} differ and {na} cannot be compared with what this run computed.",
        findings.len()
    );
    if !differing.is_empty() {
        text.push_str(&format!(" Differing: {}.", differing.join("; ")));
    }
    text
}

/// `a, b and c`.
pub(crate) fn join_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
