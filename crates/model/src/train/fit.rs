//! The training loop, written once for every [`TrainBackend`].
//!
//! Per epoch `e`: shuffle the training images with the `(seed, Shuffle, e)` stream; for each
//! batch, augment the u8 images (`(seed, Augment, e)`), normalise them, draw the dropout mask
//! (`(seed, Dropout, e)`), let the backend compute loss, gradients and BN batch statistics,
//! add weight decay and step the optimiser at the scheduled learning rate, and update the BN
//! running statistics (momentum 0.1, unbiased variance, as PyTorch). Then measure validation
//! accuracy, keep the best epoch's weights, and stop early after `patience` epochs without
//! improvement. Nothing depends on the wall clock or on state outside [`FitState`], so a run
//! resumed from a saved state ends exactly where an uninterrupted one does.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::SliceRandom;
use rand::Rng;
use sal_config::TrainConfig;

use crate::arch::{Architecture, CONV_LAYERS, IMAGE_VALUES};
use crate::backend::{BatchStats, TrainBackend};
use crate::error::{check_len, ModelError, Result};
use crate::inference::Normalizer;
use crate::train::augment::Augmentation;
use crate::train::evaluate::accuracy;
use crate::train::init::init_weights;
use crate::train::optim::{Optimizer, OptimizerSettings};
use crate::train::rng::{stream, Purpose};
use crate::train::schedule::Schedule;
use crate::weights::{Trainable, Weights};

/// Momentum of the BatchNorm running statistics (PyTorch's default).
pub const BN_MOMENTUM: f64 = 0.1;

/// Labelled u8 images.
#[derive(Debug, Clone, Copy)]
pub struct Labelled<'a> {
    /// u8 `[n, 3, 32, 32]`, NCHW.
    pub images: &'a [u8],
    /// `[n]`, in `0..classes`.
    pub labels: &'a [u8],
}

impl Labelled<'_> {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// The data of a run.
#[derive(Debug, Clone, Copy)]
pub struct TrainData<'a> {
    /// Images the model learns from.
    pub train: Labelled<'a>,
    /// Images early stopping watches.
    pub val: Labelled<'a>,
    /// The dataset's channel mean and std.
    pub normalizer: Normalizer,
}

/// One epoch's line of the training log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochLog {
    /// Mean cross-entropy over the epoch's training images (training mode, augmented).
    pub train_loss: f64,
    /// Training-mode accuracy over the epoch's training images.
    pub train_accuracy: f64,
    /// Eval-mode accuracy on the validation images after the epoch.
    pub val_accuracy: f64,
    /// Learning rate of the epoch's last step.
    pub learning_rate: f64,
}

/// Everything a run carries from one epoch to the next (what a checkpoint saves).
#[derive(Debug, Clone, PartialEq)]
pub struct FitState {
    /// The current weights.
    pub weights: Weights,
    /// The optimiser and its state.
    pub optimizer: Optimizer,
    /// The weights after the best validation epoch so far.
    pub best: Weights,
    /// The best validation epoch so far (1-based; 0 before the first epoch).
    pub best_epoch: usize,
    /// One entry per completed epoch.
    pub log: Vec<EpochLog>,
    /// Whether the run is over (all epochs done, or stopped early).
    pub finished: bool,
}

impl FitState {
    /// The state before the first epoch: seeded initial weights, fresh optimiser.
    pub fn new(config: &TrainConfig) -> Self {
        let weights = init_weights(&architecture(config), config.seed);
        let optimizer = Optimizer::new(optimizer_settings(config), &weights.params);
        FitState {
            best: weights.clone(),
            weights,
            optimizer,
            best_epoch: 0,
            log: Vec::new(),
            finished: false,
        }
    }

    /// Completed epochs.
    pub fn epochs_done(&self) -> usize {
        self.log.len()
    }

    /// The best validation accuracy so far (0 before the first epoch).
    pub fn best_val_accuracy(&self) -> f64 {
        if self.best_epoch == 0 {
            0.0
        } else {
            self.log[self.best_epoch - 1].val_accuracy
        }
    }
}

/// The network shape a config asks for.
pub fn architecture(config: &TrainConfig) -> Architecture {
    Architecture::with_widths(config.widths)
}

/// The optimiser settings a config asks for.
pub fn optimizer_settings(config: &TrainConfig) -> OptimizerSettings {
    OptimizerSettings {
        kind: config.optimizer,
        momentum: config.momentum as f32,
        nesterov: config.nesterov,
        weight_decay: config.weight_decay as f32,
    }
}

/// The augmentation a config asks for.
pub fn augmentation(config: &TrainConfig) -> Augmentation {
    Augmentation {
        crop_padding: config.crop_padding,
        horizontal_flip: config.horizontal_flip,
    }
}

/// Batches per epoch: full batches, plus the remainder if it has at least 2 images (BatchNorm
/// needs two); a single leftover image is skipped (a different one each epoch).
pub fn steps_per_epoch(train_images: usize, batch_size: usize) -> usize {
    train_images / batch_size + usize::from(train_images % batch_size >= 2)
}

