//! Eval-mode accuracy of a model over a labelled set of u8 images.

use crate::arch::IMAGE_VALUES;
use crate::backend::TrainBackend;
use crate::error::{check_len, Result};
use crate::inference::{argmax_rows, Normalizer};
use crate::weights::Weights;

/// Images per eval-mode batch (eval mode is batch-independent, so this changes only speed).
pub const EVAL_BATCH: usize = 500;

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
    let n = labels.len();
    check_len("images", images.len(), n * IMAGE_VALUES, || {
        format!("[{n}, 3, 32, 32]")
    })?;
    if n == 0 {
        return Ok(0.0);
    }
    let classes = weights.arch.classes;
    let mut input = vec![0.0f32; EVAL_BATCH.min(n) * IMAGE_VALUES];
    let mut logits = vec![0.0f32; EVAL_BATCH.min(n) * classes];
    let mut correct = 0usize;
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
    }
    Ok(correct as f64 / n as f64)
}
