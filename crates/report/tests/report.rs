//! The report stage end to end on synthetic artifacts.

mod support;

use sal_report::compare::Verdict;
use sal_report::figures::font::TextSupport;
use sal_report::stage::run_with_text;
use support::{config, read_tree, Synthetic};

fn verdict(out: &sal_report::ReportOutputs, id: &str) -> Verdict {
    out.findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no finding {id}"))
        .verdict
}

#[test]
fn writes_every_file_and_the_figures_decode() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = Synthetic::default().write(&dir.path().join("in"));
    let out = sal_report::run(&config(), &inputs, &dir.path().join("out")).unwrap();
    let expected = [
        "figures/figure1.png",
        "figures/figure1.svg",
        "figures/figure2a.png",
        "figures/figure2a.svg",
        "figures/figure2b.png",
        "figures/figure2b.svg",
        "figures/figure_newer_metrics.png",
        "figures/figure_newer_metrics.svg",
        "report.html",
        "report.md",
        "summary.json",
    ];
    let names: Vec<String> = out
        .files
        .iter()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    assert_eq!(names, expected);
    for (path, bytes) in read_tree(&out.dir) {
        let name = path.to_string_lossy().to_string();
        if name.ends_with(".png") {
            let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
            let mut reader = decoder
                .read_info()
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut buf = vec![0; reader.output_buffer_size()];
            let info = reader
                .next_frame(&mut buf)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                info.width > 100 && info.height > 100,
                "{name}: {}x{}",
                info.width,
                info.height
            );
            assert!(buf.iter().any(|&b| b != 255), "{name} is blank");
        }
        if name.ends_with(".svg") {
            let text = String::from_utf8(bytes).unwrap();
            let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(doc.root_element().tag_name().name(), "svg", "{name}");
        }
    }
    let html = fs_err::read_to_string(out.dir.join("report.html")).unwrap();
    assert_eq!(
        html.matches("data:image/svg+xml;base64,").count(),
        4,
        "four embedded figures"
    );
    assert!(
        !html.contains("src=\"figures/"),
        "the HTML is self-contained"
    );
    // No partial folder is left behind.
    let leftovers: Vec<_> = fs_err::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["report"]);
}

#[test]
fn the_markdown_holds_both_tables_with_the_papers_values_and_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = Synthetic::default().write(&dir.path().join("in"));
    let out = sal_report::run(&config(), &inputs, &dir.path().join("out")).unwrap();
    let md = fs_err::read_to_string(out.dir.join("report.md")).unwrap();
    // Table 1: the paper's F row and its largest value, beside ours.
    assert!(
        md.contains("| Faithfulness, F | 0.20 (0.18–0.22) | 0.18 (0.17–0.20) |"),
        "Table 1 F row:\n{md}"
    );
    assert!(
        md.contains("0.48 (0.46–0.50)"),
        "the paper's AOPC_MoRF L=100 alpha"
    );
    // Table 2: the discussion's 0.58 (deep Taylor) and 0.77 (SHAP), beside ours (0.70).
    let row = md
        .lines()
        .find(|l| l.starts_with("| AOPC_MoRF, random RGB perturb vs AOPC_MoRF, mean perturb"))
        .expect("Table 2 row");
    assert!(
        row.contains("| 0.70 | 0.58 |") && row.contains("| 0.70 | 0.77 |"),
        "{row}"
    );
    // A pair the paper does not have is shown without a paper value.
    assert!(
        md.contains("AOPC_LeRF, L=20, mean fill vs AOPC_LeRF, L=20, uniform fill"),
        "extra Table 2 row"
    );
    // Header: cache keys, "not recorded" for the stage without key.json, checksums, accuracy.
    assert!(
        md.contains("| data | data-key-0123456789abcdef | 12.5 s |"),
        "stage key row"
    );
    assert!(md.contains("| stats | not recorded (no key.json) | not recorded |"));
    assert!(md.contains(&"ab".repeat(32)), "data checksum");
    assert!(md.contains("Model: 84.20% test accuracy (paper: 86%)"));
    assert!(md.contains("hardware threads"));
    // Breakdowns from stats.
    assert!(
        md.contains("per class") && md.contains("| frog | 3 |"),
        "per-class table"
    );
    assert!(md.contains("| confidence<=0.8 | 8 |"), "confidence table");
}