/// How [`fit`] reports and when it stops.
pub struct FitOptions<'a> {
    /// Draw a progress bar per epoch.
    pub progress: bool,
    /// Stop with [`ModelError::Stopped`] after this epoch (1-based) unless the run is over
    /// (to test resuming).
    pub stop_after_epoch: Option<usize>,
    /// Called after every epoch with the new state (e.g. to write a checkpoint).
    pub on_epoch: &'a mut dyn FnMut(&FitState) -> Result<()>,
}

impl std::fmt::Debug for FitOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FitOptions")
            .field("progress", &self.progress)
            .field("stop_after_epoch", &self.stop_after_epoch)
            .finish_non_exhaustive()
    }
}

/// Trains from `state` until the run is over, returning the final state (whose `best` is the
/// model to keep).
pub fn fit(
    backend: &mut dyn TrainBackend,
    config: &TrainConfig,
    data: &TrainData,
    mut state: FitState,
    options: &mut FitOptions,
) -> Result<FitState> {
    let n = data.train.len();
    check_len(
        "training images",
        data.train.images.len(),
        n * IMAGE_VALUES,
        || format!("[{n}, 3, 32, 32]"),
    )?;
    let steps = steps_per_epoch(n, config.batch_size);
    if steps == 0 {
        return Err(ModelError::Config {
            key: "max_train_images".to_owned(),
            message: format!("{n} training image(s): at least 2 are needed for one batch"),
        });
    }
    let schedule = Schedule::new(
        config.schedule,
        config.learning_rate,
        config.warmup_epochs,
        config.epochs,
        steps,
    );
    while !state.finished {
        let epoch = state.epochs_done();
        let started = Instant::now();
        let (train_loss, train_accuracy, learning_rate) = run_epoch(
            backend,
            config,
            data,
            &schedule,
            &mut state,
            epoch,
            options.progress,
        )?;
        let train_seconds = started.elapsed().as_secs_f64();
        let val_accuracy = accuracy(
            backend,
            &state.weights,
            &data.normalizer,
            data.val.images,
            data.val.labels,
        )?;
        state.log.push(EpochLog {
            train_loss,
            train_accuracy,
            val_accuracy,
            learning_rate,
        });
        let done = epoch + 1;
        if state.best_epoch == 0 || val_accuracy > state.best_val_accuracy() {
            state.best_epoch = done;
            state.best = state.weights.clone();
        }
        let patience_out = config.patience > 0 && done - state.best_epoch >= config.patience;
        state.finished = done >= config.epochs || patience_out;
        tracing::info!(
            "epoch {done}/{}: loss {train_loss:.4}, train acc {:.2}%, val acc {:.2}% (best {:.2}% at epoch {}), lr {learning_rate:.3e}, {:.1} s, {:.0} images/s",
            config.epochs,
            100.0 * train_accuracy,
            100.0 * val_accuracy,
            100.0 * state.best_val_accuracy(),
            state.best_epoch,
            started.elapsed().as_secs_f64(),
            n as f64 / train_seconds,
        );
        if patience_out && done < config.epochs {
            tracing::info!(
                "early stopping: no better validation accuracy for {} epochs",
                config.patience
            );
        }
        (options.on_epoch)(&state)?;
        if !state.finished && options.stop_after_epoch == Some(done) {
            return Err(ModelError::Stopped { epoch: done });
        }
    }
    Ok(state)
}

