//! "What moves the numbers": this run beside variants of its protocol that differ in one choice
//! each (the model's training recipe, the uniform fill's draws, the edge baseline, ...), with
//! the paper's values: Table 1's headline cells, the claim count, and per variant the claims
//! whose verdict differs from this run's, so that each claim that differs can be traced to the
//! choice that moves it.
//!
//! Every number is read from the runs' `report/summary.json` ([`RunRow::from_summary`]); a
//! variant that was not run is named as such, never guessed. The one implementation of the
//! table: the report's section and `sal variants` (which `cargo xtask variants` runs) both call
//! [`section`].

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::error::{ReportError, Result};
use crate::paper::PaperValues;
use crate::render::{num, Document, Table, NONE};

/// The shape of `summary.json`: `report_summary/2` added this field, each finding's `topic`
/// and `variants`; `report_summary/3` added each finding's `within_intervals` and `evidence`
/// and `claims.agree_within_intervals`. A summary without the field is version 1; every older
/// shape is read the same way (what it lacks is shown as unknown, its claims by id).
pub const SUMMARY_SCHEMA: &str = "report_summary/3";

/// The older shapes this build reads.
const OLDER_SCHEMAS: [&str; 1] = ["report_summary/2"];

/// The file a report stage writes its key numbers to, inside `report/`.
pub const SUMMARY_FILE: &str = "summary.json";

/// The headline cells: (metric, L, fill), edge detection among the ranked methods, as the
/// paper's Table 1 reads first; L is the paper's largest.
pub const HEADLINE: [(&str, Option<usize>, &str); 6] = [
    ("faithfulness", None, "mean"),
    ("faithfulness", None, "uniform"),
    ("morf", Some(100), "mean"),
    ("morf", Some(100), "uniform"),
    ("lerf", Some(100), "mean"),
    ("lerf", Some(100), "uniform"),
];

/// A variant as the report stage gets it (`sal report --variant NAME=DIR` or
/// `--variant-missing NAME=CONFIG`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariantInput {
    /// A finished report: a report stage folder (holding `report/summary.json`) or a report
    /// folder (holding `summary.json`).
    Report {
        /// The row label.
        name: String,
        /// The folder.
        dir: PathBuf,
    },
    /// No finished report for the variant's current key.
    Missing {
        /// The row label.
        name: String,
        /// The variant's config, as the command that makes its report names it.
        config: String,
    },
}

impl VariantInput {
    /// Parses `NAME=DIR` (`missing = false`) or `NAME=CONFIG` (`missing = true`).
    pub fn parse(spec: &str, missing: bool) -> std::result::Result<Self, String> {
        let Some((name, value)) = spec.split_once('=') else {
            return Err(format!("`{spec}`: expected NAME=VALUE"));
        };
        if name.trim().is_empty() || value.is_empty() {
            return Err(format!(
                "`{spec}`: the name and the value must not be empty"
            ));
        }
        let name = name.to_owned();
        Ok(if missing {
            VariantInput::Missing {
                name,
                config: value.to_owned(),
            }
        } else {
            VariantInput::Report {
                name,
                dir: PathBuf::from(value),
            }
        })
    }

    /// The row label.
    pub fn name(&self) -> &str {
        match self {
            VariantInput::Report { name, .. } | VariantInput::Missing { name, .. } => name,
        }
    }
}

/// One claim's verdict in a summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimVerdict {
    /// The finding's id.
    pub id: String,
    /// `agrees`, `differs` or `not comparable`.
    pub verdict: String,
    /// What is compared (absent from version-1 summaries).
    pub topic: Option<String>,
}

/// One run's row, read from its `summary.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    /// The row label.
    pub name: String,
    /// Test accuracy, a fraction.
    pub test_accuracy: Option<f64>,
    /// Share of test images predicted with confidence >= 0.99, a fraction.
    pub confident_share: Option<f64>,
    /// Claims agreeing, differing, not comparable (none for the paper).
    pub claims: Option<[u64; 3]>,
    /// Of the agreeing claims, those that agree only within our 95% intervals (unknown before
    /// `report_summary/3`).
    pub within_intervals: Option<u64>,
    /// Alpha of each [`HEADLINE`] cell.
    pub headline: [Option<f64>; 6],
    /// Every checked claim.
    pub verdicts: Vec<ClaimVerdict>,
}

