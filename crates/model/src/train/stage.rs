//! The `train` stage: `dataset.safetensors` -> `model.safetensors` + `training_log.safetensors`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::DType;
use sal_artifact::names::model as names;
use sal_artifact::Dataset;
use sal_artifact::{ArtifactWriter, Kind, Meta};
use sal_config::train::TrainBackendKind;
use sal_config::{Config, Stage, TrainConfig};
use serde_json::json;

use crate::backend::TrainBackend;
use crate::candle_net::{device_from_name, CandleBackend};
use crate::error::{ModelError, Result};
use crate::inference::Normalizer;
use crate::train::checkpoint::{self, RunIdentity, CHECKPOINT_FILE};
use crate::train::evaluate::{evaluate, HIGH_CONFIDENCE};
use crate::train::fit::{augmentation, fit, FitOptions, FitState, Labelled, TrainData};

/// How [`run_with`] reports and when it stops.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Draw a progress bar per epoch.
    pub progress: bool,
    /// Stop with [`ModelError::Stopped`] after this epoch, keeping the checkpoint (to test
    /// resuming; a killed process behaves the same).
    pub stop_after_epoch: Option<usize>,
}

/// What the stage wrote and measured.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutputs {
    /// `model.safetensors`.
    pub model: PathBuf,
    /// `training_log.safetensors`.
    pub log: PathBuf,
    /// The backend that computed the steps (`fast` or `candle`).
    pub backend: String,
    /// Epochs run (fewer than configured after early stopping).
    pub epochs_run: usize,
    /// The validation epoch whose weights were kept (1-based).
    pub best_epoch: usize,
    /// Training-mode accuracy during the kept epoch.
    pub train_accuracy: f64,
    /// Validation accuracy of the kept model.
    pub val_accuracy: f64,
    /// Test accuracy of the kept model.
    pub test_accuracy: f64,
    /// Share of test images predicted with softmax probability >= 0.99 by the kept model.
    pub test_confident_share: f64,
    /// Epochs taken from a checkpoint instead of being run by this call.
    pub resumed_epochs: usize,
    /// Wall time of this call (logged; never written into an artifact).
    pub seconds: f64,
}

/// The backend named by the config: `fast` (CPU kernels) or `candle` on the configured
/// device; `auto` is `fast` on the CPU and `candle` elsewhere.
pub fn make_backend(config: &TrainConfig) -> Result<(Box<dyn TrainBackend>, &'static str)> {
    let want_fast = match config.backend {
        TrainBackendKind::Fast => true,
        TrainBackendKind::Candle => false,
        TrainBackendKind::Auto => config.device == "cpu",
    };
    if want_fast {
        if config.device != "cpu" {
            return Err(ModelError::Config {
                key: "backend".to_owned(),
                message: format!(
                    "the fast backend runs on the CPU only, not on {:?}",
                    config.device
                ),
            });
        }
        return Ok((Box::new(crate::fast::FastBackend::new()), "fast"));
    }
    let device = device_from_name(&config.device)?;
    Ok((Box::new(CandleBackend::new(device, DType::F32)?), "candle"))
}

/// Runs the stage with default options (no progress bar, no stop).
pub fn run(config: &Config, data_dir: &Path, out_dir: &Path) -> Result<TrainOutputs> {
    run_with(config, data_dir, out_dir, &RunOptions::default())
}

