//! Parsing `stats.json`, the `stats` stage's summary, into [`Stats`].

use std::path::Path;

use serde::Deserialize;

use super::stats::{
    AlphaEntry, ConsistencyEntry, Estimate, Group, GroupMean, InterMethodEntry, Stats, Variant,
};
use crate::error::{ReportError, Result};
use crate::paper::Metric;

#[derive(Debug, Deserialize)]
struct File {
    alpha_level: Option<String>,
    bootstrap: Option<usize>,
    alpha_ci: Option<f64>,
    confidence_threshold: Option<f64>,
    #[serde(default)]
    table1: Vec<AlphaRecord>,
    #[serde(default)]
    inter_method: Vec<InterRecord>,
    #[serde(default)]
    table2: Vec<PairRecord>,
    #[serde(default)]
    global: Vec<MeanRecord>,
    #[serde(default)]
    per_class: Vec<GroupRecord>,
    #[serde(default)]
    per_confidence: Vec<GroupRecord>,
}

#[derive(Debug, Deserialize)]
struct VariantRecord {
    metric: String,
    steps: Option<usize>,
    fill: String,
}

#[derive(Debug, Deserialize)]
struct AlphaRecord {
    #[serde(flatten)]
    variant: VariantRecord,
    with_edge: bool,
    alpha: f64,
    ci: Option<[f64; 2]>,
}

#[derive(Debug, Deserialize)]
struct InterRecord {
    #[serde(flatten)]
    variant: VariantRecord,
    with_edge: bool,
    rho: f64,
    ci: Option<[f64; 2]>,
}

#[derive(Debug, Deserialize)]
struct PairRecord {
    method: String,
    x: VariantRecord,
    y: VariantRecord,
    rho: f64,
    ci: Option<[f64; 2]>,
}

#[derive(Debug, Deserialize)]
struct MeanRecord {
    method: String,
    #[serde(flatten)]
    variant: VariantRecord,
    mean: f64,
    ci: Option<[f64; 2]>,
}

#[derive(Debug, Deserialize)]
struct GroupRecord {
    group: String,
    images: usize,
    #[serde(default)]
    low: bool,
    means: Vec<MeanRecord>,
}

/// Reads and parses `stats.json`; every error names the file.
pub fn load_stats(path: &Path) -> Result<Stats> {
    let text = fs_err::read_to_string(path)?;
    parse_stats(path, &text)
}

/// Parses the text of a `stats.json` (`path` only names it in errors).
pub fn parse_stats(path: &Path, text: &str) -> Result<Stats> {
    let bad = |message: String| ReportError::BadJson {
        path: path.to_owned(),
        message,
    };
    let file: File = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let variant = |v: &VariantRecord| -> Result<Variant> {
        let metric = Metric::from_name(&v.metric)
            .ok_or_else(|| bad(format!("unknown metric `{}`", v.metric)))?;
        let steps = if metric == Metric::Faithfulness {
            None
        } else {
            v.steps
        };
        if metric != Metric::Faithfulness && steps.is_none() {
            return Err(bad(format!("AOPC metric `{}` without `steps`", v.metric)));
        }
        Ok(Variant {
            metric,
            steps,
            fill: v.fill.clone(),
        })
    };
    let estimate = |value: f64, ci: Option<[f64; 2]>| Estimate {
        value,
        ci: ci.map(|[lo, hi]| (lo, hi)),
    };
    let means = |records: &[MeanRecord]| -> Result<Vec<GroupMean>> {
        records
            .iter()
            .map(|r| {
                Ok(GroupMean {
                    method: r.method.clone(),
                    variant: variant(&r.variant)?,
                    mean: estimate(r.mean, r.ci),
                })
            })
            .collect()
    };
    let group = |g: &GroupRecord| -> Result<Group> {
        Ok(Group {
            name: g.group.clone(),
            images: g.images,
            means: means(&g.means)?,
        })
    };

    let mut stats = Stats {
        path: path.to_owned(),
        alpha_level: file.alpha_level.clone(),
        bootstrap: file.bootstrap,
        alpha_interval_level: file.alpha_ci,
        confidence_threshold: file.confidence_threshold,
        ..Stats::default()
    };
    for r in &file.table1 {
        stats.alpha.push(AlphaEntry {
            variant: variant(&r.variant)?,
            with_edge: r.with_edge,
            alpha: estimate(r.alpha, r.ci),
        });
    }
    for r in &file.inter_method {
        stats.inter_method.push(InterMethodEntry {
            variant: variant(&r.variant)?,
            with_edge: r.with_edge,
            rho: estimate(r.rho, r.ci),
        });
    }
    for r in &file.table2 {
        stats.consistency.push(ConsistencyEntry {
            method: r.method.clone(),
            x: variant(&r.x)?,
            y: variant(&r.y)?,
            rho: estimate(r.rho, r.ci),
        });
    }
    stats.global = means(&file.global)?;
    stats.per_class = file.per_class.iter().map(group).collect::<Result<_>>()?;
    for g in &file.per_confidence {
        if g.low {
            stats.low_confidence = Some(group(g)?);
        } else {
            stats.high_confidence = Some(group(g)?);
        }
    }
    Ok(stats)
}