/// How a variant's verdict on one claim differs from this run's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimChange {
    /// The finding's id.
    pub id: String,
    /// What is compared (this run's wording, else the variant's, else the id).
    pub topic: String,
    /// The verdict here (`not checked` when this run has no such claim).
    pub here: String,
    /// The verdict in the variant.
    pub there: String,
}

/// A variant beside this run: its row and what it changes, or why it has none.
#[derive(Debug, Clone, PartialEq)]
pub enum VariantRow {
    /// A finished report.
    Run {
        /// Its row.
        row: RunRow,
        /// The claims whose verdict differs from the reference run's.
        changes: Vec<ClaimChange>,
    },
    /// Not available (not run, or its summary unreadable): the row label and why.
    Unavailable {
        /// The row label.
        name: String,
        /// Why, with the command that makes it where there is one.
        why: String,
    },
}

impl VariantRow {
    /// The row of a read summary, compared with `reference`.
    pub fn run(row: RunRow, reference: &RunRow) -> Self {
        let changes = changes(reference, &row);
        VariantRow::Run { row, changes }
    }

    /// The row of a variant whose pipeline has no finished report for its current key.
    pub fn not_run(name: &str, config: &str) -> Self {
        VariantRow::Unavailable {
            name: name.to_owned(),
            why: format!("not run (`cargo xtask pipeline --config {config}`)"),
        }
    }

    /// The row label.
    pub fn name(&self) -> &str {
        match self {
            VariantRow::Run { row, .. } => &row.name,
            VariantRow::Unavailable { name, .. } => name,
        }
    }
}

