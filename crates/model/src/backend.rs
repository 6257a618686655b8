//! The boundary between the training loop and the code that computes a step.
//!
//! The loop (shuffling, augmentation, dropout masks, optimiser, BN running statistics, early
//! stopping, checkpoints) is written once; a backend only computes forward and backward. Two
//! backends implement it: the fast CPU kernels (the default, tested path) and the candle model
//! (reference implementation, and the path to CUDA / Metal). Because the loop draws every
//! random number itself, both backends see identical inputs.

use crate::arch::CONV_LAYERS;
use crate::error::Result;
use crate::weights::{Trainable, Weights};

/// Per-layer statistics of the BN inputs over one training batch (over n x h x w positions).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchStats {
    /// Batch mean per channel, per conv layer.
    pub mean: [Vec<f32>; CONV_LAYERS],
    /// Biased batch variance per channel, per conv layer (the one BN normalises with).
    pub var: [Vec<f32>; CONV_LAYERS],
}

impl BatchStats {
    /// Zeros shaped for the architecture's widths.
    pub fn zeros(widths: &[usize; CONV_LAYERS]) -> Self {
        BatchStats {
            mean: std::array::from_fn(|l| vec![0.0; widths[l]]),
            var: std::array::from_fn(|l| vec![0.0; widths[l]]),
        }
    }
}

/// What one training step reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOutput {
    /// Mean cross-entropy loss over the batch.
    pub loss: f64,
    /// Images of the batch whose arg-max logit is the label.
    pub correct: usize,
}

/// Computes training steps and eval-mode logits for [`Weights`].
pub trait TrainBackend {
    /// Forward in training mode (BN with batch statistics, dropout by `dropout_mask`) and
    /// backward of the mean cross-entropy loss.
    ///
    /// # Shapes
    /// `images`: `[n, 32, 32, 3]` normalised NHWC (already augmented); `labels`: `[n]`;
    /// `dropout_mask`: `[n, flat_features]` in NCHW flatten order (c * 16 + h * 4 + w), each
    /// entry 0 or 1/(1-p) (all ones for no dropout), multiplied into the flattened features;
    /// `grads`: overwritten with d loss / d parameter (no weight decay: the loop adds it);
    /// `stats`: overwritten with the batch mean and biased variance of every BN layer's input.
    fn train_step(
        &mut self,
        weights: &Weights,
        images: &[f32],
        labels: &[u8],
        dropout_mask: &[f32],
        grads: &mut Trainable,
        stats: &mut BatchStats,
    ) -> Result<StepOutput>;

    /// Eval-mode logits (BN with running statistics, no dropout).
    ///
    /// # Shapes
    /// `images`: `[n, 32, 32, 3]` normalised NHWC; `logits`: `[n, classes]`, overwritten.
    fn eval_logits(&mut self, weights: &Weights, images: &[f32], logits: &mut [f32]) -> Result<()>;
}
