//! The training loop against a scripted backend: what it feeds a backend (every image once per
//! epoch, normalised NHWC, dropout masks), what it does with the answers (weight decay only on
//! weights, BN running statistics), early stopping keeping the best epoch, and the resume knob.

use sal_config::train::{OptimizerKind, ScheduleKind};
use sal_config::TrainConfig;
use sal_model::train::fit;
use sal_model::train::fit::{steps_per_epoch, FitOptions, FitState, Labelled, TrainData};
use sal_model::{BatchStats, ModelError, Normalizer, StepOutput, TrainBackend, Trainable, Weights};

/// Records what the loop gives it; answers with zero gradients, fixed BN statistics and
/// eval logits that make a scripted fraction of the (all-zero) validation labels right.
struct Scripted {
    val_accuracy: Vec<f64>,
    evals: usize,
    eval_weights: Vec<Weights>,
    batches: Vec<(Vec<f32>, Vec<u8>, Vec<f32>)>,
}

impl TrainBackend for Scripted {
    fn train_step(
        &mut self,
        _weights: &Weights,
        images: &[f32],
        labels: &[u8],
        dropout_mask: &[f32],
        grads: &mut Trainable,
        stats: &mut BatchStats,
    ) -> sal_model::error::Result<StepOutput> {
        self.batches
            .push((images.to_vec(), labels.to_vec(), dropout_mask.to_vec()));
        for (_, g, _) in grads.tensors_mut() {
            g.fill(0.0);
        }
        for l in 0..6 {
            stats.mean[l].fill(1.0);
            stats.var[l].fill(2.0);
        }
        Ok(StepOutput {
            loss: 2.0,
            correct: labels.len() / 2,
        })
    }

    fn eval_logits(
        &mut self,
        weights: &Weights,
        images: &[f32],
        logits: &mut [f32],
    ) -> sal_model::error::Result<()> {
        let n = images.len() / 3072;
        let right = (self.val_accuracy[self.evals] * n as f64).round() as usize;
        for (i, row) in logits.chunks_exact_mut(10).enumerate() {
            row.fill(0.0);
            row[if i < right { 0 } else { 1 }] = 1.0;
        }
        self.evals += 1;
        self.eval_weights.push(weights.clone());
        Ok(())
    }
}

/// `n` images whose red channel at pixel 0 is the image's number (to track them).
fn images(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n * 3072];
    for i in 0..n {
        out[i * 3072] = i as u8;
        out[i * 3072 + 1024 + 5] = 200; // green at pixel 5
    }
    out
}

fn config(epochs: usize, patience: usize) -> TrainConfig {
    TrainConfig {
        widths: [2, 2, 2, 2, 2, 2],
        epochs,
        patience,
        batch_size: 16,
        optimizer: OptimizerKind::Sgd,
        schedule: ScheduleKind::Constant,
        warmup_epochs: 0.0,
        learning_rate: 0.1,
        weight_decay: 0.01,
        dropout: 0.25,
        crop_padding: 0,
        horizontal_flip: false,
        ..TrainConfig::default()
    }
}

