//! The report's files: `summary.json`, and installing the folder atomically.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::compare::Verdict;
use crate::error::Result;
use crate::sections::Context;
use crate::stage::REPORT_DIR;
use crate::variants::{summary_records, SUMMARY_SCHEMA};

/// The key numbers for programs (the pipeline prints them): canonical JSON, sorted keys.
pub fn summary_json(cx: &Context<'_>) -> String {
    sal_artifact::meta::canonical_json(&summary_value(cx)) + "\n"
}

/// [`summary_json`] as a JSON value (its shape: [`SUMMARY_SCHEMA`]).
pub fn summary_value(cx: &Context<'_>) -> Value {
    let alpha: Vec<Value> = cx
        .stats
        .alpha
        .iter()
        .map(|a| {
            json!({
                "metric": a.variant.metric.name(), "steps": a.variant.steps, "fill": a.variant.fill,
                "with_edge": a.with_edge, "alpha": a.alpha.value, "ci": a.alpha.ci.map(|(lo, hi)| vec![lo, hi]),
            })
        })
        .collect();
    let findings: Vec<Value> = cx
        .findings
        .iter()
        .map(|f| {
            json!({
                "id": f.id, "verdict": f.verdict.label(), "topic": f.topic,
                "within_intervals": f.within_intervals, "evidence": f.evidence,
            })
        })
        .collect();
    let count = |v: Verdict| cx.findings.iter().filter(|f| f.verdict == v).count();
    let table = &cx.paper.table1;
    let paper_alpha: Vec<Value> = table
        .rows
        .iter()
        .flat_map(|row| {
            table.columns.iter().zip(&row.cells).map(move |(c, cell)| {
                json!({
                    "metric": row.metric.name(), "steps": row.steps, "fill": c.fill,
                    "with_edge": c.with_edge, "alpha": cell[0], "ci": [cell[1], cell[2]],
                })
            })
        })
        .collect();
    json!({
        "schema": SUMMARY_SCHEMA,
        "images": cx.saliency.len(),
        "methods": cx.metrics.methods,
        "fills": cx.metrics.fills,
        "steps": cx.metrics.steps,
        "test_accuracy": cx.train.test_accuracy(),
        "test_confident_share": cx.train.test_confident_share(),
        "uniform_draws": cx.metrics.uniform_draws,
        "edge": cx.saliency.methods_detail.get("edge"),
        "saturation": cx.metrics.saturation,
        "table1_alpha": alpha,
        "paper_table1_alpha": paper_alpha,
        "claims": {
            "agree": count(Verdict::Agrees),
            "differ": count(Verdict::Differs),
            "not_comparable": count(Verdict::NotComparable),
            "agree_within_intervals": cx.findings.iter().filter(|f| f.within_intervals).count(),
        },
        "findings": findings,
        "variants": summary_records(cx.variants),
    })
}

/// Writes `files` into a fresh folder beside `dir`, then puts it in place of `dir`.
pub fn install(dir: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> Result<()> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(parent)?;
    let tmp = tempfile::Builder::new()
        .prefix(".report.partial-")
        .tempdir_in(parent)
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("creating a temporary folder in {}: {e}", parent.display()),
            )
        })?;
    for (rel, bytes) in files {
        let path = tmp.path().join(rel);
        if let Some(p) = path.parent() {
            fs_err::create_dir_all(p)?;
        }
        fs_err::write(&path, bytes)?;
    }
    // An earlier report is moved into a temporary folder (deleted when it drops) so the
    // rename below has an empty destination.
    let _old = if dir.exists() {
        let old = tempfile::Builder::new()
            .prefix(".report.old-")
            .tempdir_in(parent)
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("creating a temporary folder in {}: {e}", parent.display()),
                )
            })?;
        fs_err::rename(dir, old.path().join(REPORT_DIR))?;
        Some(old)
    } else {
        None
    };
    let built = tmp.keep();
    if let Err(e) = fs_err::rename(&built, dir) {
        let _ = std::fs::remove_dir_all(&built);
        return Err(e.into());
    }
    Ok(())
}
