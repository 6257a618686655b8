//! Eval-mode accuracy of a model over a labelled set of u8 images.

use crate::arch::IMAGE_VALUES;
use crate::backend::TrainBackend;
use crate::error::{check_len, Result};
use crate::inference::{argmax_rows, Normalizer};
use crate::weights::Weights;

/// Images per eval-mode batch (eval mode is batch-independent, so this changes only speed).
pub const EVAL_BATCH: usize = 500;

/// The confidence the paper counts: "classified with confidence >= 0.99".
pub const HIGH_CONFIDENCE: f64 = 0.99;

/// What an eval-mode pass over a labelled set gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Fraction of images whose arg-max logit is the label.
    pub accuracy: f64,
    /// Fraction of images whose predicted class has softmax probability >= [`HIGH_CONFIDENCE`]
    /// (computed in f64 from the logits).
    pub confident_share: f64,
}

/// Fraction of `images` whose arg-max logit is the label, in eval mode.
///
/// # Shapes
/// `images`: u8 `[n, 3, 32, 32]`; `labels`: `[n]`.
pub fn accuracy(
    backend: &mut dyn TrainBackend,
    weights: &Weights,
    normalizer: &Normalizer,
    images: &[u8],
    labels: &[u8],
) -> Result<f64> {
    Ok(evaluate(backend, weights, normalizer, images, labels)?.accuracy)
}

/// Accuracy and the share of confident predictions of `images`, in eval mode.
///
/// # Shapes
/// `images`: u8 `[n, 3, 32, 32]`; `labels`: `[n]`.
pub fn evaluate(
    backend: &mut dyn TrainBackend,
    weights: &Weights,
    normalizer: &Normalizer,
    images: &[u8],
    labels: &[u8],
) -> Result<Evaluation> {
    let n = labels.len();
    check_len("images", images.len(), n * IMAGE_VALUES, || {
        format!("[{n}, 3, 32, 32]")
    })?;
    if n == 0 {
        return Ok(Evaluation {
            accuracy: 0.0,
            confident_share: 0.0,
        });
    }
    let classes = weights.arch.classes;
    let mut input = vec![0.0f32; EVAL_BATCH.min(n) * IMAGE_VALUES];
    let mut logits = vec![0.0f32; EVAL_BATCH.min(n) * classes];
    let mut correct = 0usize;
    let mut confident = 0usize;
    for start in (0..n).step_by(EVAL_BATCH) {
        let m = EVAL_BATCH.min(n - start);
        let x = &mut input[..m * IMAGE_VALUES];
        normalizer.nchw_u8_to_nhwc(&images[start * IMAGE_VALUES..(start + m) * IMAGE_VALUES], x)?;
        let out = &mut logits[..m * classes];
        backend.eval_logits(weights, x, out)?;
        correct += argmax_rows(out, classes)
            .iter()
            .zip(&labels[start..start + m])
            .filter(|(&p, &l)| p == usize::from(l))
            .count();
        confident += out
            .chunks_exact(classes)
            .filter(|row| max_probability(row) >= HIGH_CONFIDENCE)
            .count();
    }
    Ok(Evaluation {
        accuracy: correct as f64 / n as f64,
        confident_share: confident as f64 / n as f64,
    })
}

/// The largest softmax probability of a row of logits, in f64: `1 / sum_j exp(z_j - max)`.
fn max_probability(logits: &[f32]) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = logits
        .iter()
        .map(|&z| (f64::from(z) - f64::from(max)).exp())
        .sum();
    1.0 / sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_probability_of_known_logits() {
        assert!((max_probability(&[0.0, 0.0]) - 0.5).abs() < 1e-15);
        // ln(99) margin over one other class: exactly 0.99.
        let z = 99f64.ln() as f32;
        assert!((max_probability(&[z, 0.0]) - 0.99).abs() < 1e-7);
        assert_eq!(max_probability(&[40.0, 0.0, 0.0]), 1.0);
    }
}
