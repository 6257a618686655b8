//! The metric variants the stage scores, and the definitions of the metrics: each metric is one
//! row of [`DEFINITIONS`] (its name, ranking direction, per-image computation, Table 2 pairs and
//! whether the paper has it). Table 1, the inter-method rho, the global scores, the breakdowns
//! and Table 2 are all driven by that table, so adding a metric computed from the drop curves
//! is adding a [`Metric`] value and its row.

use std::fmt;

pub use sal_artifact::Order;

use crate::rank::Direction;

/// A saliency metric; its properties are its row of [`DEFINITIONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Faithfulness F (per-image Pearson correlation); higher is better; may be NaN.
    Faithfulness,
    /// AOPC_L in one pixel order.
    Aopc(Order),
    /// Symmetric relevance gain at L (Bluecher, Vielhaben and Strodthoff, TMLR 2024); not in
    /// the paper. See [`srg`].
    Srg,
    /// Quantus's pixel-flipping AUC of the MoRF curve at L; not in the paper. See [`auc_morf`].
    AucMorf,
}

/// One image's drop curves, as the curve metrics read them: `d[k] = f(x) - f(x^(k))` for
/// k = 0..=L_max (`d[0] = 0`), `drop.<method>.<order>.<fill>` of the metrics artifact, and
/// f(x) (`p0`).
#[derive(Debug, Clone, Copy)]
pub struct Curves<'a> {
    /// The MoRF drops, L_max + 1 values.
    pub morf: &'a [f64],
    /// The LeRF drops, L_max + 1 values.
    pub lerf: &'a [f64],
    /// f(x), the softmax probability of the predicted class on the unperturbed image.
    pub p0: f64,
}

impl Curves<'_> {
    /// The drops of `order`.
    pub fn drops(&self, order: Order) -> &[f64] {
        match order {
            Order::Morf => self.morf,
            Order::Lerf => self.lerf,
        }
    }
}

/// Where a metric's per-image score comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// `faithfulness.<method>.<fill>` of the metrics artifact; no L.
    Faithfulness,
    /// A function of the image's curves at L (1 <= L <= L_max): reported at every L of
    /// `[stats] aopc_steps` that fits the curves, and at Table 2's L.
    Curves(fn(Curves<'_>, usize) -> f64),
}

/// A metric's definition: one row of [`DEFINITIONS`].
#[derive(Debug, Clone, Copy)]
pub struct Definition {
    /// The metric.
    pub metric: Metric,
    /// Its name in `stats.json` and `stats.safetensors` (`alpha.<name>.<fill>.<subset>`, ...).
    pub name: &'static str,
    /// Which end is better, so that rank 1 = the best method on an image.
    pub direction: Direction,
    /// How an image's score is computed.
    pub source: Source,
    /// Whether Tomsett et al. (2020) report it (the report labels the others "not in the paper").
    pub in_paper: bool,
    /// Table 2 within one fill: the metrics (earlier rows) this one is correlated with, per
    /// method (comparison `<x>_vs_<this>`).
    pub consistency_with: &'static [Metric],
    /// Table 2 between fills: whether this metric is correlated between every pair of fills
    /// (comparison `<this>_fills`).
    pub across_fills: bool,
    /// A one-line statement of the definition (written to `stats.json`).
    pub summary: &'static str,
}

/// Every metric the stage scores, in the order of its outputs: the paper's three (its tables'
/// order), then the newer ones.
pub const DEFINITIONS: [Definition; 5] = [
    Definition {
        metric: Metric::Faithfulness,
        name: "faithfulness",
        direction: Direction::Descending,
        source: Source::Faithfulness,
        in_paper: true,
        consistency_with: &[],
        across_fills: true,
        summary: "F = Pearson(relevance, f(x) - f(x with the pixel alone perturbed)) over the P faithfulness pixels; higher is better",
    },
    Definition {
        metric: Metric::Aopc(Order::Morf),
        name: "aopc_morf",
        direction: Direction::Descending,
        source: Source::Curves(aopc_morf),
        in_paper: true,
        consistency_with: &[Metric::Faithfulness],
        across_fills: true,
        summary: "AOPC_L = 1/(L+1) sum_{k=1..L} d_MoRF[k]; higher is better",
    },
    Definition {
        metric: Metric::Aopc(Order::Lerf),
        name: "aopc_lerf",
        direction: Direction::Ascending,
        source: Source::Curves(aopc_lerf),
        in_paper: true,
        consistency_with: &[Metric::Faithfulness, Metric::Aopc(Order::Morf)],
        across_fills: true,
        summary: "AOPC_L = 1/(L+1) sum_{k=1..L} d_LeRF[k]; lower is better",
    },
    Definition {
        metric: Metric::Srg,
        name: "srg",
        direction: Direction::Descending,
        source: Source::Curves(srg),
        in_paper: false,
        consistency_with: &[Metric::Faithfulness],
        across_fills: true,
        summary: "symmetric relevance gain (Bluecher et al., TMLR 2024): SRG_L = 1/(L+1) sum_{k=1..L} (d_MoRF[k] - d_LeRF[k]) = AOPC_MoRF_L - AOPC_LeRF_L; higher is better",
    },
    Definition {
        metric: Metric::AucMorf,
        name: "auc_morf",
        direction: Direction::Ascending,
        source: Source::Curves(auc_morf),
        in_paper: false,
        consistency_with: &[Metric::Aopc(Order::Morf)],
        across_fills: true,
        summary: "Quantus's pixel-flipping AUC: trapezoid rule (dx = 1) over f(x^(k)) = p0 - d_MoRF[k], k = 1..L; lower is better",
    },
];

impl Metric {
    /// Every metric, in the order of [`DEFINITIONS`].
    pub fn all() -> impl Iterator<Item = Metric> {
        DEFINITIONS.iter().map(|d| d.metric)
    }

    /// The metric's row of [`DEFINITIONS`].
    pub fn definition(self) -> &'static Definition {
        DEFINITIONS
            .iter()
            .find(|d| d.metric == self)
            .expect("every metric has a row in DEFINITIONS")
    }

    /// Its name in `stats.json` and `stats.safetensors`: `faithfulness`, `aopc_morf`,
    /// `aopc_lerf`, `srg`, `auc_morf`.
    pub fn name(self) -> &'static str {
        self.definition().name
    }

    /// Which end is better, so that rank 1 = best method on an image: higher F, AOPC_MoRF and
    /// SRG are better (descending), lower AOPC_LeRF and AUC_MoRF are better (ascending).
    pub fn direction(self) -> Direction {
        self.definition().direction
    }

    /// Whether its scores depend on L (every metric computed from the curves).
    pub fn has_steps(self) -> bool {
        matches!(self.definition().source, Source::Curves(_))
    }
}

