//! The whole pipeline on the real data with the `attribute` stage swapped for an external
//! program: `test-fixtures/external/random_maps.py`, a standard-library Python script that
//! writes uniform random maps in the documented `saliency/1` schema. The other stages are this
//! build's `sal` (dev profile), run by the xtask orchestrator as `cargo xtask pipeline` runs them.

use std::path::{Path, PathBuf};
use std::process::Command;

use sal_artifact::{names, Artifact, Kind};
use sal_config::Stage;
use xtask::flags::Pipeline;
use xtask::pipeline::{Action, Outcome};
use xtask::{Project, SalSource};

mod support;

use support::{cifar_dir, repository};

/// `path` as a TOML string.
fn toml_string(path: &Path) -> String {
    toml::Value::String(path.display().to_string()).to_string()
}

fn run(project: &Project, config: &Path, until: Option<Stage>) -> Vec<Outcome> {
    let flags = Pipeline {
        config: Some(config.to_owned()),
        until,
        ..Pipeline::default()
    };
    let sal = SalSource::Given(PathBuf::from(env!("CARGO_BIN_EXE_sal")));
    xtask::pipeline::run(project, &flags, &sal).expect("the pipeline runs")
}

fn outcome(outcomes: &[Outcome], stage: Stage) -> &Outcome {
    outcomes.iter().find(|o| o.stage == stage).unwrap()
}

#[test]
fn an_external_python_attribute_stage_feeds_metrics_stats_and_report() {
    let python = Command::new("python3").arg("--version").output();
    assert!(
        python.is_ok_and(|o| o.status.success()),
        "this test runs test-fixtures/external/random_maps.py and needs `python3` on PATH"
    );
    let root = repository();
    let tmp = tempfile::tempdir().unwrap();
    let project = Project::new(&root, tmp.path().join("artifacts"));
    let ci = fs_err::read_to_string(root.join("configs/ci.toml")).unwrap();
    assert!(
        ci.contains("[data]\n"),
        "configs/ci.toml has a [data] table"
    );
    let dir_line = format!("[data]\ndir = {}\n", toml_string(&cifar_dir()));
    let base = ci.replacen("[data]\n", &dir_line, 1);
    let sal_config = tmp.path().join("sal.toml");
    fs_err::write(&sal_config, &base).unwrap();

    // 1. sal's own maps: the reference for the images and the model's predictions.
    let first = run(&project, &sal_config, Some(Stage::Attribute));
    let reference = tmp.path().join("reference.safetensors");
    fs_err::copy(
        outcome(&first, Stage::Attribute)
            .folder
            .join(Kind::Saliency.file_name()),
        &reference,
    )
    .unwrap();

    // 2. The same config with `attribute` replaced: data and train stay cached, the rest runs
    //    on the random maps.
    let script = root.join("test-fixtures/external/random_maps.py");
    let external_config = tmp.path().join("external.toml");
    fs_err::write(
        &external_config,
        format!(
            "{base}\n[external]\nattribute = [\"python3\", {}, {}]\n",
            toml_string(&script),
            toml_string(&reference)
        ),
    )
    .unwrap();
    let second = run(&project, &external_config, None);
    let actions: Vec<(Stage, Action)> = second.iter().map(|o| (o.stage, o.action)).collect();
    assert_eq!(
        actions,
        [
            (Stage::Data, Action::Cached),
            (Stage::Train, Action::Cached),
            (Stage::Attribute, Action::Ran),
            (Stage::Metrics, Action::Ran),
            (Stage::Stats, Action::Ran),
            (Stage::Sanity, Action::Ran),
            (Stage::Report, Action::Ran),
        ]
    );

    // The external maps: same images and predictions as sal's, other (random) values.
    let ours = Artifact::open(&reference, Kind::Saliency).unwrap();
    let theirs_path = outcome(&second, Stage::Attribute)
        .folder
        .join(Kind::Saliency.file_name());
    let theirs = Artifact::open(&theirs_path, Kind::Saliency).unwrap();
    assert_eq!(theirs.meta().created_by, "random_maps.py 1");
    let n = ours.shape(names::saliency::IMAGE_INDEX).unwrap()[0];
    assert_eq!(
        theirs.read::<u8>(names::saliency::PREDICTED, &[n]).unwrap(),
        ours.read::<u8>(names::saliency::PREDICTED, &[n]).unwrap()
    );
    // ci.toml leaves `[attribute] methods` at its default: the paper's five.
    let methods = sal_config::AttributeConfig::default().methods;
    for method in &methods {
        let name = names::saliency::map(method);
        let random = theirs.read::<f32>(&name, &[n, 32, 32]).unwrap();
        assert!(random.iter().all(|v| (-1.0..1.0).contains(v)), "{method}");
        assert_ne!(random, ours.read::<f32>(&name, &[n, 32, 32]).unwrap());
    }

    // Downstream read the external artifact (its key is their recorded input) ...
    let attribute_key = xtask::store::read_record(&outcome(&second, Stage::Attribute).folder)
        .unwrap()
        .unwrap()
        .key;
    let metrics = Artifact::open(
        &outcome(&second, Stage::Metrics)
            .folder
            .join(Kind::Metrics.file_name()),
        Kind::Metrics,
    )
    .unwrap();
    assert_eq!(metrics.meta().inputs["attribute"], attribute_key);
    assert_eq!(metrics.meta().extra["methods"], serde_json::json!(methods));

    // ... and the report is complete.
    let report = outcome(&second, Stage::Report).folder.join("report");
    for file in ["report.md", "report.html", "summary.json"] {
        let len = fs_err::metadata(report.join(file)).unwrap().len();
        assert!(len > 0, "{file} is empty");
    }
}
