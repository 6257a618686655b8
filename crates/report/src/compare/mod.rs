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
    /// For an agreeing claim: our means alone do not give the paper's answer, only our 95%
    /// intervals do not contradict it (tied methods, a difference from random or a sign that
    /// our sample cannot tell). The text says which.
    pub within_intervals: bool,
    /// For a differing claim: what our numbers show about why (computed evidence, such as the
    /// same check on a subset the paper blames), if the check has any.
    pub evidence: Option<String>,
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
            within_intervals: false,
            evidence: None,
        }
    }

    /// A finding whose verdict follows [`interval_verdict`]: `Agrees` from our means (`strict`),
    /// else `Differs` where our numbers order the two things the other way beyond our intervals
    /// (`contradiction` says how, and becomes the evidence), else `Agrees` within our intervals
    /// (`ours` then ends with `tie_note`, if any).
    fn judged(
        id: impl Into<String>,
        topic: impl Into<String>,
        paper: impl Into<String>,
        ours: impl Into<String>,
        strict: bool,
        contradiction: Option<String>,
        tie_note: &str,
    ) -> Self {
        let (verdict, within_intervals) = interval_verdict(strict, contradiction.is_some());
        let mut ours = ours.into();
        if within_intervals && !tie_note.is_empty() {
            ours.push_str("; ");
            ours.push_str(tie_note);
        }
        Finding {
            within_intervals,
            ..Finding::new(id, topic, paper, ours, verdict)
        }
        .with_evidence(contradiction)
    }

    /// The same finding with `evidence` attached where it differs.
    fn with_evidence(mut self, evidence: Option<String>) -> Self {
        if self.verdict == Verdict::Differs {
            self.evidence = evidence;
        }
        self
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

/// The one rule of every claim that orders two things (two methods, a method and the random
/// baseline, a correlation and 0): it agrees when our means give the paper's order (`strict`),
/// or when they do not but the two are not ordered the other way beyond our 95% intervals
/// (`contradicted` is false: overlapping intervals of the mean, the rule the paper uses for
/// "indistinguishable"). Returns the verdict and whether it rests on the intervals alone.
pub(crate) fn interval_verdict(strict: bool, contradicted: bool) -> (Verdict, bool) {
    if strict {
        (Verdict::Agrees, false)
    } else if contradicted {
        (Verdict::Differs, false)
    } else {
        (Verdict::Agrees, true)
    }
}

/// A mean with the bounds of its 95% interval: `(mean, lo, hi)`.
pub(crate) type Interval = (f64, f64, f64);

/// A claim that each of `values` is worse (`worse`) or better than the random baseline under
/// LeRF (lower AOPC_LeRF is better), judged by [`interval_verdict`]'s rule. Returns whether our
/// means give the claim for every method, and the methods that are on the other side of random
/// beyond both 95% intervals (which contradict it).
pub(crate) fn against_random(
    values: &[(String, Interval)],
    random: Interval,
    worse: bool,
) -> (bool, Vec<String>) {
    let strict = values.iter().all(|(_, v)| {
        if worse {
            v.0 > random.0
        } else {
            v.0 < random.0
        }
    });
    let opposite = values
        .iter()
        .filter(|(_, v)| {
            if worse {
                v.2 < random.1
            } else {
                v.1 > random.2
            }
        })
        .map(|(m, _)| m.clone())
        .collect();
    (strict, opposite)
}

/// `0.277 (0.218–0.334)`.
pub(crate) fn mean_with_interval(v: Interval) -> String {
    format!(
        "{} ({}–{})",
        crate::render::num(v.0, 3),
        crate::render::num(v.1, 3),
        crate::render::num(v.2, 3)
    )
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
    let within = findings.iter().filter(|f| f.within_intervals).count();
    let within_text = if within > 0 {
        format!(
            " ({} from our means, {within} only within our 95% intervals: a tie, a difference from random or a sign this sample cannot tell)",
            agree - within
        )
    } else {
        String::new()
    };
    let mut text = format!(
        "Of {} checks of the paper's rankings and conclusions, {agree} agree with our numbers{within_text}, {differ} differ and {na} cannot be compared with what this run computed.",
        findings.len()
    );
    if !differing.is_empty() {
        text.push_str(&format!(" Differing: {}.", differing.join("; ")));
    }
    text
}

/// The display names of `methods`, as `a, b and c`.
pub(crate) fn method_list<'a>(
    paper: &PaperValues,
    methods: impl IntoIterator<Item = &'a String>,
) -> String {
    join_words(
        &methods
            .into_iter()
            .map(|m| paper.method_label(m))
            .collect::<Vec<_>>(),
    )
}

/// `0.277 (0.218–0.334)` per method, then the random baseline's: `a …, b … vs random …`.
pub(crate) fn against_random_text(
    paper: &PaperValues,
    values: &[(String, Interval)],
    random: Interval,
) -> String {
    format!(
        "{} vs random {}",
        values
            .iter()
            .map(|(m, v)| format!("{} {}", paper.method_label(m), mean_with_interval(*v)))
            .collect::<Vec<_>>()
            .join(", "),
        mean_with_interval(random)
    )
}

/// `a, b and c`.
pub(crate) fn join_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_agrees_by_its_means_or_within_intervals_and_differs_only_beyond_them() {
        assert_eq!(interval_verdict(true, false), (Verdict::Agrees, false));
        // Our means may agree while another pair is apart: the means decide.
        assert_eq!(interval_verdict(true, true), (Verdict::Agrees, false));
        assert_eq!(interval_verdict(false, false), (Verdict::Agrees, true));
        assert_eq!(interval_verdict(false, true), (Verdict::Differs, false));
    }

    #[test]
    fn a_method_contradicts_worse_than_random_only_when_clearly_better() {
        let random = (0.25, 0.22, 0.28);
        let m = |name: &str, v: Interval| (name.to_owned(), v);
        // Both above random's mean: the claim holds by the means.
        let worse = [m("a", (0.30, 0.27, 0.33)), m("b", (0.26, 0.20, 0.32))];
        assert_eq!(against_random(&worse, random, true), (true, vec![]));
        // b below random's mean but inside its interval: a tie, not a contradiction.
        let tied = [m("a", (0.30, 0.27, 0.33)), m("b", (0.24, 0.20, 0.27))];
        assert_eq!(against_random(&tied, random, true), (false, vec![]));
        // b's interval wholly below random's: b is clearly better, the claim is contradicted.
        let apart = [m("a", (0.40, 0.37, 0.43)), m("b", (0.12, 0.10, 0.15))];
        assert_eq!(
            against_random(&apart, random, true),
            (false, vec!["b".to_owned()])
        );
        // "Better than random" (lower): the mirror image.
        assert_eq!(
            against_random(&apart, random, false),
            (false, vec!["a".to_owned()])
        );
        assert_eq!(
            against_random(&[m("b", (0.12, 0.10, 0.15))], random, false),
            (true, vec![])
        );
    }
}
