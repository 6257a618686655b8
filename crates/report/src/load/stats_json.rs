//! Parsing `stats.json`, the `stats` stage's results (`sal_psychometrics::stage::results`),
//! into [`Stats`]. NaN is written there as JSON `null`; it is read back as NaN.

use std::path::Path;

use serde::Deserialize;

use super::stats::{
    AlphaEntry, ConsistencyEntry, Estimate, Group, GroupMean, InterMethodEntry, RandomEntry, Stats,
    Variant,
};
use crate::correlation::spearman_interval;
use crate::error::{ReportError, Result};
use crate::paper::Metric;

/// The model-free baseline whose inclusion Table 1 varies.
pub const EDGE: &str = "edge";

#[derive(Debug, Deserialize)]
struct File {
    methods: Vec<String>,
    /// The metrics' definitions (stats/3; absent before).
    #[serde(default)]
    metrics: Vec<MetricRecord>,
    alpha_level: Option<String>,
    bootstrap: Option<usize>,
    alpha_ci: Option<f64>,
    mean_ci: Option<f64>,
    confidence_threshold: Option<f64>,
    consistency_steps: Option<usize>,
    #[serde(default)]
    reliability: Vec<Reliability>,
    #[serde(default)]
    consistency: Vec<Consistency>,
    #[serde(default)]
    global: Vec<Score>,
    #[serde(default)]
    random_baseline: Vec<Random>,
    #[serde(default)]
    groups: Vec<GroupRecord>,
}

#[derive(Debug, Deserialize)]
struct MetricRecord {
    name: String,
    #[serde(default)]
    definition: String,
}

#[derive(Debug, Deserialize)]
struct VariantRef {
    metric: String,
    steps: Option<usize>,
    fill: String,
}

