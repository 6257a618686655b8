//! The metric variants the stage scores: faithfulness or AOPC (MoRF / LeRF) at some L, per fill.

use std::fmt;

pub use sal_artifact::Order;

use crate::rank::Direction;

/// A saliency metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Faithfulness F (per-image Pearson correlation); higher is better; may be NaN.
    Faithfulness,
    /// AOPC_L in one pixel order.
    Aopc(Order),
}

impl Metric {
    /// Faithfulness, AOPC MoRF, AOPC LeRF: the order of the paper's tables.
    pub const ALL: [Metric; 3] = [
        Metric::Faithfulness,
        Metric::Aopc(Order::Morf),
        Metric::Aopc(Order::Lerf),
    ];

    /// `faithfulness`, `aopc_morf` or `aopc_lerf` (in `stats.json` and `stats.safetensors`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Faithfulness => "faithfulness",
            Metric::Aopc(Order::Morf) => "aopc_morf",
            Metric::Aopc(Order::Lerf) => "aopc_lerf",
        }
    }

    /// Which end is better, so that rank 1 = best method on an image: higher F and higher
    /// AOPC_MoRF are better (descending), lower AOPC_LeRF is better (ascending).
    pub fn direction(self) -> Direction {
        match self {
            Metric::Faithfulness | Metric::Aopc(Order::Morf) => Direction::Descending,
            Metric::Aopc(Order::Lerf) => Direction::Ascending,
        }
    }
}

/// One scored quantity: a metric, its L (AOPC only) and its fill.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Variant {
    /// The metric.
    pub metric: Metric,
    /// L for AOPC, `None` for faithfulness.
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
        Variant {
            metric: Metric::Aopc(order),
            steps: Some(steps),
            fill: fill.to_owned(),
        }
    }

    /// Every variant, faithfulness and AOPC at each of `steps` in each order, for each fill:
    /// fill-major, then metric, then L.
    pub fn all(fills: &[String], steps: &[usize]) -> Vec<Variant> {
        let mut out = Vec::new();
        for fill in fills {
            out.push(Variant::faithfulness(fill));
            for order in Order::ALL {
                out.extend(steps.iter().map(|&l| Variant::aopc(order, l, fill)));
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
    }

    #[test]
    fn variants_are_fill_major_and_subsets_drop_the_baseline() {
        let fills = ["mean".to_owned(), "uniform".to_owned()];
        let v = Variant::all(&fills, &[20, 100]);
        assert_eq!(v.len(), 2 * (1 + 2 * 2));
        assert_eq!(v[0], Variant::faithfulness("mean"));
        assert_eq!(v[1], Variant::aopc(Order::Morf, 20, "mean"));
        assert_eq!(v[4], Variant::aopc(Order::Lerf, 100, "mean"));
        assert_eq!(v[5], Variant::faithfulness("uniform"));
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
