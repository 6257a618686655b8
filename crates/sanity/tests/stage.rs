//! The `sanity` stage end to end on a tiny synthetic dataset and a tiny random model: the edge
//! control holds, the files follow the contract, and the same config gives the same bytes.

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_artifact::dataset::Part;
use sal_artifact::names::sanity as names;
use sal_artifact::{Artifact, ArtifactWriter, Dataset, Kind, Meta};
use sal_config::{AttributeConfig, Config, MetricsConfig, TrainConfig};
use sal_model::train::init_weights;
use sal_model::Architecture;

fn part(seed: u64, n: usize, first: u32, labels: impl Fn(usize) -> u8) -> Part {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Part {
        images: (0..n * 3072).map(|_| rng.random::<u8>()).collect(),
        labels: (0..n).map(labels).collect(),
        index: (first..first + n as u32).collect(),
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
    let train_config = TrainConfig {
        widths: [2, 2, 3, 3, 4, 4],
        batch_size: 8,
        ..TrainConfig::default()
    };
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
    }
}

const CONFIG: &str = "[sanity]\nimages_per_class = 2\nseed = 5\nrandom_labels_images = 20\n\
random_labels_epochs = 2\nmetric_images_per_class = 1\nbootstrap = 50\nexample_images = 2\n";

fn run(root: &Path, out: &str) -> PathBuf {
    let inputs = inputs(root);
    let config = Config::parse(CONFIG).unwrap();
    let out = root.join(out);
    sal_sanity::run(
        &config,
        &inputs,
        &out,
        &sal_sanity::Options { progress: false },
    )
    .unwrap();
    out
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
