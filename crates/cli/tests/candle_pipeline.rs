//! The whole `configs/ci.toml` pipeline on the real data twice: on the fast CPU kernels, then
//! with `[attribute]` and `[metrics]` on the candle path (`backend = "candle"` on the CPU, the
//! code the GPU runs). Data and train stay cached; the saliency maps agree within 1e-4
//! (relative L2), p0, q0, the drop curves and the Deltas within 1e-5, and the report's Table 1
//! within 1e-5. The sanity stage runs again with the random-label model the first run trained
//! (cached on its own: neither section enters its key).

use std::path::{Path, PathBuf};

use sal_artifact::{names, Artifact, Kind};
use sal_config::Stage;
use xtask::flags::Pipeline;
use xtask::pipeline::{Action, Outcome};
use xtask::{Project, SalSource};

mod support;

use support::{cifar_dir, repository};

fn run(project: &Project, config: &Path) -> Vec<Outcome> {
    let flags = Pipeline {
        config: Some(config.to_owned()),
        ..Pipeline::default()
    };
    let sal = SalSource::Given(PathBuf::from(env!("CARGO_BIN_EXE_sal")));
    xtask::pipeline::run(project, &flags, &sal).expect("the pipeline runs")
}

fn file(outcomes: &[Outcome], stage: Stage, name: &str) -> PathBuf {
    outcomes
        .iter()
        .find(|o| o.stage == stage)
        .unwrap()
        .folder
        .join(name)
}

fn rel_l2(a: &[f32], b: &[f32]) -> f64 {
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        num += (f64::from(x) - f64::from(y)).powi(2);
        den += f64::from(y).powi(2);
    }
    (num / den.max(1e-300)).sqrt()
}

/// Every number under `a` equals the one at the same place under `b` within `tol`.
fn assert_close(a: &serde_json::Value, b: &serde_json::Value, tol: f64, at: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= tol, "{at}: {x} vs {y}");
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                assert_close(x, y, tol, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "{at}"
            );
            for (k, x) in x {
                assert_close(x, &y[k], tol, &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

#[test]
fn the_ci_pipeline_through_candle_gives_the_fast_paths_table_1() {
    let root = repository();
    let tmp = tempfile::tempdir().unwrap();
    let project = Project::new(&root, tmp.path().join("artifacts"));
    let ci = fs_err::read_to_string(root.join("configs/ci.toml")).unwrap();
    let dir_line = format!(
        "[data]\ndir = {}\n",
        toml::Value::String(cifar_dir().display().to_string())
    );
    let fast = ci.replacen("[data]\n", &dir_line, 1);
    let candle = fast
        .replacen("[attribute]\n", "[attribute]\nbackend = \"candle\"\n", 1)
        .replacen("[metrics]\n", "[metrics]\nbackend = \"candle\"\n", 1);
    assert_ne!(fast, candle, "ci.toml has [attribute] and [metrics] tables");
    let (fast_path, candle_path) = (tmp.path().join("fast.toml"), tmp.path().join("candle.toml"));
    fs_err::write(&fast_path, &fast).unwrap();
    fs_err::write(&candle_path, &candle).unwrap();

    let first = run(&project, &fast_path);
    let random_label_folders = || -> Vec<PathBuf> {
        fs_err::read_dir(project.artifacts.join("random_labels"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    };
    let trained = random_label_folders();
    assert_eq!(trained.len(), 1, "{trained:?}");
    let model = trained[0].join("random_labels.safetensors");
    let (bytes, built) = (
        fs_err::read(&model).unwrap(),
        fs_err::metadata(&model).unwrap().modified().unwrap(),
    );
    let second = run(&project, &candle_path);
    assert_eq!(random_label_folders(), trained);
    assert_eq!(fs_err::read(&model).unwrap(), bytes);
    assert_eq!(
        fs_err::metadata(&model).unwrap().modified().unwrap(),
        built,
        "the random-label model is reused, not trained again"
    );
    let sanity = |o: &[Outcome]| {
        let artifact = Artifact::open(
            &file(o, Stage::Sanity, &Kind::Sanity.file_name()),
            Kind::Sanity,
        )
        .unwrap();
        artifact.meta().extra["random_labels"].clone()
    };
    assert_eq!(sanity(&first), sanity(&second));
    assert!(sanity(&first)["epochs"].as_u64().unwrap() > 0);
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

    let saliency = |o: &[Outcome]| {
        Artifact::open(
            &file(o, Stage::Attribute, &Kind::Saliency.file_name()),
            Kind::Saliency,
        )
        .unwrap()
    };
    let (a, b) = (saliency(&first), saliency(&second));
    let n = a.shape(names::saliency::IMAGE_INDEX).unwrap()[0];
    assert_eq!(
        a.read::<u8>(names::saliency::PREDICTED, &[n]).unwrap(),
        b.read::<u8>(names::saliency::PREDICTED, &[n]).unwrap()
    );
    for method in sal_config::AttributeConfig::default().methods {
        let name = names::saliency::map(&method);
        let (x, y) = (
            b.read::<f32>(&name, &[n, 32, 32]).unwrap(),
            a.read::<f32>(&name, &[n, 32, 32]).unwrap(),
        );
        for i in 0..n {
            let r = i * 1024..(i + 1) * 1024;
            let e = rel_l2(&x[r.clone()], &y[r]);
            assert!(e < 1e-4, "{method}, image {i}: relative L2 error {e}");
        }
    }

    let metrics = |o: &[Outcome]| {
        Artifact::open(
            &file(o, Stage::Metrics, &Kind::Metrics.file_name()),
            Kind::Metrics,
        )
        .unwrap()
    };
    let (a, b) = (metrics(&first), metrics(&second));
    // Where the inputs are the same bits (edge maps are model-free, so their orders are the
    // same; the random orderings and the faithfulness pixels are shared), the curves agree
    // within 1e-5. (Other methods' maps differ in the last bits, which can swap two pixels of
    // nearly equal relevance in an order.)
    let mut tensors = vec![
        names::metrics::P0.to_owned(),
        names::metrics::Q0.to_owned(),
        names::metrics::drop("edge", "morf", "mean"),
        names::metrics::drop("edge", "lerf", "uniform"),
    ];
    for fill in ["mean", "uniform"] {
        tensors.push(names::metrics::random_mean_drop(fill));
        tensors.push(names::metrics::delta(fill));
    }
    for name in tensors {
        let shape = a.shape(&name).unwrap().to_vec();
        let (x, y) = (
            a.read::<f64>(&name, &shape).unwrap(),
            b.read::<f64>(&name, &shape).unwrap(),
        );
        let d = x
            .iter()
            .zip(&y)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0f64, f64::max);
        assert!(d < 1e-5, "{name}: differs by {d}");
    }
    assert_eq!(
        a.read::<u16>(&names::metrics::order("edge", "morf"), &[n, 20])
            .unwrap(),
        b.read::<u16>(&names::metrics::order("edge", "morf"), &[n, 20])
            .unwrap()
    );

    let summary = |o: &[Outcome]| -> serde_json::Value {
        let path = file(o, Stage::Report, "report/summary.json");
        serde_json::from_str(&fs_err::read_to_string(path).unwrap()).unwrap()
    };
    let (a, b) = (summary(&first), summary(&second));
    assert_close(&b["table1_alpha"], &a["table1_alpha"], 1e-5, "table1_alpha");
    assert_eq!(b["images"], a["images"]);
}