/// One epoch over the training images; returns (mean loss, accuracy, last learning rate).
fn run_epoch(
    backend: &mut dyn TrainBackend,
    config: &TrainConfig,
    data: &TrainData,
    schedule: &Schedule,
    state: &mut FitState,
    epoch: usize,
    progress: bool,
) -> Result<(f64, f64, f64)> {
    let arch = state.weights.arch;
    let n = data.train.len();
    let batch = config.batch_size;
    let steps = steps_per_epoch(n, batch);
    let flat = arch.flat_features();
    let aug = augmentation(config);
    let keep_scale = (1.0 / (1.0 - config.dropout)) as f32;
    let dropout = config.dropout as f32;

    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut stream(config.seed, Purpose::Shuffle, epoch as u64));
    let mut aug_rng = stream(config.seed, Purpose::Augment, epoch as u64);
    let mut drop_rng = stream(config.seed, Purpose::Dropout, epoch as u64);

    let mut raw = vec![0u8; batch * IMAGE_VALUES];
    let mut input = vec![0.0f32; batch * IMAGE_VALUES];
    let mut labels = vec![0u8; batch];
    let mut mask = vec![0.0f32; batch * flat];
    let mut grads = Trainable::zeros(&arch);
    let mut stats = BatchStats::zeros(&arch.widths);

    let bar = epoch_bar(progress, n, epoch + 1, config.epochs);
    let (mut loss_sum, mut correct, mut seen, mut lr) = (0.0f64, 0usize, 0usize, 0.0f64);
    for b in 0..steps {
        let idx = &order[b * batch..((b + 1) * batch).min(n)];
        let m = idx.len();
        for (k, &i) in idx.iter().enumerate() {
            let src = &data.train.images[i * IMAGE_VALUES..(i + 1) * IMAGE_VALUES];
            let dst = &mut raw[k * IMAGE_VALUES..(k + 1) * IMAGE_VALUES];
            if aug.is_identity() {
                dst.copy_from_slice(src);
            } else {
                aug.apply(aug.draw(&mut aug_rng), src, dst);
            }
            labels[k] = data.train.labels[i];
        }
        data.normalizer
            .nchw_u8_to_nhwc(&raw[..m * IMAGE_VALUES], &mut input[..m * IMAGE_VALUES])?;
        let mask = &mut mask[..m * flat];
        if dropout > 0.0 {
            mask.iter_mut().for_each(|v| {
                *v = if drop_rng.random::<f32>() < dropout {
                    0.0
                } else {
                    keep_scale
                }
            });
        } else {
            mask.fill(1.0);
        }
        let diverged = |what: String| {
            ModelError::NonFinite {
            what: format!(
                "{what} at epoch {}, batch {} of {steps}: training diverged; lower `learning_rate` or raise `warmup_epochs`",
                epoch + 1,
                b + 1
            ),
        }
        };
        let out = backend
            .train_step(
                &state.weights,
                &input[..m * IMAGE_VALUES],
                &labels[..m],
                mask,
                &mut grads,
                &mut stats,
            )
            .map_err(|e| match e {
                ModelError::NonFinite { what } => diverged(what),
                other => other,
            })?;
        if !out.loss.is_finite() {
            return Err(diverged(format!("the training loss ({})", out.loss)));
        }
        lr = schedule.learning_rate((epoch * steps + b) as u64);
        state
            .optimizer
            .step(&mut state.weights.params, &grads, lr)?;
        update_running_stats(&mut state.weights, &stats, m);
        loss_sum += out.loss * m as f64;
        correct += out.correct;
        seen += m;
        bar.inc(m as u64);
        bar.set_message(format!(
            "loss {:.4} acc {:.1}%",
            loss_sum / seen as f64,
            100.0 * correct as f64 / seen as f64
        ));
    }
    bar.finish_and_clear();
    Ok((loss_sum / seen as f64, correct as f64 / seen as f64, lr))
}

/// PyTorch's BatchNorm running-statistics update from one batch of `batch` images:
/// `mean = (1 - 0.1) mean + 0.1 batch_mean`, `var = (1 - 0.1) var + 0.1 batch_var * k / (k - 1)`
/// with `k` = batch x height x width positions the statistics were taken over.
pub fn update_running_stats(weights: &mut Weights, stats: &BatchStats, batch: usize) {
    for l in 0..CONV_LAYERS {
        let side = weights.arch.spatial(l);
        let k = (batch * side * side) as f64;
        let unbias = k / (k - 1.0);
        for c in 0..weights.arch.widths[l] {
            let rm = &mut weights.running_mean[l][c];
            *rm = ((1.0 - BN_MOMENTUM) * f64::from(*rm) + BN_MOMENTUM * f64::from(stats.mean[l][c]))
                as f32;
            let rv = &mut weights.running_var[l][c];
            *rv = ((1.0 - BN_MOMENTUM) * f64::from(*rv)
                + BN_MOMENTUM * f64::from(stats.var[l][c]) * unbias) as f32;
        }
    }
}

/// The per-epoch progress bar (hidden unless `enabled`): images done, images/s, ETA, loss
/// and accuracy so far.
fn epoch_bar(enabled: bool, images: usize, epoch: usize, epochs: usize) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(images as u64);
    let style = ProgressStyle::with_template(
        "epoch {prefix} [{bar:30}] {pos}/{len} {per_sec} ETA {eta} {msg}",
    )
    .expect("the template is valid")
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(format!("{epoch}/{epochs}"));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_stats_follow_pytorch() {
        let arch = Architecture::with_widths([1, 1, 1, 1, 1, 1]);
        let mut w = init_weights(&arch, 1);
        let mut stats = BatchStats::zeros(&arch.widths);
        stats.mean[0][0] = 2.0;
        stats.var[0][0] = 3.0;
        stats.var[5][0] = 3.0;
        update_running_stats(&mut w, &stats, 2);
        assert!((w.running_mean[0][0] - 0.2).abs() < 1e-7);
        // Layer 0: k = 2 * 32 * 32 = 2048; layer 5: k = 2 * 8 * 8 = 128.
        assert!((f64::from(w.running_var[0][0]) - (0.9 + 0.3 * 2048.0 / 2047.0)).abs() < 1e-6);
        assert!((f64::from(w.running_var[5][0]) - (0.9 + 0.3 * 128.0 / 127.0)).abs() < 1e-6);
    }

    #[test]
    fn a_lone_leftover_image_is_skipped() {
        assert_eq!(steps_per_epoch(256, 128), 2);
        assert_eq!(steps_per_epoch(257, 128), 2);
        assert_eq!(steps_per_epoch(258, 128), 3);
        assert_eq!(steps_per_epoch(1, 128), 0);
    }
}
