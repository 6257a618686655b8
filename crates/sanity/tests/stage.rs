//! The `sanity` stage end to end on a tiny synthetic dataset and a tiny random model: the edge
//! control holds, the files follow the contract, and the same config gives the same bytes.

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_artifact::dataset::Part;
use sal_artifact::names::sanity as names;
use sal_artifact::{Artifact, ArtifactWriter, Dataset, Kind, Meta};
use sal_config::{AttributeConfig, Config, MetricsConfig, TrainConfig};
use sal_model::train::checkpoint::{self, RunIdentity};
use sal_model::train::init_weights;
use sal_model::Architecture;
use sal_sanity::random_labels::{self, Origin, RandomLabels, CHECKPOINT_FILE, MODEL_FILE};

fn part(seed: u64, n: usize, first: u32, labels: impl Fn(usize) -> u8) -> Part {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Part {
        images: (0..n * 3072).map(|_| rng.random::<u8>()).collect(),
        labels: (0..n).map(labels).collect(),
        index: (first..first + n as u32).collect(),
    }
}

/// The `[train]` section of the tiny model.
fn train_config() -> TrainConfig {
    TrainConfig {
        widths: [2, 2, 3, 3, 4, 4],
        batch_size: 8,
        ..TrainConfig::default()
    }
}

/// Writes the four input folders; returns the stage inputs.
fn inputs(root: &Path) -> sal_sanity::Inputs {
    let dir = |name: &str| -> PathBuf {
        let d = root.join(name);
        fs_err::create_dir_all(&d).unwrap();
        d
    };
    let (data, train, attribute, metrics) =
        (dir("data"), dir("train"), dir("attribute"), dir("metrics"));
    Dataset {
        train: part(1, 40, 0, |i| (i % 10) as u8),
        val: part(2, 10, 40, |i| (i % 10) as u8),
        test: part(3, 30, 0, |i| ((i * 7) % 10) as u8),
        channel_mean: [0.49, 0.48, 0.45],
        channel_std: [0.25, 0.24, 0.26],
        class_names: (0..10).map(|c| format!("c{c}")).collect(),
        meta: Meta::new(Kind::Dataset, "data", serde_json::json!({})),
    }
    .write(&data.join(Kind::Dataset.file_name()))
    .unwrap();
    let train_config = train_config();
    init_weights(&Architecture::with_widths(train_config.widths), 11)
        .save(
            &train.join(Kind::Model.file_name()),
            Meta::new(
                Kind::Model,
                "train",
                serde_json::to_value(&train_config).unwrap(),
            ),
        )
        .unwrap();
    let attribute_config = AttributeConfig {
        deep_shap_background: 3,
        ..AttributeConfig::default()
    };
    let mut w = ArtifactWriter::new(Meta::new(
        Kind::Saliency,
        "attribute",
        serde_json::to_value(&attribute_config).unwrap(),
    ));
    w.add("image_index", &[1], &[0u32]).unwrap();
    w.write(&attribute.join(Kind::Saliency.file_name()))
        .unwrap();
    let metrics_config = MetricsConfig {
        steps: 10,
        faithfulness_pixels: 8,
        ..MetricsConfig::default()
    };
    let mut w = ArtifactWriter::new(Meta::new(
        Kind::Metrics,
        "metrics",
        serde_json::to_value(&metrics_config).unwrap(),
    ));
    w.add("image_index", &[1], &[0u32]).unwrap();
    w.write(&metrics.join(Kind::Metrics.file_name())).unwrap();
    sal_sanity::Inputs {
        data,
        train,
        attribute,
        metrics,
        random_labels: None,
    }
}

const CONFIG: &str = "[sanity]\nimages_per_class = 2\nseed = 5\nrandom_labels_images = 20\n\
random_labels_epochs = 2\nmetric_images_per_class = 1\nbootstrap = 50\nexample_images = 2\n";

fn run(root: &Path, out: &str) -> PathBuf {
    run_with(root, out, CONFIG, None).unwrap().0
}

