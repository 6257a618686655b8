//! The classifier: a bias-free linear layer over flattened features, its transpose, and the
//! permutation between the NCHW flatten order of the weights and the NHWC order of the fast
//! activations.
//!
//! The products are written out as per-image dot products in a fixed order (the layer is
//! 0.05 % of the network's work), so an image's logits never depend on its batch.

use rayon::prelude::*;

use crate::error::{check_len, Result};
use crate::fast::matmul::{matmul, Layout};

/// Index in NCHW flatten order (c * side^2 + h * side + w) of the NHWC feature
/// `(h * side + w) * channels + c`.
pub fn nchw_feature_index(nhwc_index: usize, channels: usize, side: usize) -> usize {
    let (p, c) = (nhwc_index / channels, nhwc_index % channels);
    c * side * side + p
}

/// Permutes rows of features from NCHW flatten order to NHWC order.
///
/// # Shapes
/// `src`: `[n, channels * side * side]` NCHW-flattened; `dst`: same shape, NHWC-flattened.
pub fn nchw_to_nhwc_features(src: &[f32], channels: usize, side: usize, dst: &mut [f32]) {
    let f = channels * side * side;
    for (s, d) in src.chunks_exact(f).zip(dst.chunks_exact_mut(f)) {
        for (j, v) in d.iter_mut().enumerate() {
            *v = s[nchw_feature_index(j, channels, side)];
        }
    }
}

/// Permutes rows of features from NHWC order to NCHW flatten order.
///
/// # Shapes
/// `src`: `[n, channels * side * side]` NHWC-flattened; `dst`: same shape, NCHW-flattened.
pub fn nhwc_to_nchw_features(src: &[f32], channels: usize, side: usize, dst: &mut [f32]) {
    let f = channels * side * side;
    for (s, d) in src.chunks_exact(f).zip(dst.chunks_exact_mut(f)) {
        for (j, v) in s.iter().enumerate() {
            d[nchw_feature_index(j, channels, side)] = *v;
        }
    }
}

/// Dot product with 8 independent f32 accumulators (vectorises; fixed order).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// A bias-free linear layer `out = x W^T`.
#[derive(Debug, Clone)]
pub struct Linear {
    outputs: usize,
    inputs: usize,
    /// `[outputs, inputs]`, row-major.
    weights: Vec<f32>,
}

impl Linear {
    /// A layer from a row-major weight matrix (its columns in the order of the inputs the
    /// layer will be given).
    ///
    /// # Shapes
    /// `weights`: `[outputs, inputs]`.
    pub fn new(outputs: usize, inputs: usize, weights: Vec<f32>) -> Result<Self> {
        check_len("linear weights", weights.len(), outputs * inputs, || {
            format!("[{outputs}, {inputs}]")
        })?;
        Ok(Linear {
            outputs,
            inputs,
            weights,
        })
    }

    /// The classifier reading NHWC features, from the model's classifier weight (columns in
    /// NCHW flatten order, as `model.safetensors` stores them): the columns are permuted once.
    ///
    /// # Shapes
    /// `weights`: `[classes, channels * side * side]`, columns c * side^2 + h * side + w.
    pub fn from_nchw_classifier(
        classes: usize,
        channels: usize,
        side: usize,
        weights: &[f32],
    ) -> Result<Self> {
        let f = channels * side * side;
        check_len("classifier weights", weights.len(), classes * f, || {
            format!("[{classes}, {f}]")
        })?;
        let mut w = vec![0.0; weights.len()];
        nchw_to_nhwc_features(weights, channels, side, &mut w);
        Linear::new(classes, f, w)
    }

    /// Output features (classes).
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Input features.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// The weight matrix, columns in the layer's input order.
    ///
    /// # Shapes
    /// `[outputs, inputs]`.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// The same layer with `f` applied to every weight (e.g. the positive part for deep
    /// Taylor's z+ rule).
    pub fn map_weights(&self, f: impl Fn(f32) -> f32) -> Linear {
        Linear {
            outputs: self.outputs,
            inputs: self.inputs,
            weights: self.weights.iter().map(|&w| f(w)).collect(),
        }
    }

    fn batch(&self, x_len: usize, out_len: usize) -> Result<usize> {
        let n = x_len / self.inputs.max(1);
        check_len("linear input", x_len, n * self.inputs, || {
            format!("[n, {}]", self.inputs)
        })?;
        check_len("linear output", out_len, n * self.outputs, || {
            format!("[{n}, {}]", self.outputs)
        })?;
        Ok(n)
    }

    /// `out = x W^T`.
    ///
    /// # Shapes
    /// `x`: `[n, inputs]`; `out`: `[n, outputs]`, overwritten.
    pub fn forward(&self, x: &[f32], out: &mut [f32]) -> Result<()> {
        self.batch(x.len(), out.len())?;
        if self.outputs == 0 || self.inputs == 0 {
            out.fill(0.0);
            return Ok(());
        }
        out.par_chunks_mut(self.outputs)
            .zip(x.par_chunks(self.inputs))
            .for_each(|(o, xi)| {
                for (k, v) in o.iter_mut().enumerate() {
                    *v = dot(&self.weights[k * self.inputs..(k + 1) * self.inputs], xi);
                }
            });
        Ok(())
    }

