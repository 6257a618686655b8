//! The inference API that attribution and metrics use.
//!
//! Images given to a model are **normalised f32 in NHWC order**: `[n, 32, 32, 3]`, value
//! `(pixel / 255 - channel_mean) / channel_std`. NHWC keeps a pixel's three channels together,
//! which is what both the fast conv kernels and the pixel perturbations want.

use crate::arch::{IMAGE_SIZE, IMAGE_VALUES, IN_CHANNELS, PIXELS};
use crate::error::{check_len, Result};

/// A batched image classifier.
pub trait Classifier {
    /// Number of output classes.
    fn num_classes(&self) -> usize;

    /// Pre-softmax logits of a batch.
    ///
    /// # Shapes
    /// `images`: `[n, 32, 32, 3]` normalised NHWC, n = `images.len() / 3072`;
    /// `logits`: `[n, num_classes]`, overwritten.
    fn logits(&mut self, images: &[f32], logits: &mut [f32]) -> Result<()>;

    /// Softmax probabilities of a batch (computed in f64 from the logits, stored as f32).
    ///
    /// # Shapes
    /// `images`: `[n, 32, 32, 3]`; `probabilities`: `[n, num_classes]`, overwritten.
    fn probabilities(&mut self, images: &[f32], probabilities: &mut [f32]) -> Result<()> {
        self.logits(images, probabilities)?;
        softmax_rows(probabilities, self.num_classes());
        Ok(())
    }
}

/// A classifier that also gives the gradient of one logit per image with respect to its input.
pub trait InputGradient: Classifier {
    /// Logits, and for each image `i` the gradient of `logits[i, classes[i]]` with respect to
    /// `images[i]`, in eval mode.
    ///
    /// # Shapes
    /// `images`: `[n, 32, 32, 3]` normalised NHWC; `classes`: `[n]`; `logits`: `[n, num_classes]`;
    /// `gradients`: `[n, 32, 32, 3]`, overwritten.
    fn logits_and_input_gradients(
        &mut self,
        images: &[f32],
        classes: &[usize],
        logits: &mut [f32],
        gradients: &mut [f32],
    ) -> Result<()>;
}

/// In-place softmax of each row of a row-major `[rows, classes]` buffer (max-subtracted, f64
/// accumulation).
pub fn softmax_rows(values: &mut [f32], classes: usize) {
    for row in values.chunks_exact_mut(classes) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0f64;
        for v in row.iter() {
            sum += f64::from(*v - max).exp();
        }
        for v in row.iter_mut() {
            *v = (f64::from(*v - max).exp() / sum) as f32;
        }
    }
}

/// Index of the largest value of each row (the first one on ties).
pub fn argmax_rows(values: &[f32], classes: usize) -> Vec<usize> {
    values
        .chunks_exact(classes)
        .map(|row| {
            let mut best = 0;
            for (i, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = i;
                }
            }
            best
        })
        .collect()
}

/// Turns u8 pixels into the model's normalised input, and back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalizer {
    /// Channel means on a 0..1 scale (of the training split).
    pub mean: [f32; 3],
    /// Channel standard deviations on a 0..1 scale.
    pub std: [f32; 3],
}

impl Normalizer {
    /// A normaliser from the dataset's `channel_mean` and `channel_std`.
    pub fn new(mean: [f32; 3], std: [f32; 3]) -> Self {
        Normalizer { mean, std }
    }

    /// The normalised value of pixel value `v` in channel `c`: `(v / 255 - mean[c]) / std[c]`.
    pub fn value(&self, c: usize, v: u8) -> f32 {
        (f32::from(v) / 255.0 - self.mean[c]) / self.std[c]
    }

    /// Normalised value of pixel value 0 and 255 per channel (the input domain's bounds).
    pub fn bounds(&self) -> ([f32; 3], [f32; 3]) {
        (
            std::array::from_fn(|c| self.value(c, 0)),
            std::array::from_fn(|c| self.value(c, 255)),
        )
    }