/// `sum_{k=1..L} d[k]`, added in order of k.
fn drop_sum(d: &[f64], l: usize) -> f64 {
    d[1..=l].iter().sum()
}

/// AOPC_L of the MoRF curve: `1/(L+1) sum_{k=1..L} d_MoRF[k]` (ARCHITECTURE.md).
pub fn aopc_morf(c: Curves<'_>, l: usize) -> f64 {
    drop_sum(c.morf, l) / (l + 1) as f64
}

/// AOPC_L of the LeRF curve: `1/(L+1) sum_{k=1..L} d_LeRF[k]`.
pub fn aopc_lerf(c: Curves<'_>, l: usize) -> f64 {
    drop_sum(c.lerf, l) / (l + 1) as f64
}

/// Symmetric relevance gain at L: `SRG_L = 1/(L+1) sum_{k=1..L} (d_MoRF[k] - d_LeRF[k])`,
/// which is `AOPC_MoRF_L - AOPC_LeRF_L`; higher is better.
///
/// Bluecher, Vielhaben and Strodthoff (TMLR 2024) define SRG as the area between the LeRF
/// ("least influential first") and MoRF output curves, `AUC(f along LeRF) - AUC(f along
/// MoRF)`; since `f(x^(k)) = f(x) - d[k]` on both curves, that is the area between the drop
/// curves, `d_MoRF - d_LeRF`. The normalisation is AOPC's, `1/(L+1)` over the L+1 points
/// k = 0..L (the k = 0 term is 0 on both curves), chosen so that SRG is exactly the difference
/// of the two AOPC columns at the same L and on their scale. Quantus's `SymmetricRelevanceGain`
/// takes the mean over the L after-step points, `1/L sum_{k=1..L}` (there the curves run to the
/// fully perturbed image, so the shared end points cancel): our value times `(L+1)/L`. The
/// factor is the same for every method and image at a given L, so ranks, alpha, every Spearman
/// rho and Table 2 are the same under either normalisation; only means and their intervals
/// scale.
pub fn srg(c: Curves<'_>, l: usize) -> f64 {
    let gain: f64 = c.morf[1..=l]
        .iter()
        .zip(&c.lerf[1..=l])
        .map(|(m, r)| m - r)
        .sum();
    gain / (l + 1) as f64
}