    /// The transpose: `grad_in = grad_out W` (the gradient with respect to the input).
    ///
    /// # Shapes
    /// `grad_out`: `[n, outputs]`; `grad_in`: `[n, inputs]`, overwritten.
    pub fn backward_input(&self, grad_out: &[f32], grad_in: &mut [f32]) -> Result<()> {
        self.batch(grad_in.len(), grad_out.len())?;
        if self.outputs == 0 || self.inputs == 0 {
            grad_in.fill(0.0);
            return Ok(());
        }
        grad_in
            .par_chunks_mut(self.inputs)
            .zip(grad_out.par_chunks(self.outputs))
            .for_each(|(gi, go)| {
                gi.fill(0.0);
                for (k, &g) in go.iter().enumerate() {
                    if g != 0.0 {
                        for (d, &w) in gi
                            .iter_mut()
                            .zip(&self.weights[k * self.inputs..(k + 1) * self.inputs])
                        {
                            *d += g * w;
                        }
                    }
                }
            });
        Ok(())
    }

    /// The weight gradient `grad_out^T x` (summed over the batch), columns in input order.
    ///
    /// # Shapes
    /// `x`: `[n, inputs]`; `grad_out`: `[n, outputs]`; `grad_weights`: `[outputs, inputs]`,
    /// overwritten.
    pub fn weight_gradient(
        &self,
        x: &[f32],
        grad_out: &[f32],
        grad_weights: &mut [f32],
    ) -> Result<()> {
        let n = self.batch(x.len(), grad_out.len())?;
        check_len(
            "linear weight gradient",
            grad_weights.len(),
            self.weights.len(),
            || format!("[{}, {}]", self.outputs, self.inputs),
        )?;
        matmul(
            self.outputs,
            self.inputs,
            n,
            grad_out,
            Layout::Transposed,
            x,
            Layout::Normal,
            grad_weights,
            false,
            false,
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permuting_the_weights_equals_permuting_the_features() {
        let (classes, c, side) = (3, 5, 2);
        let f = c * side * side;
        let w: Vec<f32> = (0..classes * f).map(|i| (i as f32 * 0.7).sin()).collect();
        let x_nchw: Vec<f32> = (0..2 * f).map(|i| (i as f32 * 1.3).cos()).collect();
        let mut x_nhwc = vec![0.0; x_nchw.len()];
        nchw_to_nhwc_features(&x_nchw, c, side, &mut x_nhwc);
        let mut back = vec![0.0; x_nchw.len()];
        nhwc_to_nchw_features(&x_nhwc, c, side, &mut back);
        assert_eq!(back, x_nchw);
        // NHWC feature (h=1, w=0, c=3) is NCHW feature 3 * 4 + 1 * 2 + 0.
        assert_eq!(x_nhwc[(2 * c) + 3], x_nchw[14]);
        let layer = Linear::from_nchw_classifier(classes, c, side, &w).unwrap();
        let mut out = vec![0.0; 2 * classes];
        layer.forward(&x_nhwc, &mut out).unwrap();
        for i in 0..2 {
            for k in 0..classes {
                let expected: f32 = (0..f).map(|j| w[k * f + j] * x_nchw[i * f + j]).sum();
                assert!((out[i * classes + k] - expected).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn transpose_and_weight_gradient_satisfy_the_adjoint_identity() {
        // <W x, g> = <x, W^T g> and d<W x, g>/dW = g x^T.
        let (o, i, n) = (4, 19, 3);
        let layer =
            Linear::new(o, i, (0..o * i).map(|v| (v as f32 * 0.31).sin()).collect()).unwrap();
        let x: Vec<f32> = (0..n * i).map(|v| (v as f32 * 0.17).cos()).collect();
        let g: Vec<f32> = (0..n * o).map(|v| (v as f32 * 0.53).sin()).collect();
        let mut y = vec![0.0; n * o];
        layer.forward(&x, &mut y).unwrap();
        let mut gx = vec![0.0; n * i];
        layer.backward_input(&g, &mut gx).unwrap();
        let lhs: f32 = y.iter().zip(&g).map(|(a, b)| a * b).sum();
        let rhs: f32 = x.iter().zip(&gx).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-4);
        let mut gw = vec![0.0; o * i];
        layer.weight_gradient(&x, &g, &mut gw).unwrap();
        let via_w: f32 = gw.iter().zip(layer.weights()).map(|(a, b)| a * b).sum();
        assert!((via_w - lhs).abs() < 1e-4);
        assert!(layer.forward(&x[1..], &mut y).is_err());
    }
}