#[test]
fn the_metrics_not_in_the_paper_have_their_own_labelled_rows_and_figure() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = Synthetic::default().write(&dir.path().join("in"));
    let out = sal_report::run(&config(), &inputs, &dir.path().join("out")).unwrap();
    let md = fs_err::read_to_string(out.dir.join("report.md")).unwrap();
    let section = |heading: &str| {
        let heading = format!("## {heading}");
        let start = md.find(&heading).unwrap_or_else(|| panic!("{heading}"));
        let rest = &md[start + heading.len()..];
        rest[..rest.find("\n## ").unwrap_or(rest.len())].to_owned()
    };
    // Table 1: their own rows (support: alpha of variant i = 0.1 + 0.02 i (+ 0.1 with edge),
    // - 0.05 for the uniform fill; SRG at L=20 is variant 6: mean fill 0.32 with edge, 0.22
    // without; columns with edge (mean, uniform), then without), no paper value.
    let table1 = section("Table 1");
    let row = table1
        .lines()
        .find(|l| l.starts_with("| SRG (not in the paper), L=20 |"))
        .expect("SRG row in Table 1");
    assert!(
        row.contains("| 0.32 (0.30–0.34) | — | 0.27 (0.25–0.29) | — | 0.22 (0.20–0.24) | — |"),
        "{row}"
    );
    assert!(table1.contains("| AUC_MoRF (Quantus) (not in the paper), L=10 |"));
    // Inter-method reliability: rows for both, with and without edge.
    let inter = section("Inter-method reliability");
    assert!(
        inter.contains("| SRG (not in the paper), L=20, mean fill | 0.35 | 0.40 |"),
        "{inter}"
    );
    assert!(inter.contains("AUC_MoRF (Quantus) (not in the paper), L=10, uniform fill"));
    // Table 2: the pairs the stage computed for them.
    let table2 = section("Table 2");
    assert!(table2.contains(
        "| Faithfulness F, mean fill vs SRG (not in the paper), L=20, mean fill | 0.25 |"
    ));
    // Global means and breakdowns have their columns and tables.
    assert!(
        md.contains("SRG (not in the paper), L=20 |"),
        "global column"
    );
    assert!(
        md.contains("Mean SRG (not in the paper), L=20, mean fill per class (higher is better)")
    );
    assert!(md.contains("Mean AUC_MoRF (Quantus) (not in the paper), L=20, uniform fill per class (lower is better)"));
    // Their section: the recorded definitions and the figure.
    let newer = section("Metrics not in the paper");
    assert!(
        newer.contains("SRG: SRG_L = AOPC_MoRF_L - AOPC_LeRF_L"),
        "{newer}"
    );
    assert!(newer.contains("figures/figure_newer_metrics"), "{newer}");
}

