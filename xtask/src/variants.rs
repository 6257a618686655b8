//! `cargo xtask variants`: "What moves the numbers". Several runs of one protocol that differ
//! in one choice each (the model's training recipe, the uniform fill's draws, the edge
//! baseline, ...), side by side: Table 1's headline cells (alpha at L = 100 and of F, both
//! fills, edge included) and the number of the paper's claims each run agrees with, beside
//! the paper's values. Everything is read from the runs' `report/summary.json`; a run that is
//! missing or stale is named as such, never guessed.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sal_config::Stage;
use serde_json::Value;

use crate::flags;
use crate::path;
use crate::project::Project;

/// The headline cells: (metric, steps, fill), with the metric names of `summary.json`
/// (`table1_alpha`: `faithfulness`, `morf`, `lerf`).
const CELLS: [(&str, Option<u64>, &str); 6] = [
    ("faithfulness", None, "mean"),
    ("faithfulness", None, "uniform"),
    ("morf", Some(100), "mean"),
    ("morf", Some(100), "uniform"),
    ("lerf", Some(100), "mean"),
    ("lerf", Some(100), "uniform"),
];

/// One variant: its name and its summary, or why there is none.
struct Row {
    name: String,
    source: String,
    summary: Result<Value, String>,
}

/// Prints (and with `--out` writes) the Markdown table.
pub fn run(project: &Project, flags: &flags::Variants) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for spec in &flags.variants {
        let Some((name, source)) = spec.split_once('=') else {
            bail!("`{spec}`: expected NAME=CONFIG.toml or NAME=DIR");
        };
        rows.push(Row {
            name: name.to_owned(),
            source: source.to_owned(),
            summary: load(project, Path::new(source)),
        });
    }
    let table = markdown(&rows);
    print!("{table}");
    if let Some(out) = &flags.out {
        fs_err::write(out, &table)?;
        eprintln!("xtask: wrote {}", out.display());
    }
    Ok(())
}

/// The summary of a config's fresh cached report, or of a report folder.
fn load(project: &Project, source: &Path) -> Result<Value, String> {
    let file = if source.extension().is_some_and(|e| e == "toml") {
        let folder = path::find(project, Some(source), Stage::Report).map_err(|e| e.to_string())?;
        folder.join("report").join("summary.json")
    } else {
        [
            source.join("summary.json"),
            source.join("report/summary.json"),
        ]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| source.join("summary.json"))
    };
    read(&file).map_err(|e| format!("{e:#}"))
}

fn read(file: &PathBuf) -> anyhow::Result<Value> {
    let text = fs_err::read_to_string(file)?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))
}

/// The alpha of a cell in a list of `{metric, steps, fill, with_edge, alpha}` records.
fn alpha(records: Option<&Value>, cell: (&str, Option<u64>, &str)) -> Option<f64> {
    records?
        .as_array()?
        .iter()
        .find(|r| {
            r["metric"] == cell.0
                && r["steps"].as_u64() == cell.1
                && r["fill"] == cell.2
                && r["with_edge"] == true
        })?
        .get("alpha")?
        .as_f64()
}

fn cell_label(cell: (&str, Option<u64>, &str)) -> String {
    let metric = match cell.0 {
        "faithfulness" => "F".to_owned(),
        "morf" => "MoRF".to_owned(),
        _ => "LeRF".to_owned(),
    };
    match cell.1 {
        Some(l) => format!("{metric} L={l}, {}", cell.2),
        None => format!("{metric}, {}", cell.2),
    }
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |x| format!("{x:.digits$}"))
}

/// The table: one row per variant, then the paper's.
fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    let mut header = vec![
        "variant".to_owned(),
        "test acc.".to_owned(),
        "conf. >= 0.99".to_owned(),
        "claims agree / differ / n.c.".to_owned(),
    ];
    header.extend(CELLS.iter().map(|&c| format!("alpha {}", cell_label(c))));
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
    let mut paper = None;
    for row in rows {
        let s = match &row.summary {
            Ok(s) => s,
            Err(why) => {
                let mut cells = vec![format!("{} (`{}`)", row.name, row.source)];
                cells.push(format!("not available: {}", why.replace('|', "/")));
                cells.resize(header.len(), String::new());
                out.push_str(&format!("| {} |\n", cells.join(" | ")));
                continue;
            }
        };
        paper = paper.or_else(|| s.get("paper_table1_alpha").cloned());
        let pct = |k: &str| s.get(k).and_then(Value::as_f64).map(|v| v * 100.0);
        let claims = &s["claims"];
        let mut cells = vec![
            row.name.clone(),
            fmt(pct("test_accuracy"), 2),
            fmt(pct("test_confident_share"), 1),
            match (
                claims["agree"].as_u64(),
                claims["differ"].as_u64(),
                claims["not_comparable"].as_u64(),
            ) {
                (Some(a), Some(d), Some(n)) => format!("{a} / {d} / {n}"),
                _ => "-".to_owned(),
            },
        ];
        cells.extend(
            CELLS
                .iter()
                .map(|&c| fmt(alpha(s.get("table1_alpha"), c), 2)),
        );
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    let mut cells = vec![
        "paper".to_owned(),
        "86".to_owned(),
        "59".to_owned(),
        "-".to_owned(),
    ];
    cells.extend(CELLS.iter().map(|&c| fmt(alpha(paper.as_ref(), c), 2)));
    out.push_str(&format!("| {} |\n", cells.join(" | ")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_their_cells_and_missing_runs_say_why() {
        let summary = serde_json::json!({
            "test_accuracy": 0.8606, "test_confident_share": 0.42,
            "claims": {"agree": 18, "differ": 7, "not_comparable": 0},
            "table1_alpha": [
                {"metric": "morf", "steps": 100, "fill": "mean", "with_edge": true, "alpha": 0.571},
                {"metric": "morf", "steps": 100, "fill": "mean", "with_edge": false, "alpha": 0.9},
                {"metric": "faithfulness", "steps": null, "fill": "uniform", "with_edge": true, "alpha": 0.05}
            ],
            "paper_table1_alpha": [
                {"metric": "morf", "steps": 100, "fill": "mean", "with_edge": true, "alpha": 0.48}
            ]
        });
        let rows = [
            Row {
                name: "a".into(),
                source: "x".into(),
                summary: Ok(summary),
            },
            Row {
                name: "b".into(),
                source: "y.toml".into(),
                summary: Err("stage report is stale".into()),
            },
        ];
        let table = markdown(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 5, "{table}");
        assert!(
            lines[2].starts_with("| a | 86.06 | 42.0 | 18 / 7 / 0 | - | 0.05 | 0.57 |"),
            "{table}"
        );
        assert!(lines[3].contains("not available: stage report is stale"));
        assert!(
            lines[4].starts_with("| paper | 86 | 59 | - | - | - | 0.48 |"),
            "{table}"
        );
    }
}