/// Quantus's pixel-flipping AUC of the MoRF curve at L: the composite trapezoid rule with unit
/// spacing over the model's outputs `f(x^(k)) = f(x) - d_MoRF[k]` after each of the first L
/// steps, k = 1..L:
/// `AUC_L = sum_{k=1..L-1} (f(x^(k)) + f(x^(k+1))) / 2` (0 for L = 1); lower is better.
///
/// What Quantus does (understandable-machine-intelligence-lab/Quantus, read with the `search`
/// tool): `PixelFlipping.evaluate_instance` (quantus/metrics/faithfulness/pixel_flipping.py)
/// perturbs the features in descending attribution order and records the prediction of the
/// class after every step only (the unperturbed prediction is not in the list); with
/// `return_auc_per_sample` or `get_auc_score` that list goes to `utils.calculate_auc`
/// (quantus/helpers/utils.py), the composite trapezoid rule with `dx = 1`. So the curve starts
/// at k = 1, not at k = 0. Quantus runs to the last feature (1024 steps of one pixel here);
/// ours stops at L, so `AUC_L` is Quantus's value for a run truncated after L steps, and equals
/// it at L = 1024 with its default softmax output and one feature per step (Quantus explains
/// the class it is given, usually the label; we follow the predicted class).
///
/// Unlike AOPC, the AUC is not a drop: it carries f(x) itself (`(L-1) f(x)` plus the drops'
/// part), so across images it mixes the model's confidence into the score, and on an image
/// where f rounds to 1 the methods' tiny drops can vanish beside it (ties), as in Quantus.
pub fn auc_morf(c: Curves<'_>, l: usize) -> f64 {
    let f = |k: usize| c.p0 - c.morf[k];
    (1..l).map(|k| (f(k) + f(k + 1)) / 2.0).sum()
}

/// One scored quantity: a metric, its L (AOPC only) and its fill.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Variant {
    /// The metric.
    pub metric: Metric,
    /// L for the metrics computed from the curves, `None` for faithfulness.
    pub steps: Option<usize>,
    /// The perturbation fill (`mean`, `uniform`, ...).
    pub fill: String,
}

impl Variant {
    /// Faithfulness with `fill`.
    pub fn faithfulness(fill: &str) -> Self {
        Variant {
            metric: Metric::Faithfulness,
            steps: None,
            fill: fill.to_owned(),
        }
    }

    /// AOPC_L in `order` with `fill`.
    pub fn aopc(order: Order, steps: usize, fill: &str) -> Self {
        Variant::at(Metric::Aopc(order), Some(steps), fill)
    }

    /// `metric` at L = `steps` with `fill`; `steps` is ignored (`None`) for a metric without L.
    pub fn at(metric: Metric, steps: Option<usize>, fill: &str) -> Self {
        Variant {
            metric,
            steps: steps.filter(|_| metric.has_steps()),
            fill: fill.to_owned(),
        }
    }

    /// Every variant, each metric of [`DEFINITIONS`] (at each of `steps` if it has an L), for
    /// each fill: fill-major, then metric in the order of the definitions, then L.
    pub fn all(fills: &[String], steps: &[usize]) -> Vec<Variant> {
        let mut out = Vec::new();
        for fill in fills {
            for metric in Metric::all() {
                if metric.has_steps() {
                    out.extend(steps.iter().map(|&l| Variant::at(metric, Some(l), fill)));
                } else {
                    out.push(Variant::at(metric, None, fill));
                }
            }
        }
        out
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.steps {
            Some(l) => write!(f, "{} L={} ({})", self.metric.name(), l, self.fill),
            None => write!(f, "{} ({})", self.metric.name(), self.fill),
        }
    }
}

/// A set of methods that is ranked together: all of them, or all but the baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subset {
    /// `all` or `without_<baseline>`.
    pub name: String,
    /// Indices into the stage's method list, in its order.
    pub methods: Vec<usize>,
}

