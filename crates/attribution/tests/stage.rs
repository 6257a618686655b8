//! The `attribute` stage end to end on a tiny synthetic dataset and a tiny random model.

mod common;

use std::path::Path;

use common::{random_pixels, tiny_weights};
use sal_artifact::names::{dataset as dn, saliency as sn};
use sal_artifact::{Artifact, ArtifactWriter, Kind, Meta};
use sal_attribution::methods::edge;
use sal_config::Config;
use sal_model::arch::{IMAGE_VALUES, PIXELS};

const TEST_IMAGES: usize = 40;
const TRAIN_IMAGES: usize = 30;

/// A dataset artifact with 40 test images (labels cycle 0..9 with a twist) and 30 training images.
fn write_dataset(dir: &Path) {
    let mean = [0.491f32, 0.482, 0.447];
    let std = [0.247f32, 0.243, 0.262];
    let test_labels: Vec<u8> = (0..TEST_IMAGES)
        .map(|i| ((i * 7 + i / 10) % 10) as u8)
        .collect();
    let meta = Meta::new(Kind::Dataset, "data", serde_json::json!({})).with_extra(
        "class_names",
        serde_json::json!(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]),
    );
    let mut w = ArtifactWriter::new(meta);
    w.add(
        dn::TEST_IMAGES,
        &[TEST_IMAGES, 3, 32, 32],
        &random_pixels(1, TEST_IMAGES),
    )
    .unwrap();
    w.add(dn::TEST_LABELS, &[TEST_IMAGES], &test_labels)
        .unwrap();
    w.add(
        dn::TRAIN_IMAGES,
        &[TRAIN_IMAGES, 3, 32, 32],
        &random_pixels(2, TRAIN_IMAGES),
    )
    .unwrap();
    w.add(dn::TRAIN_LABELS, &[TRAIN_IMAGES], &[0u8; TRAIN_IMAGES])
        .unwrap();
    w.add(dn::CHANNEL_MEAN, &[3], &mean).unwrap();
    w.add(dn::CHANNEL_STD, &[3], &std).unwrap();
    fs_err::create_dir_all(dir).unwrap();
    w.write(&dir.join(Kind::Dataset.file_name())).unwrap();
}

fn write_model(dir: &Path) {
    fs_err::create_dir_all(dir).unwrap();
    tiny_weights(3, false)
        .save(
            &dir.join(Kind::Model.file_name()),
            Meta::new(Kind::Model, "train", serde_json::json!({})),
        )
        .unwrap();
}

fn config(text: &str) -> Config {
    let config = Config::parse(text).unwrap();
    config.validate().unwrap();
    config
}