/// Runs the stage with `config` into `root/out`, the random-label model in `random_labels`.
fn run_with(
    root: &Path,
    out: &str,
    config: &str,
    random_labels: Option<&Path>,
) -> Result<(PathBuf, Option<Origin>), String> {
    let inputs = sal_sanity::Inputs {
        random_labels: random_labels.map(Path::to_path_buf),
        ..inputs(root)
    };
    let config = Config::parse(config).unwrap();
    let out = root.join(out);
    let outputs = sal_sanity::run(
        &config,
        &inputs,
        &out,
        &sal_sanity::Options { progress: false },
    )
    .map_err(|e| e.to_string())?;
    Ok((out, outputs.random_labels))
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs_err::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_random_label_model_is_trained_once_in_its_folder_and_then_reused() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("random_labels");
    let model = cache.join(MODEL_FILE);

    let (a, origin) = run_with(dir.path(), "a", CONFIG, Some(&cache)).unwrap();
    assert_eq!(origin, Some(Origin::Trained));
    // Only the finished model is left: no checkpoint, no temporary file; nothing of it in --out.
    assert_eq!(files_in(&cache), [MODEL_FILE]);
    assert_eq!(files_in(&a), ["sanity.json", "sanity.safetensors"]);
    let bytes = fs_err::read(&model).unwrap();
    let modified = fs_err::metadata(&model).unwrap().modified().unwrap();

    // A key that cannot change the model (the bootstrap) reuses it: nothing is trained or
    // written, and the results are those of a run that trains (the stored state is exact).
    let other_bootstrap = CONFIG.replace("bootstrap = 50", "bootstrap = 60");
    let (b, origin) = run_with(dir.path(), "b", &other_bootstrap, Some(&cache)).unwrap();
    assert_eq!(origin, Some(Origin::Cached));
    assert_eq!(fs_err::read(&model).unwrap(), bytes);
    assert_eq!(
        fs_err::metadata(&model).unwrap().modified().unwrap(),
        modified
    );
    let (fresh, origin) = run_with(dir.path(), "fresh", &other_bootstrap, None).unwrap();
    assert_eq!(origin, Some(Origin::Trained));
    for file in ["sanity.safetensors", "sanity.json"] {
        assert_eq!(
            fs_err::read(b.join(file)).unwrap(),
            fs_err::read(fresh.join(file)).unwrap(),
            "{file}"
        );
    }
    // Without a folder of its own the model is trained in --out and removed at the end.
    assert_eq!(files_in(&fresh), ["sanity.json", "sanity.safetensors"]);

    // A model of another run in the folder is refused, never used, and left as it was.
    let more_epochs = CONFIG.replace("random_labels_epochs = 2", "random_labels_epochs = 3");
    let err = run_with(dir.path(), "c", &more_epochs, Some(&cache)).unwrap_err();
    assert!(
        err.contains(MODEL_FILE) && err.contains("not a finished random-label model"),
        "{err}"
    );
    assert_eq!(fs_err::read(&model).unwrap(), bytes);
}

/// The random-label model of `CONFIG` on the test dataset, from (or trained in) `dir`.
fn obtain(root: &Path, dir: &Path) -> Result<RandomLabels, String> {
    let inputs = inputs(root);
    let dataset = Dataset::open(&inputs.data.join(Kind::Dataset.file_name())).unwrap();
    let config = Config::parse(CONFIG).unwrap();
    random_labels::obtain(
        &train_config(),
        &config.sanity,
        &dataset,
        "data-key",
        dir,
        false,
    )
    .map_err(|e| e.to_string())
}

#[test]
fn a_partial_model_file_is_never_taken_as_finished() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("random_labels");
    assert_eq!(obtain(dir.path(), &cache).unwrap().origin, Origin::Trained);
    assert_eq!(obtain(dir.path(), &cache).unwrap().origin, Origin::Cached);
    let bytes = fs_err::read(cache.join(MODEL_FILE)).unwrap();
    // What a non-atomic write killed midway would leave.
    let partial = dir.path().join("partial");
    support_write(&partial.join(MODEL_FILE), &bytes[..bytes.len() / 2]);
    let err = obtain(dir.path(), &partial).unwrap_err();
    assert!(err.contains("not a finished random-label model"), "{err}");
}