#[derive(Debug, Deserialize)]
struct Reliability {
    #[serde(flatten)]
    variant: VariantRef,
    methods: Vec<String>,
    alpha: Option<f64>,
    alpha_ci: Option<[Option<f64>; 2]>,
    inter_method_rho: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct Consistency {
    method: String,
    x: VariantRef,
    y: VariantRef,
    rho: Option<f64>,
    #[serde(default)]
    n: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct Score {
    method: String,
    #[serde(flatten)]
    variant: VariantRef,
    mean: Option<f64>,
    ci: Option<[Option<f64>; 2]>,
}

#[derive(Debug, Deserialize)]
struct Random {
    fill: String,
    steps: usize,
    orderings: usize,
    mean: Option<f64>,
    interval: Option<[Option<f64>; 2]>,
    ci: Option<[Option<f64>; 2]>,
}

#[derive(Debug, Deserialize)]
struct GroupRandom {
    fill: String,
    steps: usize,
    mean: Option<f64>,
    ci: Option<[Option<f64>; 2]>,
}

#[derive(Debug, Deserialize)]
struct GroupRecord {
    name: String,
    kind: String,
    label: Option<u8>,
    images: usize,
    #[serde(default)]
    scores: Vec<Score>,
    #[serde(default)]
    random: Vec<GroupRandom>,
}

fn nan(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

fn interval(ci: Option<[Option<f64>; 2]>) -> Option<(f64, f64)> {
    ci.map(|[lo, hi]| (nan(lo), nan(hi)))
}

/// Reads and parses `stats.json`; `class_names` name the label groups. Errors name the file.
pub fn load_stats(path: &Path, class_names: &[String]) -> Result<Stats> {
    let text = fs_err::read_to_string(path)?;
    parse_stats(path, &text, class_names)
}

/// Parses the text of a `stats.json` (`path` only names it in errors).
pub fn parse_stats(path: &Path, text: &str, class_names: &[String]) -> Result<Stats> {
    let bad = |message: String| ReportError::BadJson {
        path: path.to_owned(),
        message,
    };
    let file: File = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let variant = |v: &VariantRef| -> Result<Variant> {
        let metric = Metric::from_name(&v.metric)
            .ok_or_else(|| bad(format!("unknown metric `{}`", v.metric)))?;
        match (metric, v.steps) {
            (Metric::Faithfulness, _) => Ok(Variant {
                metric,
                steps: None,
                fill: v.fill.clone(),
            }),
            (_, Some(l)) => Ok(Variant {
                metric,
                steps: Some(l),
                fill: v.fill.clone(),
            }),
            (_, None) => Err(bad(format!("curve metric `{}` without `steps`", v.metric))),
        }
    };
    let score = |s: &Score| -> Result<GroupMean> {
        Ok(GroupMean {
            method: s.method.clone(),
            variant: variant(&s.variant)?,
            mean: Estimate {
                value: nan(s.mean),
                ci: interval(s.ci),
            },
        })
    };

    // Table 1 contrasts "with edge detection" (every method) and "excluding edge detection"
    // (every method but edge); other subsets have no column there.
    let all = &file.methods;
    let without: Vec<String> = all.iter().filter(|m| m.as_str() != EDGE).cloned().collect();
    let has_edge = all.len() != without.len();
    let mut stats = Stats {
        path: path.to_owned(),
        alpha_level: file.alpha_level.clone(),
        bootstrap: file.bootstrap,
        alpha_interval_level: file.alpha_ci,
        mean_interval_level: file.mean_ci,
        confidence_threshold: file.confidence_threshold,
        consistency_steps: file.consistency_steps,
        // Definitions of metrics this report does not know are skipped: their records would
        // fail below with the metric's name.
        definitions: file
            .metrics
            .iter()
            .filter_map(|m| Some((Metric::from_name(&m.name)?, m.definition.clone())))
            .collect(),
        ..Stats::default()
    };
    for r in &file.reliability {
        let with_edge = if has_edge && &r.methods == all {
            true
        } else if r.methods == without {
            false
        } else {
            continue;
        };
        let v = variant(&r.variant)?;
        stats.alpha.push(AlphaEntry {
            variant: v.clone(),
            with_edge,
            alpha: Estimate {
                value: nan(r.alpha),
                ci: interval(r.alpha_ci),
            },
        });
        stats.inter_method.push(InterMethodEntry {
            variant: v,
            with_edge,
            rho: Estimate {
                value: nan(r.inter_method_rho),
                ci: None,
            },
        });
    }
    for c in &file.consistency {
        stats.consistency.push(ConsistencyEntry {
            method: c.method.clone(),
            x: variant(&c.x)?,
            y: variant(&c.y)?,
            // Table 2's intervals, from rho and n at the level of the stage's other intervals
            // of means (the stage records no resamples of rho).
            rho: Estimate {
                value: nan(c.rho),
                ci: c
                    .rho
                    .zip(c.n)
                    .and_then(|(rho, n)| spearman_interval(rho, n, file.mean_ci.unwrap_or(0.95))),
            },
            n: c.n,
        });
    }
    stats.global = file.global.iter().map(score).collect::<Result<_>>()?;
    stats.random = file
        .random_baseline
        .iter()
        .map(|r| RandomEntry {
            fill: r.fill.clone(),
            steps: r.steps,
            orderings: r.orderings,
            mean: nan(r.mean),
            interval: interval(r.interval),
            ci: interval(r.ci),
        })
        .collect();
    for g in &file.groups {
        let mut means: Vec<GroupMean> = g.scores.iter().map(score).collect::<Result<_>>()?;
        // The random baseline does not depend on the order: the same mean serves both.
        for r in &g.random {
            for metric in [Metric::Morf, Metric::Lerf] {
                means.push(GroupMean {
                    method: "random".to_owned(),
                    variant: Variant {
                        metric,
                        steps: Some(r.steps),
                        fill: r.fill.clone(),
                    },
                    mean: Estimate {
                        value: nan(r.mean),
                        ci: interval(r.ci),
                    },
                });
            }
        }
        let name = match (g.kind.as_str(), g.label) {
            ("label", Some(l)) => class_names
                .get(usize::from(l))
                .cloned()
                .unwrap_or_else(|| g.name.clone()),
            _ => g.name.clone(),
        };
        let group = Group {
            name,
            images: g.images,
            means,
        };
        match g.kind.as_str() {
            "label" => stats.per_class.push(group),
            "confidence" if g.name.starts_with("confidence<=") => {
                stats.low_confidence = Some(group)
            }
            "confidence" => stats.high_confidence = Some(group),
            other => return Err(bad(format!("group `{}` of unknown kind `{other}`", g.name))),
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["airplane", "automobile", "bird"]
            .map(str::to_owned)
            .to_vec()
    }

    #[test]
    fn subsets_map_to_table_1_columns_and_null_reads_as_nan() {
        let text = r#"{
          "methods": ["sensitivity", "edge", "deep_shap"],
          "alpha_level": "ordinal", "bootstrap": 100, "alpha_ci": 0.999, "mean_ci": 0.95,
          "confidence_threshold": 0.8, "consistency_steps": 100,
          "reliability": [
            {"metric": "aopc_morf", "steps": 100, "fill": "mean", "subset": "all",
             "methods": ["sensitivity", "edge", "deep_shap"], "alpha": 0.4, "alpha_ci": [0.3, 0.5],
             "inter_method_rho": 0.6},
            {"metric": "faithfulness", "steps": null, "fill": "mean", "subset": "without_edge",
             "methods": ["sensitivity", "deep_shap"], "alpha": null, "alpha_ci": [null, null],
             "inter_method_rho": null}
          ],
          "consistency": [{"method": "edge", "comparison": "aopc_morf_fills",
            "x": {"metric": "aopc_morf", "steps": 100, "fill": "mean"},
            "y": {"metric": "aopc_morf", "steps": 100, "fill": "uniform"}, "rho": 0.7, "n": 10}],
          "groups": [
            {"name": "label=2", "kind": "label", "label": 2, "images": 4, "scores": [], "alpha": [],
             "random": [{"fill": "mean", "steps": 100, "mean": 0.1, "ci": [0.05, 0.15]}]},
            {"name": "confidence<=0.8", "kind": "confidence", "label": null, "images": 3, "scores": [], "random": [], "alpha": []}
          ]
        }"#;
        let s = parse_stats(Path::new("stats.json"), text, &names()).unwrap();
        let morf = Variant {
            metric: Metric::Morf,
            steps: Some(100),
            fill: "mean".into(),
        };
        assert_eq!(s.alpha(&morf, true).unwrap().ci, Some((0.3, 0.5)));
        let f = Variant {
            metric: Metric::Faithfulness,
            steps: None,
            fill: "mean".into(),
        };
        assert!(s.alpha(&f, false).unwrap().value.is_nan());
        let uniform = Variant {
            fill: "uniform".into(),
            ..morf.clone()
        };
        assert_eq!(s.consistency("edge", &uniform, &morf).unwrap().value, 0.7);
        assert_eq!(s.per_class[0].name, "bird");
        let lerf = Variant {
            metric: Metric::Lerf,
            ..morf
        };
        assert_eq!(s.per_class[0].mean("random", &lerf), Some(0.1));
        assert_eq!(s.low_confidence.as_ref().unwrap().images, 3);
        assert!(s.high_confidence.is_none());
    }

    #[test]
    fn an_unknown_metric_is_an_error_naming_the_file() {
        let text = r#"{"methods": ["a", "b"], "global": [{"method": "a", "metric": "iauc", "steps": 1, "fill": "mean", "mean": 0.1, "ci": [0, 1]}]}"#;
        let err = parse_stats(Path::new("/x/stats.json"), text, &names())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/x/stats.json") && err.contains("iauc"),
            "{err}"
        );
    }
}