    /// Converts u8 NCHW images (the dataset layout) into normalised NHWC f32.
    ///
    /// # Shapes
    /// `images`: `[n, 3, 32, 32]` u8; `out`: `[n, 32, 32, 3]` f32, overwritten.
    pub fn nchw_u8_to_nhwc(&self, images: &[u8], out: &mut [f32]) -> Result<()> {
        check_len("u8 images", images.len() % IMAGE_VALUES, 0, || {
            "[n, 3, 32, 32]".to_owned()
        })?;
        check_len("normalised images", out.len(), images.len(), || {
            "[n, 32, 32, 3]".to_owned()
        })?;
        let lut: [[f32; 256]; 3] =
            std::array::from_fn(|c| std::array::from_fn(|v| self.value(c, v as u8)));
        for (src, dst) in images
            .chunks_exact(IMAGE_VALUES)
            .zip(out.chunks_exact_mut(IMAGE_VALUES))
        {
            for p in 0..PIXELS {
                for c in 0..IN_CHANNELS {
                    dst[p * IN_CHANNELS + c] = lut[c][usize::from(src[c * PIXELS + p])];
                }
            }
        }
        Ok(())
    }

    /// Converts normalised NHWC f32 back to 0..1 NCHW values (for figures and the Sobel map).
    ///
    /// # Shapes
    /// `images`: `[n, 32, 32, 3]`; returns `[n, 3, 32, 32]`.
    pub fn nhwc_to_unit_nchw(&self, images: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; images.len()];
        for (src, dst) in images
            .chunks_exact(IMAGE_VALUES)
            .zip(out.chunks_exact_mut(IMAGE_VALUES))
        {
            for p in 0..PIXELS {
                for c in 0..IN_CHANNELS {
                    dst[c * PIXELS + p] = src[p * IN_CHANNELS + c] * self.std[c] + self.mean[c];
                }
            }
        }
        out
    }
}

/// Row-major pixel index of (row, col).
pub fn pixel_index(row: usize, col: usize) -> usize {
    row * IMAGE_SIZE + col
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nchw_to_nhwc_keeps_rows_columns_and_channels() {
        let norm = Normalizer::new([0.0; 3], [1.0 / 255.0; 3]);
        // A non-symmetric image: value = channel * 100 + (row * 3 + col) % 97 + row / 11.
        let mut img = vec![0u8; IMAGE_VALUES];
        for c in 0..3 {
            for r in 0..32 {
                for col in 0..32 {
                    img[c * PIXELS + r * 32 + col] = (c * 80 + (r * 2 + col * 5) % 77) as u8;
                }
            }
        }
        let mut out = vec![0.0; IMAGE_VALUES];
        norm.nchw_u8_to_nhwc(&img, &mut out).unwrap();
        for (c, r, col) in [(0, 0, 1), (1, 5, 2), (2, 31, 7), (2, 3, 30)] {
            let expected = f32::from(img[c * PIXELS + r * 32 + col]);
            assert!((out[pixel_index(r, col) * 3 + c] - expected).abs() < 1e-3);
        }
        let back = norm.nhwc_to_unit_nchw(&out);
        assert!(
            (back[2 * PIXELS + 3 * 32 + 30] * 255.0 - f32::from(img[2 * PIXELS + 3 * 32 + 30]))
                .abs()
                < 1e-3
        );
    }

    #[test]
    fn softmax_rows_sum_to_one_and_survive_large_logits() {
        let mut v = vec![1000.0, 1001.0, 999.0, 0.0, 0.0, 0.0];
        softmax_rows(&mut v, 3);
        assert!((v[..3].iter().sum::<f32>() - 1.0).abs() < 1e-6 && v[1] > v[0]);
        assert!((v[3] - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(argmax_rows(&[0.1, 0.5, 0.5, 2.0, 1.0, 0.0], 3), vec![1, 0]);
    }
}
