//! Data randomisation: the same network trained on training images with permuted labels.
//!
//! The training is `sal-model`'s loop ([`fit`]) with the `[train]` optimiser, learning-rate
//! schedule, weight decay, dropout and batch size, but no augmentation, no early stopping and
//! the weights of the **last** epoch kept (validation accuracy is chance, so it cannot pick an
//! epoch). `[sanity] random_labels_optimizer`, `_learning_rate`, `_dropout` and
//! `_weight_decay` replace the recipe's values when set
//! ([`SanityConfig::random_labels_train`]). The labels of the first `random_labels_images`
//! training images are shuffled among themselves (so the class frequencies stay) by a ChaCha8
//! generator of `[sanity] seed`, and the weights start from `init_weights` of that seed. The
//! "validation" set of the loop is those same images with their permuted labels, so the log's
//! validation accuracy is how far the model memorises them (eval mode).
//!
//! The model is cached on its own, in a folder of its own ([`obtain`]): a finished
//! [`MODEL_FILE`] there is reused if it was trained for this run (same recipe, images,
//! dataset and backend; anything else is an error, never a silent retrain over it);
//! otherwise the model is trained there, with a checkpoint after each epoch so a killed run
//! resumes, ending with the same weights, and [`MODEL_FILE`] is written last, atomically.
//! Everything that determines the model is in this file and in the `[train]`, `[sanity]`
//! fields [`SanityConfig::random_labels_train`] reads: `xtask` keys the folder with exactly
//! those (and this file's source).

use std::path::Path;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sal_artifact::Dataset;
use sal_config::{SanityConfig, TrainConfig};
use sal_model::train::checkpoint::{self, RunIdentity};
use sal_model::train::{fit, make_backend, EpochLog, FitOptions, FitState, Labelled, TrainData};
use sal_model::{Normalizer, Weights};
use serde_json::json;

use crate::error::{Result, SanityError};

/// The finished random-label model in its folder: the final training state (weights, log,
/// optimiser) in the checkpoint format (`train_checkpoint/1`, `finished: true`), written last
/// and atomically, so its presence means the training is complete.
pub const MODEL_FILE: &str = "random_labels.safetensors";

/// The checkpoint after each epoch, beside where [`MODEL_FILE`] will be (deleted once that is
/// written).
pub const CHECKPOINT_FILE: &str = "random_labels.checkpoint.safetensors";

/// The stream of the label permutation (ChaCha8 of the seed, switched to this stream).
const PERMUTATION_STREAM: u64 = 1;

/// Where the random-label model came from in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A finished [`MODEL_FILE`] of this run's identity was in the folder: no training.
    Cached,
    /// Trained in this run (from scratch or resumed from a checkpoint).
    Trained,
}

impl Origin {
    /// `cached` or `trained`.
    pub fn name(self) -> &'static str {
        match self {
            Origin::Cached => "cached",
            Origin::Trained => "trained",
        }
    }
}

/// The random-label model and its training log.
#[derive(Debug, Clone)]
pub struct RandomLabels {
    /// The weights after the last epoch.
    pub weights: Weights,
    /// One entry per epoch; `val_accuracy` is the eval-mode accuracy on the training images
    /// with their permuted labels.
    pub log: Vec<EpochLog>,
    /// Training images used.
    pub images: usize,
    /// Reused or trained.
    pub origin: Origin,
}

/// The permuted labels of the first `n` training labels.
///
/// # Shapes
/// `labels`: `[>= n]`; returns `[n]`.
pub fn permuted_labels(labels: &[u8], n: usize, seed: u64) -> Vec<u8> {
    let mut out = labels[..n].to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(PERMUTATION_STREAM);
    out.shuffle(&mut rng);
    out
}

