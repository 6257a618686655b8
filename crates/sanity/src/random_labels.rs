//! Data randomisation: the same network trained on training images with permuted labels.
//!
//! The training is `sal-model`'s loop ([`fit`]) with the `[train]` optimiser, learning-rate
//! schedule, weight decay, dropout and batch size, but no augmentation, no early stopping and
//! the weights of the **last** epoch kept (validation accuracy is chance, so it cannot pick an
//! epoch). `[sanity] random_labels_optimizer`, `_learning_rate`, `_dropout` and
//! `_weight_decay` replace the recipe's values when set. The labels of the first
//! `random_labels_images` training images are shuffled among themselves (so the class frequencies stay) by a ChaCha8 generator of `[sanity] seed`, and
//! the weights start from `init_weights` of that seed. The "validation" set of the loop is
//! those same images with their permuted labels, so the log's validation accuracy is how far
//! the model memorises them (eval mode). A checkpoint after each epoch lets a killed stage
//! resume, ending with the same weights.

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

use crate::error::Result;

/// The checkpoint's file name in the stage's output folder (deleted when the stage ends).
pub const CHECKPOINT_FILE: &str = "random_labels.checkpoint.safetensors";

/// The stream of the label permutation (ChaCha8 of the seed, switched to this stream).
const PERMUTATION_STREAM: u64 = 1;

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
}

/// The `[train]` settings the random-label run uses (see the module documentation).
pub fn train_config(train: &TrainConfig, sanity: &SanityConfig) -> TrainConfig {
    TrainConfig {
        seed: sanity.seed,
        epochs: sanity.random_labels_epochs,
        patience: 0,
        crop_padding: 0,
        horizontal_flip: false,
        max_train_images: None,
        warmup_epochs: train.warmup_epochs.min(sanity.random_labels_epochs as f64),
        optimizer: sanity.random_labels_optimizer.unwrap_or(train.optimizer),
        learning_rate: sanity
            .random_labels_learning_rate
            .unwrap_or(train.learning_rate),
        dropout: sanity.random_labels_dropout.unwrap_or(train.dropout),
        weight_decay: sanity
            .random_labels_weight_decay
            .unwrap_or(train.weight_decay),
        ..train.clone()
    }
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

/// Trains (or resumes) the random-label model; `dir` holds the checkpoint.
pub fn train(
    train: &TrainConfig,
    sanity: &SanityConfig,
    dataset: &Dataset,
    data_key: &str,
    dir: &Path,
    progress: bool,
) -> Result<RandomLabels> {
    let n = sanity.random_labels_images.min(dataset.train.len());
    let tc = train_config(train, sanity);
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
    let (mut backend, backend_name) = make_backend(&tc)?;
    let identity = RunIdentity {
        config: json!({"train": serde_json::to_value(&tc).expect("JSON"), "images": n, "purpose": "random_labels"}),
        data_key: data_key.to_owned(),
        backend: backend_name.to_owned(),
    };
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
        "random labels: training on {n} images with permuted labels for {} epochs",
        tc.epochs
    );
    let mut save = |s: &FitState| checkpoint::save(&checkpoint_path, &identity, s);
    let mut options = FitOptions {
        progress,
        stop_after_epoch: None,
        on_epoch: &mut save,
    };
    let state = fit(backend.as_mut(), &tc, &data, state, &mut options)?;
    Ok(RandomLabels {
        weights: state.weights,
        log: state.log,
        images: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sal_config::train::OptimizerKind;

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

    #[test]
    fn the_run_keeps_the_optimiser_and_drops_augmentation_and_early_stopping() {
        let train = TrainConfig::default();
        let sanity = SanityConfig {
            random_labels_epochs: 7,
            ..SanityConfig::default()
        };
        let tc = train_config(&train, &sanity);
        assert_eq!(
            (tc.epochs, tc.patience, tc.crop_padding, tc.horizontal_flip),
            (7, 0, 0, false)
        );
        assert_eq!(tc.learning_rate, train.learning_rate);
        assert_eq!(tc.optimizer, train.optimizer);
        assert_eq!(tc.seed, sanity.seed);
    }

    #[test]
    fn the_sanity_keys_replace_the_recipe_and_only_those_values() {
        let train = TrainConfig::default();
        let sanity = SanityConfig {
            random_labels_optimizer: Some(OptimizerKind::Adam),
            random_labels_learning_rate: Some(1e-3),
            random_labels_dropout: Some(0.0),
            random_labels_weight_decay: Some(0.0),
            ..SanityConfig::default()
        };
        let tc = train_config(&train, &sanity);
        assert_eq!(tc.optimizer, OptimizerKind::Adam);
        assert_eq!(
            (tc.learning_rate, tc.dropout, tc.weight_decay),
            (1e-3, 0.0, 0.0)
        );
        assert_eq!(
            (tc.batch_size, tc.schedule, tc.momentum),
            (train.batch_size, train.schedule, train.momentum)
        );
        assert_ne!(
            train.optimizer,
            OptimizerKind::Adam,
            "the test must change something"
        );
    }
}