#[test]
fn a_checkpoint_in_the_folder_is_resumed_from() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("random_labels");
    let trained = obtain(dir.path(), &cache).unwrap();
    let model = cache.join(MODEL_FILE);
    // A run killed after its last epoch's checkpoint, before the model file: the checkpoint
    // holds the final state. Zero its classifier so that resuming from it (no epoch left to
    // run) is told apart from training afresh.
    let file = Artifact::open_any(&model).unwrap();
    let meta = file.meta();
    let identity = RunIdentity {
        config: meta.config.clone(),
        data_key: meta.inputs["data"].clone(),
        backend: meta.extra["backend"].as_str().unwrap().to_owned(),
    };
    let config = Config::parse(CONFIG).unwrap();
    let recipe = config.sanity.random_labels_train(&train_config());
    let mut state = checkpoint::load(&model, &identity, &recipe)
        .unwrap()
        .unwrap();
    assert!(state.finished);
    assert_eq!(state.weights, trained.weights);
    state.weights.params.classifier.fill(0.0);
    let resumed = dir.path().join("resumed");
    checkpoint::save(&resumed.join(CHECKPOINT_FILE), &identity, &state).unwrap();

    let out = obtain(dir.path(), &resumed).unwrap();
    assert_eq!(out.origin, Origin::Trained);
    assert!(out.weights.params.classifier.iter().all(|&w| w == 0.0));
    assert_eq!(out.log, trained.log);
    assert_eq!(
        files_in(&resumed),
        [MODEL_FILE],
        "the checkpoint is consumed"
    );
    let saved = checkpoint::load(&resumed.join(MODEL_FILE), &identity, &recipe)
        .unwrap()
        .unwrap();
    assert_eq!(saved.weights, out.weights);
}

fn support_write(path: &Path, bytes: &[u8]) {
    fs_err::create_dir_all(path.parent().unwrap()).unwrap();
    fs_err::write(path, bytes).unwrap();
}

#[test]
fn the_stage_is_deterministic_and_the_edge_control_holds() {
    let dir = tempfile::tempdir().unwrap();
    let a = run(dir.path(), "a");
    let b = run(dir.path(), "b");
    for file in ["sanity.safetensors", "sanity.json"] {
        assert_eq!(
            fs_err::read(a.join(file)).unwrap(),
            fs_err::read(b.join(file)).unwrap(),
            "{file}"
        );
    }
    assert!(!a.join(sal_sanity::random_labels::CHECKPOINT_FILE).exists());

    let file = Artifact::open(&a.join("sanity.safetensors"), Kind::Sanity).unwrap();
    let steps = file.meta().extra["steps"].as_array().unwrap().len();
    assert_eq!(steps, 7 + 7 + 1, "cascade, independent, random labels");
    let n = 20;
    for measure in ["spearman_abs", "spearman_signed", "ssim", "hog_pearson"] {
        let edge: Vec<f32> = file
            .read(&names::similarity(measure, "edge"), &[steps, n])
            .unwrap();
        assert!(edge.iter().all(|&v| v == 1.0), "{measure}: {edge:?}");
        // A model-dependent method moves once every layer is re-initialised.
        let grad: Vec<f32> = file
            .read(&names::similarity(measure, "gradient_x_input"), &[steps, n])
            .unwrap();
        assert!(grad[6 * n..7 * n].iter().any(|&v| v < 0.999), "{measure}");
    }
    let examples: Vec<f32> = file
        .read(&names::example("sensitivity"), &[steps + 1, 2, 32, 32])
        .unwrap();
    assert!(examples.iter().all(|v| v.is_finite()));
    let fit: Vec<f32> = file.read(names::RANDOM_LABELS_FIT, &[2]).unwrap();
    assert!(fit.iter().all(|v| (0.0..=1.0).contains(v)));

    let json: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(a.join("sanity.json")).unwrap()).unwrap();
    assert_eq!(json["edge_control"], "passed");
    let detection = json["detection"].as_array().unwrap();
    // 2 models x 3 metrics x 2 fills x 5 methods.
    assert_eq!(detection.len(), 2 * 3 * 2 * 5);
    for d in detection.iter().filter(|d| d["method"] == "edge") {
        assert_eq!(d["share"], 0.5, "identical maps tie: {d}");
    }
}