/// Trains the model of `config.train` on `data_dir/dataset.safetensors` and writes
/// `model.safetensors` and `training_log.safetensors` into `out_dir`.
///
/// After every epoch the state goes to `out_dir/checkpoint.safetensors`; a later call with the
/// same config and dataset continues from it and ends with the same bytes as an uninterrupted
/// run. The checkpoint is deleted once both artifacts are written.
pub fn run_with(
    config: &Config,
    data_dir: &Path,
    out_dir: &Path,
    options: &RunOptions,
) -> Result<TrainOutputs> {
    let started = Instant::now();
    let tc = &config.train;
    let dataset_path = data_dir.join(Kind::Dataset.file_name());
    let dataset = Dataset::open(&dataset_path)?;
    let data_key = sal_artifact::input_key(&dataset_path)?;
    let train_n = tc
        .max_train_images
        .map_or(dataset.train.len(), |m| m.min(dataset.train.len()));
    let image_bytes = crate::arch::IMAGE_VALUES;
    let data = TrainData {
        train: Labelled {
            images: &dataset.train.images[..train_n * image_bytes],
            labels: &dataset.train.labels[..train_n],
        },
        val: Labelled {
            images: &dataset.val.images,
            labels: &dataset.val.labels,
        },
        normalizer: Normalizer::new(dataset.channel_mean, dataset.channel_std),
    };
    let (mut backend, backend_name) = make_backend(tc)?;
    let section = config.section_json(Stage::Train);
    let identity = RunIdentity {
        config: section.clone(),
        data_key: data_key.clone(),
        backend: backend_name.to_owned(),
    };

    fs_err::create_dir_all(out_dir)?;
    let checkpoint_path = out_dir.join(CHECKPOINT_FILE);
    let state = match checkpoint::load(&checkpoint_path, &identity, tc)? {
        Some(state) => {
            tracing::info!(
                "resuming from {} after epoch {} (best {} so far)",
                checkpoint_path.display(),
                state.epochs_done(),
                state.best_epoch
            );
            state
        }
        None => FitState::new(tc),
    };
    let resumed_epochs = state.epochs_done();
    tracing::info!(
        "training on {train_n} images ({} validation, {} test), backend {backend_name}, device {}, {} threads",
        data.val.len(),
        dataset.test.len(),
        tc.device,
        rayon::current_num_threads()
    );
    let mut save = |s: &FitState| checkpoint::save(&checkpoint_path, &identity, s);
    let mut fit_options = FitOptions {
        progress: options.progress,
        stop_after_epoch: options.stop_after_epoch,
        on_epoch: &mut save,
    };
    let state = fit(backend.as_mut(), tc, &data, state, &mut fit_options)?;

    let best = &state.log[state.best_epoch - 1];
    let test = evaluate(
        backend.as_mut(),
        &state.best,
        &data.normalizer,
        &dataset.test.images,
        &dataset.test.labels,
    )?;
    let test_accuracy = test.accuracy;
    let aug = augmentation(tc);
    let meta = |kind: Kind| {
        Meta::new(kind, Stage::Train.name(), section.clone())
            .with_input("data", data_key.clone())
            .with_extra("backend", json!(backend_name))
            .with_extra("epochs_run", json!(state.epochs_done()))
            .with_extra("best_epoch", json!(state.best_epoch))
            .with_extra("train_images", json!(train_n))
            .with_extra("train_accuracy", json!(best.train_accuracy))
            .with_extra("val_accuracy", json!(best.val_accuracy))
            .with_extra("test_accuracy", json!(test_accuracy))
            .with_extra("test_confident_share", json!(test.confident_share))
            .with_extra("confident_threshold", json!(HIGH_CONFIDENCE))
            .with_extra("augmentation", json!(aug))
    };
    let model_path = out_dir.join(Kind::Model.file_name());
    state.best.save(&model_path, meta(Kind::Model))?;
    let log_path = out_dir.join(Kind::TrainingLog.file_name());
    write_log(&log_path, meta(Kind::TrainingLog), &state)?;
    if checkpoint_path.exists() {
        fs_err::remove_file(&checkpoint_path)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        "kept epoch {} of {}: train {:.2}%, validation {:.2}%, test {:.2}%, {:.1}% of test images at confidence >= {HIGH_CONFIDENCE} ({seconds:.0} s)",
        state.best_epoch,
        state.epochs_done(),
        100.0 * best.train_accuracy,
        100.0 * best.val_accuracy,
        100.0 * test_accuracy,
        100.0 * test.confident_share
    );
    Ok(TrainOutputs {
        model: model_path,
        log: log_path,
        backend: backend_name.to_owned(),
        epochs_run: state.epochs_done(),
        best_epoch: state.best_epoch,
        train_accuracy: best.train_accuracy,
        val_accuracy: best.val_accuracy,
        test_accuracy,
        test_confident_share: test.confident_share,
        resumed_epochs,
        seconds,
    })
}

/// Name of the per-epoch learning-rate tensor of `training_log.safetensors` (f32 [epochs]; the
/// rate of each epoch's last step).
pub const LOG_LEARNING_RATE: &str = "learning_rate";

/// Writes `training_log.safetensors`: `train_loss`, `train_accuracy`, `val_accuracy` and
/// `learning_rate`, each f32 `[epochs]`.
fn write_log(path: &Path, meta: Meta, state: &FitState) -> Result<()> {
    let e = state.log.len();
    let column = |f: fn(&crate::train::fit::EpochLog) -> f64| -> Vec<f32> {
        state.log.iter().map(|x| f(x) as f32).collect()
    };
    let mut writer = ArtifactWriter::new(meta);
    writer.add(names::LOG_TRAIN_LOSS, &[e], &column(|x| x.train_loss))?;
    writer.add(
        names::LOG_TRAIN_ACCURACY,
        &[e],
        &column(|x| x.train_accuracy),
    )?;
    writer.add(names::LOG_VAL_ACCURACY, &[e], &column(|x| x.val_accuracy))?;
    writer.add(LOG_LEARNING_RATE, &[e], &column(|x| x.learning_rate))?;
    writer.write(path)?;
    Ok(())
}