/// The random-label model of this run: [`MODEL_FILE`] in `dir` when it is there (it must be
/// a finished model of this run's identity, or this fails naming it), else trained in `dir`
/// (resuming from [`CHECKPOINT_FILE`] if an interrupted run left one) and saved there.
pub fn obtain(
    train: &TrainConfig,
    sanity: &SanityConfig,
    dataset: &Dataset,
    data_key: &str,
    dir: &Path,
    progress: bool,
) -> Result<RandomLabels> {
    let n = sanity.random_labels_images.min(dataset.train.len());
    let tc = sanity.random_labels_train(train);
    let (mut backend, backend_name) = make_backend(&tc)?;
    let identity = RunIdentity {
        config: json!({"train": serde_json::to_value(&tc).expect("JSON"), "images": n, "purpose": "random_labels"}),
        data_key: data_key.to_owned(),
        backend: backend_name.to_owned(),
    };
    let model_path = dir.join(MODEL_FILE);
    if model_path.exists() {
        return match checkpoint::load(&model_path, &identity, &tc)? {
            Some(state) if state.finished && state.epochs_done() == tc.epochs => {
                tracing::info!(
                    "random labels: cached: reusing {} ({n} images, {} epochs; nothing trained)",
                    model_path.display(),
                    state.epochs_done()
                );
                Ok(RandomLabels {
                    weights: state.weights,
                    log: state.log,
                    images: n,
                    origin: Origin::Cached,
                })
            }
            _ => Err(SanityError::BadInput {
                path: model_path,
                message: format!(
                    "not a finished random-label model of this run ({n} images, {} epochs, this dataset and backend; a warning above may say what differs): delete it to train again",
                    tc.epochs
                ),
            }),
        };
    }

    let labels = permuted_labels(&dataset.train.labels, n, sanity.seed);
    let images = &dataset.train.images[..n * sal_model::arch::IMAGE_VALUES];
    let data = TrainData {
        train: Labelled {
            images,
            labels: &labels,
        },
        val: Labelled {
            images,
            labels: &labels,
        },
        normalizer: Normalizer::new(dataset.channel_mean, dataset.channel_std),
    };
    fs_err::create_dir_all(dir)?;
    let checkpoint_path = dir.join(CHECKPOINT_FILE);
    let state = match checkpoint::load(&checkpoint_path, &identity, &tc)? {
        Some(state) => {
            tracing::info!(
                "random labels: resuming from {} after epoch {}",
                checkpoint_path.display(),
                state.epochs_done()
            );
            state
        }
        None => FitState::new(&tc),
    };
    tracing::info!(
        "random labels: training on {n} images with permuted labels for {} epochs in {}",
        tc.epochs,
        dir.display()
    );
    let mut save = |s: &FitState| checkpoint::save(&checkpoint_path, &identity, s);
    let mut options = FitOptions {
        progress,
        stop_after_epoch: None,
        on_epoch: &mut save,
    };
    let state = fit(backend.as_mut(), &tc, &data, state, &mut options)?;
    // Written last and atomically (temporary file, then rename): the file exists only whole,
    // and only once every epoch ran.
    checkpoint::save(&model_path, &identity, &state)?;
    if checkpoint_path.exists() {
        fs_err::remove_file(&checkpoint_path)?;
    }
    tracing::info!(
        "random labels: trained {} epochs; saved {}",
        state.epochs_done(),
        model_path.display()
    );
    Ok(RandomLabels {
        weights: state.weights,
        log: state.log,
        images: n,
        origin: Origin::Trained,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_a_seeded_permutation() {
        let labels: Vec<u8> = (0..100).map(|i| (i % 10) as u8).collect();
        let a = permuted_labels(&labels, 50, 5);
        assert_eq!(a, permuted_labels(&labels, 50, 5));
        assert_ne!(a, permuted_labels(&labels, 50, 6));
        assert_ne!(a, labels[..50]);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        let mut expected = labels[..50].to_vec();
        expected.sort_unstable();
        assert_eq!(sorted, expected);
    }
}
