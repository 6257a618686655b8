//! What the report takes from the `stats` stage (`stats.json`), in the report's own terms.
//!
//! The parser of the stage's file is in [`crate::load::stats_json`]; everything downstream
//! (tables, comparison, breakdowns) sees only these types.

use std::path::PathBuf;

use crate::paper::Metric;

/// A metric variant: a metric, its L (AOPC only) and a fill.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Variant {
    /// The metric.
    pub metric: Metric,
    /// L for AOPC, `None` for F.
    pub steps: Option<usize>,
    /// The fill.
    pub fill: String,
}

impl Variant {
    /// Whether the paper reports this metric with this fill (so its claims apply to it).
    pub fn in_paper(&self, paper: &crate::paper::PaperValues) -> bool {
        self.metric.in_paper() && paper.has_fill(&self.fill)
    }

    /// A short label such as `AOPC_MoRF, L=100, mean fill` (`SRG (not in the paper), L=100,
    /// mean fill` for a metric the paper does not have).
    pub fn label(&self) -> String {
        match self.steps {
            Some(l) => format!("{}, L={l}, {} fill", self.metric.tagged_label(), self.fill),
            None => format!("{}, {} fill", self.metric.tagged_label(), self.fill),
        }
    }
}

/// A statistic with an optional interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The value.
    pub value: f64,
    /// Lower and upper bound, if the stage computed them.
    pub ci: Option<(f64, f64)>,
}

/// Krippendorff's alpha of one variant (a cell of Table 1).
#[derive(Debug, Clone, PartialEq)]
pub struct AlphaEntry {
    /// Metric, L and fill.
    pub variant: Variant,
    /// Whether `edge` was among the ranked methods.
    pub with_edge: bool,
    /// Alpha with its bootstrap interval.
    pub alpha: Estimate,
}

/// Mean pairwise Spearman rho between methods for one variant (inter-method reliability).
#[derive(Debug, Clone, PartialEq)]
pub struct InterMethodEntry {
    /// Metric, L and fill.
    pub variant: Variant,
    /// Whether `edge` was included.
    pub with_edge: bool,
    /// Mean pairwise rho.
    pub rho: Estimate,
}

/// Spearman rho between two metric variants for one method (a cell of Table 2).
#[derive(Debug, Clone, PartialEq)]
pub struct ConsistencyEntry {
    /// The method.
    pub method: String,
    /// First variant.
    pub x: Variant,
    /// Second variant.
    pub y: Variant,
    /// Rho.
    pub rho: Estimate,
    /// The number of image pairs behind rho, if recorded.
    pub n: Option<usize>,
}

/// The mean of one metric variant for one method over a group of images.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupMean {
    /// The method (`random` for the random baseline where the stage reports it).
    pub method: String,
    /// Metric, L and fill.
    pub variant: Variant,
    /// The mean over the group's images, with an interval if computed.
    pub mean: Estimate,
}

/// The random-ordering baseline of AOPC at one L and fill.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomEntry {
    /// Fill.
    pub fill: String,
    /// L.
    pub steps: usize,
    /// R.
    pub orderings: usize,
    /// Mean AOPC over orderings and images.
    pub mean: f64,
    /// Percentile band of the per-ordering means.
    pub interval: Option<(f64, f64)>,
    /// Bootstrap interval over images.
    pub ci: Option<(f64, f64)>,
}

/// One group of images of a breakdown (a class, or a confidence band) and its means.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The group's name (a class name, or e.g. `confidence <= 0.8`).
    pub name: String,
    /// Images in the group.
    pub images: usize,
    /// Means per method and variant.
    pub means: Vec<GroupMean>,
}

/// The `stats` stage's results, as the report uses them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stats {
    /// The file read.
    pub path: PathBuf,
    /// Alpha's level of measurement (`ordinal`, ...), if recorded.
    pub alpha_level: Option<String>,
    /// Bootstrap resamples, if recorded.
    pub bootstrap: Option<usize>,
    /// Level of the alpha intervals, if recorded.
    pub alpha_interval_level: Option<f64>,
    /// Level of the intervals of means, if recorded.
    pub mean_interval_level: Option<f64>,
    /// L of the AOPC in Table 2, if recorded.
    pub consistency_steps: Option<usize>,
    /// Each metric's one-line definition as the stage recorded it (`metrics` of stats/3).
    pub definitions: Vec<(Metric, String)>,
    /// Table 1 cells.
    pub alpha: Vec<AlphaEntry>,
    /// Inter-method reliability.
    pub inter_method: Vec<InterMethodEntry>,
    /// Table 2 cells.
    pub consistency: Vec<ConsistencyEntry>,
    /// Global means over all images, with bootstrap intervals.
    pub global: Vec<GroupMean>,
    /// The random baseline's AOPC at the reported L.
    pub random: Vec<RandomEntry>,
    /// Per-class breakdown, one group per class.
    pub per_class: Vec<Group>,
    /// Images with confidence at most `confidence_threshold`.
    pub low_confidence: Option<Group>,
    /// The other images.
    pub high_confidence: Option<Group>,
    /// The threshold of the confidence breakdown.
    pub confidence_threshold: Option<f64>,
}

impl Stats {
    /// The alpha of a variant with or without edge.
    pub fn alpha(&self, variant: &Variant, with_edge: bool) -> Option<Estimate> {
        self.alpha
            .iter()
            .find(|a| &a.variant == variant && a.with_edge == with_edge)
            .map(|a| a.alpha)
    }

    /// The inter-method rho of a variant with or without edge.
    pub fn inter_method(&self, variant: &Variant, with_edge: bool) -> Option<Estimate> {
        self.inter_method
            .iter()
            .find(|a| &a.variant == variant && a.with_edge == with_edge)
            .map(|a| a.rho)
    }

    /// Rho between `x` and `y` (in either order) for `method`.
    pub fn consistency(&self, method: &str, x: &Variant, y: &Variant) -> Option<Estimate> {
        self.consistency
            .iter()
            .find(|c| c.method == method && ((&c.x == x && &c.y == y) || (&c.x == y && &c.y == x)))
            .map(|c| c.rho)
    }
}

impl Group {
    /// The group's mean of `variant` for `method`.
    pub fn mean(&self, method: &str, variant: &Variant) -> Option<f64> {
        self.estimate(method, variant).map(|e| e.value)
    }

    /// The group's mean of `variant` for `method` with its interval, if the stage computed one.
    pub fn estimate(&self, method: &str, variant: &Variant) -> Option<Estimate> {
        self.means
            .iter()
            .find(|m| m.method == method && &m.variant == variant)
            .map(|m| m.mean)
    }
}
