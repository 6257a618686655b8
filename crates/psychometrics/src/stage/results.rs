//! The results of the stage, as written to `stats.json` (and, as tensors, to
//! `stats.safetensors`). NaN is written as JSON `null`.

use serde::Serialize;

use crate::level::Level;
use crate::rank::Direction;
use crate::stage::variant::{Definition, Variant};

/// Everything the `stats` stage computes.
#[derive(Debug, Clone, Serialize)]
pub struct StatsResults {
    /// `stats/<version>`.
    pub schema: String,
    /// N, the images (coders).
    pub images: usize,
    /// The methods (units), in the order of every per-method list.
    pub methods: Vec<String>,
    /// The fills.
    pub fills: Vec<String>,
    /// The metrics scored, with their definitions (`sal_psychometrics::stage::variant::DEFINITIONS`).
    pub metrics: Vec<MetricInfo>,
    /// The sets of methods ranked together: `all`, and `without_<baseline>`.
    pub subsets: Vec<SubsetInfo>,
    /// L of the metric curves.
    pub curve_steps: usize,
    /// The L values of AOPC reported (the config's `aopc_steps` that fit the curves, ascending).
    pub aopc_steps: Vec<usize>,
    /// The config's `aopc_steps` skipped because they exceed the curves' L.
    pub skipped_aopc_steps: Vec<usize>,
    /// L of the AOPC in the internal-consistency table.
    pub consistency_steps: usize,
    /// Level of measurement of Krippendorff's alpha.
    pub alpha_level: Level,
    /// Bootstrap resamples B.
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// Confidence level of the alpha intervals.
    pub alpha_ci: f64,
    /// Confidence level of the mean-score intervals (and of the random baseline's percentile
    /// band over orderings).
    pub mean_ci: f64,
    /// Threshold of the confidence breakdown.
    pub confidence_threshold: f64,
    /// Images whose faithfulness is undefined (NaN), per method and fill.
    pub faithfulness_nan: Vec<NanCount>,
    /// What f32 probabilities would have lost against the f64 complement the metrics use:
    /// the metrics file's `saturation` totals, `{"<f32|f64>.<what>": count}` (see
    /// `sal_metrics::saturation`; empty for metrics files without them).
    pub saturation: std::collections::BTreeMap<String, u64>,
    /// Table 1 (inter-rater reliability, alpha) and the inter-method correlations, per metric
    /// variant and method subset.
    pub reliability: Vec<Reliability>,
    /// Table 2 (internal consistency): Spearman between metrics, per method.
    pub consistency: Vec<Consistency>,
    /// Global scores per method and metric variant.
    pub global: Vec<Score>,
    /// The random-ordering baseline of AOPC per fill and L.
    pub random_baseline: Vec<RandomBaseline>,
    /// Breakdowns by true label and by confidence.
    pub groups: Vec<Group>,
}

/// A metric's definition as `stats.json` records it.
#[derive(Debug, Clone, Serialize)]
pub struct MetricInfo {
    /// Its name in every record's `metric` field and in the tensor names.
    pub name: &'static str,
    /// `descending` (higher is better: rank 1 = highest) or `ascending` (lower is better).
    pub direction: Direction,
    /// Whether its records carry an L (`steps`): every metric computed from the drop curves.
    pub steps: bool,
    /// Whether Tomsett et al. (2020) report it.
    pub in_paper: bool,
    /// The definition in one line.
    pub definition: &'static str,
}

impl From<&Definition> for MetricInfo {
    fn from(d: &Definition) -> Self {
        MetricInfo {
            name: d.name,
            direction: d.direction,
            steps: d.metric.has_steps(),
            in_paper: d.in_paper,
            definition: d.summary,
        }
    }
}

/// A named set of methods.
#[derive(Debug, Clone, Serialize)]
pub struct SubsetInfo {
    /// `all` or `without_<baseline>`.
    pub name: String,
    /// Its methods.
    pub methods: Vec<String>,
}

/// Undefined faithfulness values of one method and fill.
#[derive(Debug, Clone, Serialize)]
pub struct NanCount {
    /// Method.
    pub method: String,
    /// Fill.
    pub fill: String,
    /// Images with NaN faithfulness (missing values for alpha, left out of means).
    pub count: usize,
}

/// Which metric variant a row is about.
#[derive(Debug, Clone, Serialize)]
pub struct VariantRef {
    /// A metric's name (`faithfulness`, `aopc_morf`, `aopc_lerf`, `srg`, `auc_morf`).
    pub metric: &'static str,
    /// L for the metrics computed from the curves, null for faithfulness.
    pub steps: Option<usize>,
    /// Fill.
    pub fill: String,
}

impl From<&Variant> for VariantRef {
    fn from(v: &Variant) -> Self {
        VariantRef {
            metric: v.metric.name(),
            steps: v.steps,
            fill: v.fill.clone(),
        }
    }
}