#[test]
fn the_comparison_follows_the_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let synthetic = Synthetic::default();
    let out = sal_report::run(
        &config(),
        &synthetic.write(&dir.path().join("a")),
        &dir.path().join("out_a"),
    )
    .unwrap();
    // The default synthetic rankings are the paper's.
    assert_eq!(verdict(&out, "morf_best.mean"), Verdict::Agrees);
    assert_eq!(verdict(&out, "lerf_order.mean"), Verdict::Agrees);
    assert_eq!(verdict(&out, "faithfulness_lowest"), Verdict::Agrees);
    // The paper's best under uniform is SHAP, second here (0.309) behind gradient x input
    // (0.352) with overlapping intervals over 30 images: tied, so the claim holds, and says so.
    let uniform = out
        .findings
        .iter()
        .find(|f| f.id == "morf_best.uniform")
        .unwrap();
    assert_eq!(uniform.verdict, Verdict::Agrees);
    assert!(uniform.ours.contains("tied"), "{}", uniform.ours);

    let reversed = sal_report::run(
        &config(),
        &synthetic.reversed().write(&dir.path().join("b")),
        &dir.path().join("out_b"),
    )
    .unwrap();
    assert_eq!(verdict(&reversed, "morf_best.mean"), Verdict::Differs);
    assert_eq!(verdict(&reversed, "lerf_order.mean"), Verdict::Differs);
    assert_eq!(verdict(&reversed, "faithfulness_lowest"), Verdict::Differs);
    let md = fs_err::read_to_string(reversed.dir.join("report.md")).unwrap();
    let line = md
        .lines()
        .find(|l| l.starts_with("| Best method under MoRF, mean fill"))
        .unwrap();
    assert!(line.ends_with("| differs |"), "{line}");
}

#[test]
fn the_output_is_byte_identical_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = Synthetic::default().write(&dir.path().join("in"));
    let first = sal_report::run(&config(), &inputs, &dir.path().join("one")).unwrap();
    let second = sal_report::run(&config(), &inputs, &dir.path().join("two")).unwrap();
    let (a, b) = (read_tree(&first.dir), read_tree(&second.dir));
    assert_eq!(a.len(), b.len());
    for ((pa, ba), (pb, bb)) in a.iter().zip(&b) {
        assert_eq!(pa, pb);
        assert!(ba == bb, "{} differs between runs", pa.display());
    }
    // Running again into the same folder replaces the report.
    let again = sal_report::run(&config(), &inputs, &dir.path().join("one")).unwrap();
    assert_eq!(read_tree(&again.dir), a);
}

#[test]
fn figures_without_a_font_are_drawn_without_text() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = Synthetic::default().write(&dir.path().join("in"));
    let out = run_with_text(
        &config(),
        &inputs,
        &dir.path().join("out"),
        &TextSupport::None,
    )
    .unwrap();
    let svg = fs_err::read_to_string(out.dir.join("figures/figure2a.svg")).unwrap();
    assert!(!svg.contains("<text"), "no text element without a font");
    let md = fs_err::read_to_string(out.dir.join("report.md")).unwrap();
    assert!(md.contains("figures drawn without text"));
}

#[test]
fn inconsistent_inputs_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = Synthetic::default().write(&dir.path().join("in"));
    let other = Synthetic {
        per_class: 2,
        ..Synthetic::default()
    }
    .write(&dir.path().join("other"));
    let mixed = sal_report::ReportInputs {
        metrics: other.metrics.clone(),
        ..inputs.clone()
    };
    let err = sal_report::run(&config(), &mixed, &dir.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("metrics.safetensors") && err.contains("image_index"),
        "{err}"
    );
    assert!(
        !dir.path().join("out/report").exists(),
        "no report from inconsistent inputs"
    );

    let bad = r#"{"methods": ["a", "b"], "consistency": [{"method": "a",
        "x": {"metric": "auc", "steps": 1, "fill": "mean"},
        "y": {"metric": "auc", "steps": 1, "fill": "mean"}, "rho": 0.5}]}"#;
    fs_err::write(inputs.stats.join("stats.json"), bad).unwrap();
    let err = sal_report::run(&config(), &inputs, &dir.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("stats.json") && err.contains("auc"), "{err}");
}