impl RunRow {
    /// Reads a row from a parsed `summary.json`; refuses a summary of a newer shape.
    pub fn from_summary(name: &str, summary: &Value) -> std::result::Result<Self, String> {
        match summary.get("schema").and_then(Value::as_str) {
            None | Some(SUMMARY_SCHEMA) => {}
            Some(older) if OLDER_SCHEMAS.contains(&older) => {}
            Some(other) => {
                return Err(format!(
                    "summary of shape {other}, this build reads {SUMMARY_SCHEMA}, {} and the unversioned first shape",
                    OLDER_SCHEMAS.join(", ")
                ))
            }
        }
        let number = |key: &str| summary.get(key).and_then(Value::as_f64);
        let claims = &summary["claims"];
        let claims = match (
            claims["agree"].as_u64(),
            claims["differ"].as_u64(),
            claims["not_comparable"].as_u64(),
        ) {
            (Some(a), Some(d), Some(n)) => Some([a, d, n]),
            _ => None,
        };
        let verdicts = summary["findings"]
            .as_array()
            .map(|findings| {
                findings
                    .iter()
                    .filter_map(|f| {
                        Some(ClaimVerdict {
                            id: f["id"].as_str()?.to_owned(),
                            verdict: f["verdict"].as_str()?.to_owned(),
                            topic: f["topic"].as_str().map(str::to_owned),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(RunRow {
            name: name.to_owned(),
            test_accuracy: number("test_accuracy"),
            confident_share: number("test_confident_share"),
            claims,
            within_intervals: summary["claims"]["agree_within_intervals"].as_u64(),
            headline: headline(summary.get("table1_alpha")),
            verdicts,
        })
    }

    /// Reads `<dir>/report/summary.json` (a report stage folder) or `<dir>/summary.json` (a
    /// report folder).
    pub fn load(name: &str, dir: &Path) -> Result<Self> {
        let path = [
            dir.join(crate::stage::REPORT_DIR).join(SUMMARY_FILE),
            dir.join(SUMMARY_FILE),
        ]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| dir.join(crate::stage::REPORT_DIR).join(SUMMARY_FILE));
        let text = fs_err::read_to_string(&path)?;
        let bad = |message: String| ReportError::BadJson {
            path: path.clone(),
            message,
        };
        let summary: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        RunRow::from_summary(name, &summary).map_err(bad)
    }

    /// The paper's row: its accuracy, confident share and Table 1's headline cells.
    pub fn paper(paper: &PaperValues) -> Self {
        let mut headline = [None; 6];
        for (slot, &(metric, steps, fill)) in headline.iter_mut().zip(&HEADLINE) {
            *slot = paper.table1.rows.iter().find_map(|row| {
                if row.metric.name() != metric || row.steps != steps {
                    return None;
                }
                let column = paper
                    .table1
                    .columns
                    .iter()
                    .position(|c| c.fill == fill && c.with_edge)?;
                row.cells.get(column).map(|cell| cell[0])
            });
        }
        RunRow {
            name: "paper".to_owned(),
            test_accuracy: Some(paper.claims.test_accuracy.data.value),
            confident_share: Some(paper.claims.high_confidence_share.data.value),
            claims: None,
            within_intervals: None,
            headline,
            verdicts: Vec::new(),
        }
    }
}

/// The alpha of each headline cell in a list of `{metric, steps, fill, with_edge, alpha}`.
fn headline(records: Option<&Value>) -> [Option<f64>; 6] {
    let records = records.and_then(Value::as_array);
    HEADLINE.map(|(metric, steps, fill)| {
        records?
            .iter()
            .find(|r| {
                r["metric"] == metric
                    && r["steps"].as_u64() == steps.map(|l| l as u64)
                    && r["fill"] == fill
                    && r["with_edge"] == true
            })?
            .get("alpha")?
            .as_f64()
    })
}

/// The claims whose verdict in `other` differs from `reference`'s, in `reference`'s order, then
/// the claims only `other` checks.
pub fn changes(reference: &RunRow, other: &RunRow) -> Vec<ClaimChange> {
    const UNCHECKED: &str = "not checked";
    let mut out = Vec::new();
    for here in &reference.verdicts {
        let there = other.verdicts.iter().find(|v| v.id == here.id);
        let there_verdict = there.map_or(UNCHECKED, |v| v.verdict.as_str());
        if there_verdict != here.verdict {
            out.push(ClaimChange {
                id: here.id.clone(),
                topic: here
                    .topic
                    .clone()
                    .or_else(|| there.and_then(|v| v.topic.clone()))
                    .unwrap_or_else(|| here.id.clone()),
                here: here.verdict.clone(),
                there: there_verdict.to_owned(),
            });
        }
    }
    for there in &other.verdicts {
        if !reference.verdicts.iter().any(|v| v.id == there.id) {
            out.push(ClaimChange {
                id: there.id.clone(),
                topic: there.topic.clone().unwrap_or_else(|| there.id.clone()),
                here: UNCHECKED.to_owned(),
                there: there.verdict.clone(),
            });
        }
    }
    out
}

fn cell_label((metric, steps, fill): (&str, Option<usize>, &str)) -> String {
    let metric = match metric {
        "faithfulness" => "F",
        "morf" => "MoRF",
        _ => "LeRF",
    };
    match steps {
        Some(l) => format!("alpha {metric} L={l}, {fill}"),
        None => format!("alpha {metric}, {fill}"),
    }
}

fn percent(value: Option<f64>, digits: usize) -> String {
    value.map_or(NONE.to_owned(), |v| num(100.0 * v, digits))
}

fn table_row(row: &RunRow, label: String) -> Vec<String> {
    let mut cells = vec![
        label,
        percent(row.test_accuracy, 2),
        percent(row.confident_share, 1),
        row.claims
            .map_or(NONE.to_owned(), |[a, d, n]| match row.within_intervals {
                Some(w) if w > 0 => format!("{a} ({w} within intervals) / {d} / {n}"),
                _ => format!("{a} / {d} / {n}"),
            }),
    ];
    cells.extend(
        row.headline
            .iter()
            .map(|a| a.map_or(NONE.to_owned(), |v| num(v, 2))),
    );
    cells
}

/// The table: the reference run, each variant, the paper.
pub fn table(reference: &RunRow, variants: &[VariantRow], paper: &RunRow) -> Table {
    let mut header = vec![
        "run".to_owned(),
        "test acc. (%)".to_owned(),
        "conf. >= 0.99 (%)".to_owned(),
        "claims agree / differ / n.c.".to_owned(),
    ];
    header.extend(HEADLINE.iter().map(|&c| cell_label(c)));
    let mut table = Table::new(header);
    table.row(table_row(reference, reference.name.clone()));
    for variant in variants {
        match variant {
            VariantRow::Run { row, .. } => table.row(table_row(row, row.name.clone())),
            VariantRow::Unavailable { name, why } => table.row([name.clone(), why.clone()]),
        };
    }
    let mut paper_cells = table_row(paper, paper.name.clone());
    // The paper states its numbers as whole percentages.
    paper_cells[1] = percent(paper.test_accuracy, 0);
    paper_cells[2] = percent(paper.confident_share, 0);
    table.row(paper_cells);
    table
}

/// Appends the section: the table, then per variant the claims it moves, then the variants
/// not run. `reference` is this run (the report) or the first run named (`sal variants`).
pub fn section(doc: &mut Document, reference: &RunRow, variants: &[VariantRow], paper: &RunRow) {
    doc.heading(2, "What moves the numbers");
    doc.paragraph(format!(
        "{} beside variants of its protocol that differ in one choice each, from each run's report (summary.json), with the paper's values. Alphas: Krippendorff's alpha of Table 1 with edge detection among the ranked methods, as the paper's Table 1 reads first; a dash where a run did not compute the cell.",
        capitalised(&reference.name)
    ));
    doc.table(
        "Test accuracy, share of test images classified with confidence >= 0.99, the paper's claims our numbers agree with / differ from / cannot compare, and Table 1's headline alphas, per run.",
        table(reference, variants, paper),
    );
    let mut moved = Vec::new();
    for variant in variants {
        let VariantRow::Run { row, changes } = variant else {
            continue;
        };
        if changes.is_empty() {
            moved.push(format!(
                "**{}**: no claim's verdict differs from {}.",
                row.name, reference.name
            ));
            continue;
        }
        let items: Vec<String> = changes
            .iter()
            .map(|c| {
                format!(
                    "{} (`{}`): {} here, {} there",
                    c.topic, c.id, c.here, c.there
                )
            })
            .collect();
        moved.push(format!(
            "**{}** moves {} claim{}: {}.",
            row.name,
            changes.len(),
            if changes.len() == 1 { "" } else { "s" },
            items.join("; ")
        ));
    }
    if !moved.is_empty() {
        doc.paragraph(format!(
            "Per variant, the claims whose verdict differs from {}'s (\"here\": {}, \"there\": the variant):",
            reference.name, reference.name
        ));
        doc.list(moved);
    }
    let unavailable: Vec<String> = variants
        .iter()
        .filter_map(|v| match v {
            VariantRow::Unavailable { name, why } => Some(format!("**{name}**: {why}")),
            VariantRow::Run { .. } => None,
        })
        .collect();
    if !unavailable.is_empty() {
        doc.paragraph("Variants without a report:");
        doc.list(unavailable);
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}

/// The variants' records in `summary.json` (`variants`): per variant its name and either its
/// row (`test_accuracy`, `test_confident_share`, `claims`, `table1_alpha` with the headline
/// cells, `changed_claims` with `{id, topic, here, there}`) or `not_run` (why).
pub fn summary_records(variants: &[VariantRow]) -> Value {
    let records: Vec<Value> = variants
        .iter()
        .map(|v| match v {
            VariantRow::Run { row, changes } => {
                let alpha: Vec<Value> = HEADLINE
                    .iter()
                    .zip(&row.headline)
                    .map(|(&(metric, steps, fill), alpha)| {
                        json!({"metric": metric, "steps": steps, "fill": fill, "with_edge": true, "alpha": alpha})
                    })
                    .collect();
                let changed: Vec<Value> = changes
                    .iter()
                    .map(|c| json!({"id": c.id, "topic": c.topic, "here": c.here, "there": c.there}))
                    .collect();
                json!({
                    "name": row.name,
                    "test_accuracy": row.test_accuracy,
                    "test_confident_share": row.confident_share,
                    "claims": row.claims.map(|[a, d, n]| json!({
                        "agree": a, "differ": d, "not_comparable": n,
                        "agree_within_intervals": row.within_intervals,
                    })),
                    "table1_alpha": alpha,
                    "changed_claims": changed,
                })
            }
            VariantRow::Unavailable { name, why } => json!({"name": name, "not_run": why}),
        })
        .collect();
    Value::Array(records)
}

/// Reads the variants passed to the report stage, compared with `reference`.
pub fn load_inputs(inputs: &[VariantInput], reference: &RunRow) -> Result<Vec<VariantRow>> {
    inputs
        .iter()
        .map(|input| match input {
            VariantInput::Report { name, dir } => {
                Ok(VariantRow::run(RunRow::load(name, dir)?, reference))
            }
            VariantInput::Missing { name, config } => Ok(VariantRow::not_run(name, config)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Value {
        json!({
            "schema": SUMMARY_SCHEMA,
            "test_accuracy": 0.8606, "test_confident_share": 0.42,
            "claims": {"agree": 18, "differ": 7, "not_comparable": 0},
            "table1_alpha": [
                {"metric": "morf", "steps": 100, "fill": "mean", "with_edge": true, "alpha": 0.571},
                {"metric": "morf", "steps": 100, "fill": "mean", "with_edge": false, "alpha": 0.9},
                {"metric": "faithfulness", "steps": null, "fill": "uniform", "with_edge": true, "alpha": 0.05}
            ],
            "findings": [
                {"id": "a", "verdict": "agrees", "topic": "A"},
                {"id": "b", "verdict": "differs", "topic": "B"},
                {"id": "c", "verdict": "agrees"}
            ]
        })
    }

    #[test]
    fn a_row_reads_its_headline_cells_with_edge_only() {
        let row = RunRow::from_summary("x", &summary()).unwrap();
        assert_eq!(
            row.headline,
            [None, Some(0.05), Some(0.571), None, None, None]
        );
        assert_eq!(row.claims, Some([18, 7, 0]));
        let cells = table_row(&row, "x".into());
        assert_eq!(
            cells,
            [
                "x",
                "86.06",
                "42.0",
                "18 / 7 / 0",
                NONE,
                "0.05",
                "0.57",
                NONE,
                NONE,
                NONE
            ]
        );
    }

    #[test]
    fn a_newer_summary_shape_is_refused_and_the_older_ones_are_read() {
        let mut newer = summary();
        newer["schema"] = json!("report_summary/4");
        let err = RunRow::from_summary("x", &newer).unwrap_err();
        assert!(err.contains("report_summary/4"), "{err}");
        let mut first = summary();
        first.as_object_mut().unwrap().remove("schema");
        assert!(RunRow::from_summary("x", &first).is_ok());
        let mut second = summary();
        second["schema"] = json!("report_summary/2");
        let row = RunRow::from_summary("x", &second).unwrap();
        assert_eq!(row.within_intervals, None);
        assert_eq!(table_row(&row, "x".into())[3], "18 / 7 / 0");
    }

    #[test]
    fn the_claims_cell_counts_the_agreements_within_intervals() {
        let mut third = summary();
        third["claims"]["agree_within_intervals"] = json!(3);
        let row = RunRow::from_summary("x", &third).unwrap();
        assert_eq!(row.within_intervals, Some(3));
        assert_eq!(
            table_row(&row, "x".into())[3],
            "18 (3 within intervals) / 7 / 0"
        );
    }

    #[test]
    fn changes_are_exactly_the_claims_whose_verdict_differs() {
        let here = RunRow::from_summary("here", &summary()).unwrap();
        let mut other = summary();
        other["findings"] = json!([
            {"id": "a", "verdict": "agrees", "topic": "A"},
            {"id": "b", "verdict": "agrees", "topic": "B"},
            {"id": "d", "verdict": "differs", "topic": "D"}
        ]);
        let there = RunRow::from_summary("there", &other).unwrap();
        let got: Vec<(String, String, String)> = changes(&here, &there)
            .into_iter()
            .map(|c| (c.topic, c.here, c.there))
            .collect();
        assert_eq!(
            got,
            [
                ("B".into(), "differs".into(), "agrees".into()),
                ("c".into(), "agrees".into(), "not checked".into()),
                ("D".into(), "not checked".into(), "differs".into()),
            ]
        );
        assert!(changes(&here, &here).is_empty());
    }

    #[test]
    fn variant_specs_parse_and_name_what_is_wrong() {
        assert_eq!(
            VariantInput::parse("aug=/a/b=c", false).unwrap(),
            VariantInput::Report {
                name: "aug".into(),
                dir: PathBuf::from("/a/b=c")
            }
        );
        assert_eq!(
            VariantInput::parse("aug=configs/x.toml", true).unwrap(),
            VariantInput::Missing {
                name: "aug".into(),
                config: "configs/x.toml".into()
            }
        );
        assert!(VariantInput::parse("aug", false)
            .unwrap_err()
            .contains("NAME=VALUE"));
        assert!(VariantInput::parse("=x", false).is_err());
    }
}