/// Reliability of one metric variant over one subset of methods.
#[derive(Debug, Clone, Serialize)]
pub struct Reliability {
    /// The metric variant.
    #[serde(flatten)]
    pub variant: VariantRef,
    /// Subset name.
    pub subset: String,
    /// Its methods (the order of `mean_rank`, `missing`).
    pub methods: Vec<String>,
    /// Krippendorff's alpha of the per-image ranks (rank 1 = best).
    pub alpha: f64,
    /// Bootstrap percentile interval of alpha at `alpha_ci`.
    pub alpha_ci: [f64; 2],
    /// Resamples on which alpha was undefined (left out of the interval).
    pub alpha_ci_undefined: usize,
    /// Pairable values n of alpha.
    pub pairable_values: usize,
    /// Mean rank of each method over images (1 = best).
    pub mean_rank: Vec<f64>,
    /// Images without a rank for each method (NaN score).
    pub missing: Vec<usize>,
    /// Inter-method reliability: mean of the pairwise Spearman rho over the subset's pairs
    /// (NaN if any pair is undefined).
    pub inter_method_rho: f64,
    /// The pairwise Spearman correlations over images.
    pub pairs: Vec<PairRho>,
}

/// Spearman's rho between two methods' scores over images.
#[derive(Debug, Clone, Serialize)]
pub struct PairRho {
    /// First method.
    pub a: String,
    /// Second method.
    pub b: String,
    /// rho (NaN when undefined).
    pub rho: f64,
    /// Images with both scores defined.
    pub n: usize,
}

/// Spearman's rho between two metric variants over images, for one method.
#[derive(Debug, Clone, Serialize)]
pub struct Consistency {
    /// Method.
    pub method: String,
    /// `<x>_vs_<y>` (one fill: `faithfulness_vs_aopc_morf`, `faithfulness_vs_aopc_lerf`,
    /// `aopc_morf_vs_aopc_lerf`, `faithfulness_vs_srg`, `aopc_morf_vs_auc_morf`) or
    /// `<metric>_fills` (two fills), from the metrics' definitions.
    pub comparison: String,
    /// First variant.
    pub x: VariantRef,
    /// Second variant.
    pub y: VariantRef,
    /// rho of the raw scores (not direction-adjusted).
    pub rho: f64,
    /// Images with both scores defined.
    pub n: usize,
}

/// The distribution of one method's scores for one metric variant.
#[derive(Debug, Clone, Serialize)]
pub struct Score {
    /// Method.
    pub method: String,
    /// The metric variant.
    #[serde(flatten)]
    pub variant: VariantRef,
    /// Images with a defined score.
    pub n: usize,
    /// Images with NaN (faithfulness only).
    pub missing: usize,
    /// Mean over images.
    pub mean: f64,
    /// Bootstrap percentile interval of the mean at `mean_ci`.
    pub ci: [f64; 2],
    /// Median.
    pub median: f64,
    /// Lower quartile.
    pub q25: f64,
    /// Upper quartile.
    pub q75: f64,
}

/// The random-ordering baseline of AOPC at one L and fill.
#[derive(Debug, Clone, Serialize)]
pub struct RandomBaseline {
    /// Fill.
    pub fill: String,
    /// L.
    pub steps: usize,
    /// R, the random orderings.
    pub orderings: usize,
    /// Mean over orderings of the per-ordering mean AOPC (= mean over images).
    pub mean: f64,
    /// The `(1 -/+ mean_ci) / 2` percentiles (2.5 and 97.5 by default) of the R per-ordering means.
    pub interval: [f64; 2],
    /// Bootstrap interval over images of the mean of the per-image random AOPC.
    pub ci: [f64; 2],
}

/// The scores of a group of images.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// `label=<k>`, `confidence<=<t>` or `confidence><t>`.
    pub name: String,
    /// `label` or `confidence`.
    pub kind: &'static str,
    /// The true label, for `label` groups.
    pub label: Option<u8>,
    /// Images in the group.
    pub images: usize,
    /// Mean score per method and variant, with its bootstrap interval.
    pub scores: Vec<GroupScore>,
    /// Mean per-image random-baseline AOPC per fill and L, with its bootstrap interval.
    pub random: Vec<GroupRandom>,
    /// Alpha (point estimate) per variant and subset over the group's images.
    pub alpha: Vec<GroupAlpha>,
}

/// A group's mean score.
#[derive(Debug, Clone, Serialize)]
pub struct GroupScore {
    /// Method.
    pub method: String,
    /// The metric variant.
    #[serde(flatten)]
    pub variant: VariantRef,
    /// Images with a defined score.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Bootstrap percentile interval of the mean at `mean_ci`.
    pub ci: [f64; 2],
}

/// A group's random-baseline AOPC.
#[derive(Debug, Clone, Serialize)]
pub struct GroupRandom {
    /// Fill.
    pub fill: String,
    /// L.
    pub steps: usize,
    /// Mean over the group's images.
    pub mean: f64,
    /// Bootstrap percentile interval at `mean_ci`.
    pub ci: [f64; 2],
}

/// A group's alpha.
#[derive(Debug, Clone, Serialize)]
pub struct GroupAlpha {
    /// The metric variant.
    #[serde(flatten)]
    pub variant: VariantRef,
    /// Subset name.
    pub subset: String,
    /// Krippendorff's alpha over the group's images.
    pub alpha: f64,
    /// Its pairable values.
    pub pairable_values: usize,
}