#[test]
fn early_stopping_keeps_the_best_epoch_and_the_loop_feeds_the_backend_right() {
    let n = 50;
    let train_images = images(n);
    let train_labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let val_images = images(40);
    let val_labels = vec![0u8; 40];
    let normalizer = Normalizer::new([0.0; 3], [1.0; 3]);
    let data = TrainData {
        train: Labelled {
            images: &train_images,
            labels: &train_labels,
        },
        val: Labelled {
            images: &val_images,
            labels: &val_labels,
        },
        normalizer,
    };
    let config = config(10, 2);
    let mut backend = Scripted {
        val_accuracy: vec![0.3, 0.5, 0.4, 0.45, 0.9],
        evals: 0,
        eval_weights: vec![],
        batches: vec![],
    };
    let mut epochs_seen = Vec::new();
    let mut on_epoch = |s: &FitState| {
        epochs_seen.push(s.epochs_done());
        Ok(())
    };
    let mut options = FitOptions {
        progress: false,
        stop_after_epoch: None,
        on_epoch: &mut on_epoch,
    };
    let start = FitState::new(&config);
    let end = fit(&mut backend, &config, &data, start.clone(), &mut options).unwrap();

    // Epochs 3 and 4 do not beat epoch 2: with patience 2 the run stops after epoch 4.
    assert_eq!(epochs_seen, vec![1, 2, 3, 4]);
    assert!(end.finished);
    assert_eq!(end.best_epoch, 2);
    assert!((end.best_val_accuracy() - 0.5).abs() < 1e-12);
    assert_eq!(end.best, backend.eval_weights[1]);
    assert_ne!(end.best, end.weights);
    let val: Vec<f64> = end.log.iter().map(|e| e.val_accuracy).collect();
    assert_eq!(val, vec![0.3, 0.5, 0.4, 0.45]);
    assert!(end
        .log
        .iter()
        .all(|e| e.train_loss == 2.0 && e.learning_rate == 0.1));

    // 50 images in batches of 16: 3 full batches and one of 2 per epoch, every image once.
    let steps = steps_per_epoch(n, 16);
    assert_eq!(steps, 4);
    assert_eq!(backend.batches.len(), 4 * steps);
    for epoch in backend.batches.chunks(steps) {
        let mut seen: Vec<usize> = Vec::new();
        for (x, labels, mask) in epoch {
            assert_eq!(x.len(), labels.len() * 3072);
            for (k, img) in x.chunks_exact(3072).enumerate() {
                // NHWC and normalised with std 1: red of pixel 0 is value / 255, green of pixel 5.
                let id = (img[0] * 255.0).round() as usize;
                assert_eq!(labels[k], (id % 10) as u8);
                assert!((img[5 * 3 + 1] - 200.0 / 255.0).abs() < 1e-6);
                seen.push(id);
            }
            // Dropout p = 0.25: entries are 0 or 1 / 0.75, about a quarter zero.
            assert_eq!(mask.len(), labels.len() * 2 * 16);
            assert!(mask
                .iter()
                .all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
    }
    let masks: Vec<f32> = backend
        .batches
        .iter()
        .flat_map(|b| b.2.iter().copied())
        .collect();
    let dropped = masks.iter().filter(|&&v| v == 0.0).count() as f64 / masks.len() as f64;
    assert!((dropped - 0.25).abs() < 0.03, "{dropped}");
    // Epochs are shuffled differently.
    assert_ne!(backend.batches[0].1, backend.batches[steps].1);

    // Zero gradients: weight decay shrinks conv and classifier weights, BN affine untouched.
    let (first, last) = (&start.weights, &end.weights);
    assert!(last.params.conv[0]
        .iter()
        .zip(&first.params.conv[0])
        .all(|(a, b)| a.abs() < b.abs() || *b == 0.0));
    assert!(last
        .params
        .classifier
        .iter()
        .zip(&first.params.classifier)
        .all(|(a, b)| a.abs() < b.abs() || *b == 0.0));
    assert_eq!(last.params.bn_weight, first.params.bn_weight);
    assert_eq!(last.params.bn_bias, first.params.bn_bias);
    // Running statistics after 16 updates with momentum 0.1 towards the reported batch
    // statistics (mean 1, var 2 x k / (k - 1)): 1 - 0.9^16 = 0.8147 and 2 - 0.9^16 = 1.8147.
    assert!(
        last.running_mean[0]
            .iter()
            .all(|&m| (m - 0.8147).abs() < 1e-3),
        "{:?}",
        last.running_mean[0]
    );
    assert!(
        last.running_var[3]
            .iter()
            .all(|&v| (v - 1.8147).abs() < 3e-3),
        "{:?}",
        last.running_var[3]
    );
}

#[test]
fn stop_after_epoch_returns_stopped_with_the_state_saved() {
    let train_images = images(20);
    let labels = vec![1u8; 20];
    let data = TrainData {
        train: Labelled {
            images: &train_images,
            labels: &labels,
        },
        val: Labelled {
            images: &train_images,
            labels: &labels,
        },
        normalizer: Normalizer::new([0.0; 3], [1.0; 3]),
    };
    let config = config(3, 0);
    let mut backend = Scripted {
        val_accuracy: vec![0.1; 3],
        evals: 0,
        eval_weights: vec![],
        batches: vec![],
    };
    let mut saved = None;
    let mut on_epoch = |s: &FitState| {
        saved = Some(s.clone());
        Ok(())
    };
    let mut options = FitOptions {
        progress: false,
        stop_after_epoch: Some(2),
        on_epoch: &mut on_epoch,
    };
    let err = fit(
        &mut backend,
        &config,
        &data,
        FitState::new(&config),
        &mut options,
    )
    .unwrap_err();
    assert!(matches!(err, ModelError::Stopped { epoch: 2 }));
    let saved = saved.unwrap();
    assert_eq!(saved.epochs_done(), 2);
    assert!(!saved.finished);
    assert_eq!(saved.optimizer.steps(), 2 * steps_per_epoch(20, 16) as u64);
}