#[test]
fn a_dataset_whose_labels_disagree_with_the_saliency_artifact_is_refused() {
    use sal_artifact::names::dataset as names;
    use sal_artifact::{Artifact, ArtifactWriter, Kind};
    let dir = tempfile::tempdir().unwrap();
    let inputs = Synthetic::default().write(&dir.path().join("in"));
    // The same dataset with every test label moved to the next class.
    let path = inputs.dataset();
    let artifact = Artifact::open(&path, Kind::Dataset).unwrap();
    let (shape, images) = artifact
        .read_dims::<u8>(names::TEST_IMAGES, &[None, Some(3), Some(32), Some(32)])
        .unwrap();
    let labels: Vec<u8> = artifact
        .read::<u8>(names::TEST_LABELS, &[shape[0]])
        .unwrap()
        .iter()
        .map(|l| (l + 1) % 10)
        .collect();
    let mut writer = ArtifactWriter::new(artifact.meta().clone());
    writer.add(names::TEST_IMAGES, &shape, &images).unwrap();
    writer
        .add(names::TEST_LABELS, &[shape[0]], &labels)
        .unwrap();
    writer.write(&path).unwrap();
    let err = sal_report::run(&config(), &inputs, &dir.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("different data") && err.contains("dataset.safetensors"),
        "{err}"
    );
}

#[test]
fn verdicts_come_first_and_the_provenance_last_folded_in_html() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = Synthetic::default().write(&dir.path().join("in"));
    let out = sal_report::run(&config(), &inputs, &dir.path().join("out")).unwrap();
    let md = std::fs::read_to_string(out.dir.join("report.md")).unwrap();
    let at = |needle: &str| {
        md.find(needle)
            .unwrap_or_else(|| panic!("report.md has no `{needle}`"))
    };
    // Scoreboard, then Table 1, then the figures; the provenance after all of them.
    assert!(at("## Comparison with the paper") < at("## Table 1"));
    assert!(at("## Table 1") < at("## Figure 2a"));
    assert!(at("## Figure 2b") < at("## What produced this report"));
    assert!(at("## Saturated probabilities") < at("## What produced this report"));
    assert!(at("## What produced this report") < at("## Source of the paper's values"));
    for heading in [
        "## What produced this report",
        "## Source of the paper's values",
    ] {
        assert_eq!(md.matches(heading).count(), 1, "{heading} once");
    }
    let html = std::fs::read_to_string(out.dir.join("report.html")).unwrap();
    let details = html
        .find("<details>\n<summary>What produced this report</summary>")
        .unwrap();
    assert!(html.find("Comparison with the paper").unwrap() < details);
    assert!(html[details..].contains("</details>"));
    // The opening names the model's confidence and the fill's draws.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.dir.join("summary.json")).unwrap())
            .unwrap();
    let claims = &summary["claims"];
    let total = claims["agree"].as_u64().unwrap()
        + claims["differ"].as_u64().unwrap()
        + claims["not_comparable"].as_u64().unwrap();
    assert_eq!(total as usize, out.findings.len());
    assert!(md.contains("Random RGB fill: paired draws"));
}

#[test]
fn a_fill_the_paper_does_not_have_gets_labelled_columns_and_no_claims() {
    let dir = tempfile::tempdir().unwrap();
    let two = sal_report::run(
        &config(),
        &Synthetic::default().write(&dir.path().join("two")),
        &dir.path().join("out_two"),
    )
    .unwrap();
    let three = Synthetic {
        fills: vec!["mean", "uniform", "imputation"],
        ..Synthetic::default()
    };
    let out = sal_report::run(
        &config(),
        &three.write(&dir.path().join("three")),
        &dir.path().join("out_three"),
    )
    .unwrap();
    // The same claims, with the same verdicts: the paper's claims are about its two fills.
    let verdicts = |o: &sal_report::ReportOutputs| {
        o.findings
            .iter()
            .map(|f| (f.id.clone(), f.verdict))
            .collect::<Vec<_>>()
    };
    assert_eq!(verdicts(&out), verdicts(&two));
    assert!(out.findings.iter().all(|f| !f.id.contains("imputation")));
    let md = fs_err::read_to_string(out.dir.join("report.md")).unwrap();
    assert!(
        md.contains("imputation fill (not in the paper), with edge: ours"),
        "Table 1 labels the new fill's columns"
    );
    assert!(md.contains("| imputation (not in the paper) |"));
}