#[test]
fn the_stage_writes_every_map_and_the_contract_tensors() {
    let dir = tempfile::tempdir().unwrap();
    let (data, train, out) = (
        dir.path().join("data"),
        dir.path().join("train"),
        dir.path().join("out"),
    );
    write_dataset(&data);
    write_model(&train);
    let config = config(
        "[attribute]\nimages_per_class = 3\nbatch_size = 7\ndeep_shap_background = 4\nseed = 5\n",
    );
    let outputs = sal_attribution::run_with(
        &config,
        &data,
        &train,
        &out,
        &sal_attribution::Options { progress: false },
    )
    .unwrap();
    assert_eq!(outputs.images, 30);
    assert_eq!(outputs.timings.len(), 5);

    let a = Artifact::open(&out.join("saliency.safetensors"), Kind::Saliency).unwrap();
    let index: Vec<u32> = a.read(sn::IMAGE_INDEX, &[30]).unwrap();
    let labels: Vec<u8> = a.read(sn::LABEL, &[30]).unwrap();
    // The first 3 test images of each class, in test order.
    let all_labels: Vec<u8> = (0..TEST_IMAGES)
        .map(|i| ((i * 7 + i / 10) % 10) as u8)
        .collect();
    let mut want = Vec::new();
    let mut count = [0; 10];
    for (i, &l) in all_labels.iter().enumerate() {
        if count[l as usize] < 3 {
            count[l as usize] += 1;
            want.push(i as u32);
        }
    }
    assert_eq!(index, want);
    assert!(index
        .iter()
        .zip(&labels)
        .all(|(&i, &l)| all_labels[i as usize] == l));
    let predicted: Vec<u8> = a.read(sn::PREDICTED, &[30]).unwrap();
    assert!(predicted.iter().all(|&p| p < 10));
    let confidence: Vec<f32> = a.read_finite(sn::CONFIDENCE, &[30]).unwrap();
    assert!(
        confidence.iter().all(|&c| (0.1..=1.0).contains(&c)),
        "the arg-max probability is at least 1/10"
    );
    let logit: Vec<f32> = a.read_finite(sn::LOGIT, &[30]).unwrap();

    // Logit and prediction agree with the f64 reference.
    let reference = common::reference::RefNet::new(&tiny_weights(3, false));
    let test_pixels = random_pixels(1, TEST_IMAGES);
    for (n, &i) in index.iter().enumerate() {
        let px = &test_pixels[i as usize * IMAGE_VALUES..(i as usize + 1) * IMAGE_VALUES];
        let logits = reference.forward(&common::normalise(px)).logits;
        let best = (0..10).fold(0, |b, c| if logits[c] > logits[b] { c } else { b });
        assert_eq!(usize::from(predicted[n]), best);
        assert!((f64::from(logit[n]) - logits[best]).abs() < 1e-4 * logits[best].abs().max(1.0));
    }

    for method in [
        "sensitivity",
        "gradient_x_input",
        "deep_taylor",
        "deep_shap",
        "edge",
    ] {
        let maps: Vec<f32> = a.read_finite(&sn::map(method), &[30, 32, 32]).unwrap();
        assert!(maps.iter().any(|&v| v != 0.0), "{method} map is all zero");
    }
    // The edge map is the Sobel map of each selected image.
    let maps: Vec<f32> = a.read(&sn::map("edge"), &[30, 32, 32]).unwrap();
    let i = index[4] as usize;
    let mut want_map = vec![0.0; PIXELS];
    edge::sobel_magnitude(
        &edge::grey(
            &test_pixels[i * IMAGE_VALUES..(i + 1) * IMAGE_VALUES],
            edge::Grey::Luminance,
        ),
        edge::Border::Zero,
        &mut want_map,
    );
    assert_eq!(&maps[4 * PIXELS..5 * PIXELS], &want_map[..]);

    let bg: Vec<u32> = a.read(sn::DEEP_SHAP_BACKGROUND_INDEX, &[4]).unwrap();
    assert_eq!(
        bg,
        sal_attribution::select::draw_background(TRAIN_IMAGES, 4, 5).unwrap()
    );

    let meta = a.meta();
    assert_eq!(meta.stage, "attribute");
    assert!(meta.inputs.contains_key("data") && meta.inputs.contains_key("train"));
    assert_eq!(
        meta.extra["methods"],
        serde_json::json!([
            "sensitivity",
            "gradient_x_input",
            "deep_taylor",
            "deep_shap",
            "edge"
        ])
    );
    assert_eq!(meta.extra["class_names"][1], "b");
    assert_eq!(meta.config["images_per_class"], 3);

    // Deterministic: a second run writes the same bytes.
    let out2 = dir.path().join("out2");
    sal_attribution::run_with(
        &config,
        &data,
        &train,
        &out2,
        &sal_attribution::Options { progress: false },
    )
    .unwrap();
    assert_eq!(
        fs_err::read(out.join("saliency.safetensors")).unwrap(),
        fs_err::read(out2.join("saliency.safetensors")).unwrap()
    );
}

#[test]
fn unknown_methods_and_too_few_images_are_errors_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let (data, train, out) = (
        dir.path().join("data"),
        dir.path().join("train"),
        dir.path().join("out"),
    );
    write_dataset(&data);
    write_model(&train);
    let opts = sal_attribution::Options { progress: false };
    let err = sal_attribution::run_with(
        &config("[attribute]\nmethods = [\"edge\", \"lime\"]\n"),
        &data,
        &train,
        &out,
        &opts,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("lime") && err.contains("deep_taylor"), "{err}");
    let err = sal_attribution::run_with(
        &config("[attribute]\nimages_per_class = 5\nmethods = [\"edge\"]\n"),
        &data,
        &train,
        &out,
        &opts,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("dataset.safetensors") && err.contains("class"),
        "{err}"
    );
    assert!(!out.join("saliency.safetensors").exists());
    let err = sal_attribution::run_with(
        &config("[attribute]\nmethods = [\"edge\"]\n"),
        &data,
        &dir.path().join("nowhere"),
        &out,
        &opts,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("model.safetensors"), "{err}");
}
