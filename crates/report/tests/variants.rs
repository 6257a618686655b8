//! "What moves the numbers": the report beside variants of its run, on synthetic artifacts.

mod support;

use std::path::Path;

use sal_report::variants::{VariantInput, SUMMARY_SCHEMA};
use serde_json::{json, Value};
use support::{config, Synthetic};

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs_err::read_to_string(path).unwrap()).unwrap()
}

/// The table row of `name` in report.md, cell by cell.
fn row(md: &str, name: &str) -> Vec<String> {
    let line = md
        .lines()
        .find(|l| l.starts_with(&format!("| {name} |")))
        .unwrap_or_else(|| panic!("no row {name} in\n{md}"));
    line.trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_owned())
        .collect()
}

#[test]
fn variants_show_their_rows_and_exactly_the_claims_whose_verdict_differs() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = Synthetic::default().write(&dir.path().join("in"));
    let plain = sal_report::run(&config(), &inputs, &dir.path().join("plain")).unwrap();
    let plain_md = fs_err::read_to_string(plain.dir.join("report.md")).unwrap();
    assert!(
        !plain_md.contains("What moves the numbers"),
        "no variants, no section"
    );
    let summary = read_json(&plain.dir.join("summary.json"));
    assert_eq!(summary["schema"], SUMMARY_SCHEMA);
    assert_eq!(summary["variants"], json!([]));
    assert_eq!(
        summary["findings"][0]["topic"].as_str(),
        Some(plain.findings[0].topic.as_str())
    );

    // "edited": this run's summary with a known accuracy, claim count and headline cell, and
    // the first claim's verdict flipped; a report stage folder (report/summary.json).
    let flipped = &plain.findings[0];
    let flipped_to = if flipped.verdict.label() == "agrees" {
        "differs"
    } else {
        "agrees"
    };
    let mut edited = summary.clone();
    edited["test_accuracy"] = json!(0.8606);
    edited["claims"] = json!({"agree": 1, "differ": 2, "not_comparable": 3});
    edited["table1_alpha"].as_array_mut().unwrap().push(
        json!({"metric": "morf", "steps": 100, "fill": "mean", "with_edge": true, "alpha": 0.571, "ci": [0.5, 0.6]}),
    );
    edited["findings"][0]["verdict"] = json!(flipped_to);
    let edited_dir = dir.path().join("edited");
    fs_err::create_dir_all(edited_dir.join("report")).unwrap();
    fs_err::write(
        edited_dir.join("report/summary.json"),
        serde_json::to_string(&edited).unwrap(),
    )
    .unwrap();

    // "reversed": a real report of the data with every ranking reversed.
    let reversed_inputs = Synthetic::default()
        .reversed()
        .write(&dir.path().join("in_reversed"));
    let reversed =
        sal_report::run(&config(), &reversed_inputs, &dir.path().join("reversed")).unwrap();
    let expected_reversed: Vec<&str> = plain
        .findings
        .iter()
        .zip(&reversed.findings)
        .filter(|(a, b)| {
            assert_eq!(a.id, b.id);
            a.verdict != b.verdict
        })
        .map(|(a, _)| a.id.as_str())
        .collect();
    assert!(
        !expected_reversed.is_empty(),
        "reversing the data moves claims"
    );
    assert!(expected_reversed.len() < plain.findings.len());

    let with = sal_report::ReportInputs {
        variants: vec![
            VariantInput::Report {
                name: "edited".into(),
                dir: edited_dir,
            },
            VariantInput::Report {
                name: "reversed".into(),
                dir: dir.path().join("reversed"),
            },
            VariantInput::Missing {
                name: "absent".into(),
                config: "configs/absent.toml".into(),
            },
        ],
        ..inputs.clone()
    };
    let out = sal_report::run(&config(), &with, &dir.path().join("out")).unwrap();
    assert_eq!(
        out.findings, plain.findings,
        "variants change no verdict of this run"
    );
    let md = fs_err::read_to_string(out.dir.join("report.md")).unwrap();
    let at = |needle: &str| {
        md.find(needle)
            .unwrap_or_else(|| panic!("report.md has no `{needle}`"))
    };
    assert!(at("## Table 1") < at("## What moves the numbers"));
    assert!(at("## What moves the numbers") < at("## Figure 2a"));

    let this = row(&md, "this run");
    let edited_row = row(&md, "edited");
    assert_eq!(edited_row[1], "86.06");
    assert_eq!(edited_row[3], "1 / 2 / 3");
    assert_eq!(edited_row[6], "0.57", "alpha MoRF L=100, mean");
    assert_eq!(this[6], "—", "the synthetic run has no L = 100");
    assert_eq!(edited_row[4..6], this[4..6], "F cells as this run's");
    let paper = row(&md, "paper");
    assert_eq!(paper[1..4], ["86", "59", "—"]);
    assert_eq!(paper[6], "0.48");
    let count = |v: &str| {
        reversed
            .findings
            .iter()
            .filter(|f| f.verdict.label() == v)
            .count()
    };
    assert_eq!(
        row(&md, "reversed")[3],
        format!(
            "{} / {} / {}",
            count("agrees"),
            count("differs"),
            count("not comparable")
        )
    );
    assert!(row(&md, "absent")[1].starts_with("not run"));

    // Per variant, exactly the claims whose verdict differs, by topic and id.
    assert!(
        md.contains(&format!(
            "- **edited** moves 1 claim: {} (`{}`): {} here, {flipped_to} there.",
            flipped.topic,
            flipped.id,
            flipped.verdict.label()
        )),
        "{md}"
    );
    let summary = read_json(&out.dir.join("summary.json"));
    let variants = summary["variants"].as_array().unwrap();
    let ids = |v: &Value| -> Vec<String> {
        v["changed_claims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(variants[0]["name"], "edited");
    assert_eq!(ids(&variants[0]), std::slice::from_ref(&flipped.id));
    assert_eq!(variants[0]["test_accuracy"], json!(0.8606));
    assert_eq!(variants[1]["name"], "reversed");
    assert_eq!(ids(&variants[1]), expected_reversed);
    assert!(md.contains(&format!(
        "- **reversed** moves {} claims: ",
        expected_reversed.len()
    )));
    // The variant not run, with the command that makes it.
    assert_eq!(
        variants[2],
        json!({"name": "absent", "not_run": "not run (`cargo xtask pipeline --config configs/absent.toml`)"})
    );
    assert!(
        md.contains("- **absent**: not run (`cargo xtask pipeline --config configs/absent.toml`)")
    );
    // Each differing claim of this run names the variants it agrees in, or that none does.
    for f in out
        .findings
        .iter()
        .filter(|f| f.verdict.label() == "differs")
    {
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("- **{}** (`{}`): ", f.topic, f.id)))
            .unwrap_or_else(|| panic!("no cause for {} in\n{md}", f.id));
        let in_reversed = expected_reversed.contains(&f.id.as_str());
        let in_edited = f.id == flipped.id;
        match (in_edited, in_reversed) {
            (false, false) => assert!(line.contains("differs in every variant run here"), "{line}"),
            (true, true) => assert!(
                line.contains("it agrees in \"edited\" and \"reversed\""),
                "{line}"
            ),
            (true, false) => assert!(line.contains("it agrees in \"edited\":"), "{line}"),
            (false, true) => assert!(line.contains("it agrees in \"reversed\":"), "{line}"),
        }
    }
    let html = fs_err::read_to_string(out.dir.join("report.html")).unwrap();
    assert!(html.contains("What moves the numbers") && html.contains("configs/absent.toml"));
}

#[test]
fn a_variant_summary_of_a_newer_shape_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = Synthetic::default().write(&dir.path().join("in"));
    let variant = dir.path().join("variant");
    fs_err::create_dir_all(&variant).unwrap();
    fs_err::write(
        variant.join("summary.json"),
        r#"{"schema": "report_summary/9"}"#,
    )
    .unwrap();
    let with = sal_report::ReportInputs {
        variants: vec![VariantInput::Report {
            name: "v".into(),
            dir: variant,
        }],
        ..inputs
    };
    let err = sal_report::run(&config(), &with, &dir.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("variant/summary.json") && err.contains("report_summary/9"),
        "{err}"
    );
}
