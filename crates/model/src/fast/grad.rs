//! The input gradient in eval mode ([`InputGradient`] for [`FastNet`]): a forward that keeps
//! only what the backward needs (each layer's ReLU output and the pool arg-max indices), then a
//! backward that computes input gradients only, with the ReLU masks fused into the epilogue of
//! the transposed convs.

use crate::arch::{Architecture, CONV_LAYERS, IMAGE_VALUES};
use crate::error::{check_len, ModelError, Result};
use crate::fast::at_least;
use crate::fast::net::{shift_relu, Buffers, FastNet};
use crate::fast::pool::{max_pool_map, unpool_map};
use crate::inference::InputGradient;

/// `rows *= (mask > 0)`, elementwise (the ReLU derivative, 0 at 0).
///
/// # Shapes
/// `rows` and `mask` have the same length.
pub(crate) fn relu_mask(rows: &mut [f32], mask: &[f32]) {
    for (g, &m) in rows.iter_mut().zip(mask) {
        if m <= 0.0 {
            *g = 0.0;
        }
    }
}

impl FastNet {
    /// Logits and input gradients of `logits[i, classes[i]]` for at most one chunk.
    ///
    /// # Shapes
    /// `images`, `gradients`: `[n, 32, 32, 3]`; `classes`: `[n]`; `logits`: `[n, classes]`.
    fn gradient_chunk(
        &mut self,
        images: &[f32],
        classes: &[usize],
        logits: &mut [f32],
        gradients: &mut [f32],
    ) -> Result<()> {
        let n = images.len() / IMAGE_VALUES;
        let arch = self.arch;
        let Buffers {
            relu,
            pooled,
            argmaxes,
            grad_a,
            grad_b,
            ..
        } = &mut self.buffers;
        // Forward, keeping every ReLU output and pool.
        for l in 0..CONV_LAYERS {
            let (side, c) = (arch.spatial(l), arch.widths[l]);
            let len = n * side * side * c;
            let in_len = n * side * side * arch.in_channels(l);
            let (done, rest) = relu.split_at_mut(l);
            let input: &[f32] = if l == 0 {
                images
            } else if Architecture::pool_after(l - 1) {
                &pooled[l - 1][..in_len]
            } else {
                &done[l - 1][..in_len]
            };
            let shift = &self.shift[l];
            let out = at_least(&mut rest[0], len);
            self.folded[l].forward_with(input, out, &mut [], 0, &|_, rows, _| {
                shift_relu(rows, shift)
            })?;
            if Architecture::pool_after(l) {
                let half = side / 2;
                let p = at_least(&mut pooled[l], n * half * half * c);
                let arg = at_least(&mut argmaxes[l], n * half * half * c);
                max_pool_map(&relu[l][..len], side, c, p, arg, &|_, v| v);
            }
        }
        let features = self.linear.inputs();
        let last = CONV_LAYERS - 1;
        self.linear.forward(&pooled[last][..n * features], logits)?;

        // Backward: the gradient of logit[i, classes[i]] w.r.t. the features is that class's
        // classifier row.
        let g = at_least(grad_a, n * features);
        for (row, &class) in g.chunks_exact_mut(features).zip(classes) {
            row.copy_from_slice(&self.linear.weights()[class * features..(class + 1) * features]);
        }
        let (mut g, mut other) = (grad_a, grad_b);
        for l in (0..CONV_LAYERS).rev() {
            let (side, c, cin) = (arch.spatial(l), arch.widths[l], arch.in_channels(l));
            let len = n * side * side * c;
            if Architecture::pool_after(l) {
                // Gradient w.r.t. the pool output -> w.r.t. the BN output (ReLU derivative at
                // the arg-max element).
                let r = &relu[l][..len];
                let half = side / 2;
                let dy = at_least(other, len);
                unpool_map(
                    &g[..n * half * half * c],
                    &argmaxes[l][..n * half * half * c],
                    side,
                    c,
                    dy,
                    &|i, _, v| {
                        if r[i] > 0.0 {
                            v
                        } else {
                            0.0
                        }
                    },
                );
                std::mem::swap(&mut g, &mut other);
            }
            // g holds d logit / d (BN output) of layer l; the transposed folded conv gives the
            // gradient w.r.t. its input, masked by the ReLU of layer l - 1 when no pool sits
            // between them.
            let in_len = n * side * side * cin;
            let dst: &mut [f32] = if l == 0 {
                &mut *gradients
            } else {
                at_least(other, in_len)
            };
            let mask: Option<&[f32]> =
                (l > 0 && !Architecture::pool_after(l - 1)).then(|| &relu[l - 1][..in_len]);
            self.folded[l].backward_input_with(&g[..len], dst, &|first, rows, _| {
                if let Some(mask) = mask {
                    relu_mask(rows, &mask[first * cin..first * cin + rows.len()]);
                }
            })?;
            std::mem::swap(&mut g, &mut other);
        }
        Ok(())
    }
}

impl InputGradient for FastNet {
    fn logits_and_input_gradients(
        &mut self,
        images: &[f32],
        classes: &[usize],
        logits: &mut [f32],
        gradients: &mut [f32],
    ) -> Result<()> {
        let n = Self::batch_of(images)?;
        let k = self.arch.classes;
        check_len("classes", classes.len(), n, || format!("[{n}]"))?;
        check_len("logits", logits.len(), n * k, || format!("[{n}, {k}]"))?;
        check_len("input gradients", gradients.len(), n * IMAGE_VALUES, || {
            format!("[{n}, 32, 32, 3]")
        })?;
        if let Some(&class) = classes.iter().find(|&&c| c >= k) {
            return Err(ModelError::BadClass { class, classes: k });
        }
        if images.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                what: "input images".to_owned(),
            });
        }
        let chunk = self.chunk;
        for (((x, cls), out), grad) in images
            .chunks(chunk * IMAGE_VALUES)
            .zip(classes.chunks(chunk))
            .zip(logits.chunks_mut(chunk * k))
            .zip(gradients.chunks_mut(chunk * IMAGE_VALUES))
        {
            self.gradient_chunk(x, cls, out, grad)?;
        }
        Ok(())
    }
}
