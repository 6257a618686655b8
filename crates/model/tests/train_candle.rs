//! The candle backend through the training stage (resume and determinism), and the two
//! backends, fed the same numbers by the loop, taking the same step.

mod train_support;

use candle_core::{DType, Device};
use sal_config::train::TrainBackendKind;
use sal_model::candle_net::CandleBackend;
use sal_model::fast::FastBackend;
use sal_model::train::fit::{FitOptions, FitState, Labelled, TrainData};
use sal_model::train::{fit, run, run_with, RunOptions};
use sal_model::{Normalizer, TrainBackend};
use train_support::{dataset, tiny_config};

#[test]
fn the_candle_backend_resumes_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(&dir.path().join("data"), 64);
    let config = tiny_config(TrainBackendKind::Candle);
    let model = |out: &std::path::Path| fs_err::read(out.join("model.safetensors")).unwrap();
    let a = dir.path().join("a");
    assert_eq!(run(&config, &data, &a).unwrap().backend, "candle");
    let b = dir.path().join("b");
    let stop = RunOptions {
        progress: false,
        stop_after_epoch: Some(1),
    };
    assert!(run_with(&config, &data, &b, &stop).is_err());
    assert_eq!(run(&config, &data, &b).unwrap().resumed_epochs, 1);
    assert!(model(&a) == model(&b));
}

#[test]
fn fast_and_candle_backends_take_the_same_training_step() {
    let dir = tempfile::tempdir().unwrap();
    // One batch, so one step: after it the two backends' weights differ by float rounding
    // (~1e-8), and on u8 images, whose exact ties become near-ties of conv outputs, that is
    // enough to route a later step's max-pool gradients differently (differences of ~1e-3
    // after three steps on this data). The first step must agree to rounding.
    let data_dir = dataset(&dir.path().join("data"), 32);
    let ds = sal_artifact::Dataset::open_dir(&data_dir).unwrap();
    let data = TrainData {
        train: Labelled {
            images: &ds.train.images,
            labels: &ds.train.labels,
        },
        val: Labelled {
            images: &ds.val.images,
            labels: &ds.val.labels,
        },
        normalizer: Normalizer::new(ds.channel_mean, ds.channel_std),
    };
    let mut config = tiny_config(TrainBackendKind::Auto).train;
    config.epochs = 1;
    config.learning_rate = 0.01;
    let train = |backend: &mut dyn TrainBackend| {
        let mut nothing = |_: &FitState| Ok(());
        let mut options = FitOptions {
            progress: false,
            stop_after_epoch: None,
            on_epoch: &mut nothing,
        };
        fit(
            backend,
            &config,
            &data,
            FitState::new(&config),
            &mut options,
        )
        .unwrap()
    };
    let fast = train(&mut FastBackend::new());
    let candle = train(&mut CandleBackend::new(Device::Cpu, DType::F64).unwrap());
    let start = FitState::new(&config).weights;
    // The step moved the weights; both backends moved them the same way.
    for (((name, f, _), (_, c, _)), (_, s, _)) in fast
        .weights
        .params
        .tensors()
        .into_iter()
        .zip(candle.weights.params.tensors())
        .zip(start.params.tensors())
    {
        let moved = f
            .iter()
            .zip(s)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        let diff = f
            .iter()
            .zip(c)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(moved > 0.0, "{name} did not move");
        assert!(
            diff <= 1e-4 * moved,
            "{name}: backends differ by {diff}, moved {moved}"
        );
    }
    for l in 0..6 {
        for (a, b) in fast.weights.running_var[l]
            .iter()
            .zip(&candle.weights.running_var[l])
        {
            assert!(
                (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                "running_var of layer {l}"
            );
        }
    }
    let (fl, cl) = (fast.log[0], candle.log[0]);
    assert!(
        (fl.train_loss - cl.train_loss).abs() < 1e-6,
        "{} vs {}",
        fl.train_loss,
        cl.train_loss
    );
    assert_eq!(fl.val_accuracy, cl.val_accuracy);
}