impl Subset {
    /// `all`, and `without_<baseline>` when `baseline` is one of `methods` and at least two
    /// methods remain without it.
    pub fn all_and_without(methods: &[String], baseline: &str) -> Vec<Subset> {
        let mut out = vec![Subset {
            name: "all".to_owned(),
            methods: (0..methods.len()).collect(),
        }];
        if let Some(b) = methods.iter().position(|m| m == baseline) {
            if methods.len() > 2 {
                out.push(Subset {
                    name: format!("without_{baseline}"),
                    methods: (0..methods.len()).filter(|&i| i != b).collect(),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_make_rank_one_the_best() {
        assert_eq!(Metric::Faithfulness.direction(), Direction::Descending);
        assert_eq!(Metric::Aopc(Order::Morf).direction(), Direction::Descending);
        assert_eq!(Metric::Aopc(Order::Lerf).direction(), Direction::Ascending);
        assert_eq!(Metric::Srg.direction(), Direction::Descending);
        assert_eq!(Metric::AucMorf.direction(), Direction::Ascending);
    }

    #[test]
    fn definitions_have_one_row_each_and_unique_names() {
        let names: Vec<&str> = DEFINITIONS.iter().map(|d| d.name).collect();
        assert_eq!(
            names,
            ["faithfulness", "aopc_morf", "aopc_lerf", "srg", "auc_morf"]
        );
        for d in &DEFINITIONS {
            assert_eq!(d.metric.definition().name, d.name);
            // Table 2 pairs name earlier rows, so `<x>_vs_<y>` keeps the paper's order.
            let at = |m: Metric| DEFINITIONS.iter().position(|e| e.metric == m).unwrap();
            assert!(d.consistency_with.iter().all(|&x| at(x) < at(d.metric)));
        }
        assert!(!Metric::Srg.definition().in_paper && !Metric::AucMorf.definition().in_paper);
        assert!(!Metric::Faithfulness.has_steps() && Metric::Srg.has_steps());
    }

    /// A small curve pair worked by hand: f(x) = 0.9, MoRF drops (0, 0.5, 0.75, 0.75), so
    /// f along MoRF = (0.9, 0.4, 0.15, 0.15); LeRF drops (0, 0.1, -0.2, 0.3).
    fn curves() -> Curves<'static> {
        Curves {
            morf: &[0.0, 0.5, 0.75, 0.75],
            lerf: &[0.0, 0.1, -0.2, 0.3],
            p0: 0.9,
        }
    }

    fn close(got: f64, want: f64) {
        assert!((got - want).abs() < 1e-12, "{got} != {want}");
    }

    #[test]
    fn aopc_by_hand() {
        // MoRF: L=1: 0.5/2; L=3: (0.5 + 0.75 + 0.75)/4. LeRF: L=3: (0.1 - 0.2 + 0.3)/4.
        close(aopc_morf(curves(), 1), 0.25);
        close(aopc_morf(curves(), 3), 0.5);
        close(aopc_lerf(curves(), 2), -0.1 / 3.0);
        close(aopc_lerf(curves(), 3), 0.05);
    }

    #[test]
    fn srg_by_hand() {
        // Differences d_MoRF - d_LeRF at k = 1, 2, 3: 0.4, 0.95, 0.45.
        close(srg(curves(), 1), 0.4 / 2.0);
        close(srg(curves(), 2), (0.4 + 0.95) / 3.0);
        close(srg(curves(), 3), (0.4 + 0.95 + 0.45) / 4.0);
        // = AOPC_MoRF - AOPC_LeRF at the same L.
        close(srg(curves(), 3), 0.5 - 0.05);
    }

    #[test]
    fn quantus_auc_by_hand() {
        // Quantus's curve starts after the first step: f = 0.4, 0.15, 0.15 for k = 1..3.
        // np.trapz([0.4, 0.15, 0.15], dx=1) = (0.4 + 0.15)/2 + (0.15 + 0.15)/2 = 0.425.
        close(auc_morf(curves(), 3), 0.425);
        close(auc_morf(curves(), 2), 0.275);
        // One point: no trapezoid.
        close(auc_morf(curves(), 1), 0.0);
    }

    #[test]
    fn variants_are_fill_major_and_subsets_drop_the_baseline() {
        let fills = ["mean".to_owned(), "uniform".to_owned()];
        let v = Variant::all(&fills, &[20, 100]);
        // Per fill: F, then 4 curve metrics at 2 L each.
        assert_eq!(v.len(), 2 * (1 + 4 * 2));
        assert_eq!(v[0], Variant::faithfulness("mean"));
        assert_eq!(v[1], Variant::aopc(Order::Morf, 20, "mean"));
        assert_eq!(v[4], Variant::aopc(Order::Lerf, 100, "mean"));
        assert_eq!(v[5], Variant::at(Metric::Srg, Some(20), "mean"));
        assert_eq!(v[8], Variant::at(Metric::AucMorf, Some(100), "mean"));
        assert_eq!(v[9], Variant::faithfulness("uniform"));
        assert_eq!(
            Variant::at(Metric::Faithfulness, Some(3), "mean"),
            Variant::faithfulness("mean")
        );
        let methods: Vec<String> = ["a", "edge", "b"].map(str::to_owned).to_vec();
        let s = Subset::all_and_without(&methods, "edge");
        assert_eq!(
            s[1],
            Subset {
                name: "without_edge".to_owned(),
                methods: vec![0, 2]
            }
        );
        assert_eq!(Subset::all_and_without(&methods, "none").len(), 1);
    }
}
