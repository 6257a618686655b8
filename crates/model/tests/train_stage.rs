//! The `train` stage end to end on a tiny synthetic dataset: artifacts and their metadata,
//! byte-identical reruns, resuming after an interruption, checkpoints of other runs ignored.

mod train_support;

use sal_artifact::names::model as names;
use sal_artifact::{Artifact, Kind};
use sal_config::train::TrainBackendKind;
use sal_model::train::checkpoint::CHECKPOINT_FILE;
use sal_model::train::{run, run_with, RunOptions};
use sal_model::{ModelError, Weights};
use train_support::{dataset, tiny_config};

/// The default CPU backend; `train_candle.rs` runs the candle backend through the stage.
const BACKEND: TrainBackendKind = TrainBackendKind::Fast;

#[test]
fn writes_the_model_and_the_log_with_their_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(&dir.path().join("data"), 300);
    let out = dir.path().join("out");
    let config = tiny_config(BACKEND);
    let outputs = run(&config, &data, &out).unwrap();
    assert_eq!(
        (
            outputs.epochs_run,
            outputs.resumed_epochs,
            outputs.backend.as_str()
        ),
        (2, 0, "fast")
    );
    assert!(!out.join(CHECKPOINT_FILE).exists());

    let (weights, meta) = Weights::load(&out.join("model.safetensors")).unwrap();
    assert_eq!(weights.arch.widths, [4, 4, 8, 8, 8, 8]);
    assert_eq!(meta.stage, "train");
    assert_eq!(meta.config, config.section_json(sal_config::Stage::Train));
    let key = sal_artifact::input_key(&data.join("dataset.safetensors")).unwrap();
    assert_eq!(meta.inputs["data"], key);
    assert_eq!(meta.extra["epochs_run"], 2);
    assert_eq!(
        meta.extra["best_epoch"],
        serde_json::json!(outputs.best_epoch)
    );
    assert_eq!(
        meta.extra["test_accuracy"],
        serde_json::json!(outputs.test_accuracy)
    );
    assert_eq!(
        meta.extra["augmentation"],
        serde_json::json!({"crop_padding": 4, "horizontal_flip": true})
    );
    assert_eq!(meta.extra["train_images"], 300);
    // The synthetic classes are easy: two epochs on 300 images beat chance (10%) clearly.
    assert!(
        outputs.test_accuracy > 0.3,
        "test accuracy {}",
        outputs.test_accuracy
    );

    let log = Artifact::open(&out.join("training_log.safetensors"), Kind::TrainingLog).unwrap();
    let loss = log.read_finite::<f32>(names::LOG_TRAIN_LOSS, &[2]).unwrap();
    let val = log
        .read_finite::<f32>(names::LOG_VAL_ACCURACY, &[2])
        .unwrap();
    log.read_finite::<f32>(names::LOG_TRAIN_ACCURACY, &[2])
        .unwrap();
    let lr = log.read_finite::<f32>("learning_rate", &[2]).unwrap();
    assert!(
        loss.iter().all(|&l| l > 0.0) && loss[1] < loss[0],
        "{loss:?}"
    );
    assert!((f64::from(val[outputs.best_epoch - 1]) - outputs.val_accuracy).abs() < 1e-6);
    assert!(lr[1] < lr[0] && lr[1] >= 0.0, "cosine decays: {lr:?}");
}

#[test]
fn reruns_are_byte_identical_and_a_resumed_run_ends_where_an_uninterrupted_one_does() {
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(&dir.path().join("data"), 200);
    let config = tiny_config(BACKEND);
    let read = |out: &std::path::Path| {
        (
            fs_err::read(out.join("model.safetensors")).unwrap(),
            fs_err::read(out.join("training_log.safetensors")).unwrap(),
        )
    };

    let a = dir.path().join("a");
    run(&config, &data, &a).unwrap();
    let b = dir.path().join("b");
    run(&config, &data, &b).unwrap();
    assert!(read(&a) == read(&b), "two runs of the same config differ");

    let c = dir.path().join("c");
    let stop = RunOptions {
        progress: false,
        stop_after_epoch: Some(1),
    };
    let err = run_with(&config, &data, &c, &stop).unwrap_err();
    assert!(matches!(err, ModelError::Stopped { epoch: 1 }), "{err}");
    assert!(c.join(CHECKPOINT_FILE).exists() && !c.join("model.safetensors").exists());
    let resumed = run(&config, &data, &c).unwrap();
    assert_eq!(resumed.resumed_epochs, 1);
    assert!(!c.join(CHECKPOINT_FILE).exists());
    assert!(
        read(&a) == read(&c),
        "the resumed run differs from the uninterrupted one"
    );
}

#[test]
fn a_checkpoint_of_another_config_is_not_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(&dir.path().join("data"), 100);
    let out = dir.path().join("out");
    let mut config = tiny_config(BACKEND);
    config.train.epochs = 2;
    let stop = RunOptions {
        progress: false,
        stop_after_epoch: Some(1),
    };
    assert!(run_with(&config, &data, &out, &stop).is_err());
    config.train.seed += 1;
    let outputs = run(&config, &data, &out).unwrap();
    assert_eq!(outputs.resumed_epochs, 0);
    assert!(!out.join(CHECKPOINT_FILE).exists());
}

#[test]
fn a_diverging_run_stops_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(&dir.path().join("data"), 100);
    let mut config = tiny_config(BACKEND);
    config.train.learning_rate = 1e12;
    config.train.warmup_epochs = 0.0;
    let err = run(&config, &data, &dir.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("training loss") && err.contains("diverged"),
        "{err}"
    );
    assert!(!dir.path().join("out/model.safetensors").exists());
}

#[test]
fn a_missing_dataset_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = run(&tiny_config(BACKEND), dir.path(), &dir.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("dataset.safetensors"), "{err}");
}

#[cfg(not(feature = "cuda"))]
#[test]
fn a_gpu_device_this_build_lacks_is_an_error_not_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(&dir.path().join("data"), 64);
    let mut config = tiny_config(TrainBackendKind::Auto);
    config.train.device = "cuda:0".to_owned();
    let err = run(&config, &data, &dir.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cuda:0") && err.contains("--features cuda"),
        "{err}"
    );
}
