//! Per-channel mean and population standard deviation of images on a 0..1 scale.

use crate::error::{DataError, Result};
use crate::official::{CHANNELS, IMAGE_BYTES, PLANE};

/// Channel statistics on a 0..1 scale (pixel / 255), in R, G, B order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelStats {
    /// Mean of each channel over all pixels of all images.
    pub mean: [f64; CHANNELS],
    /// Population standard deviation (divide by the count, not count - 1) of each channel.
    pub std: [f64; CHANNELS],
}

impl ChannelStats {
    /// The means as stored in the artifact.
    pub fn mean_f32(&self) -> [f32; CHANNELS] {
        self.mean.map(|v| v as f32)
    }

    /// The standard deviations as stored in the artifact.
    pub fn std_f32(&self) -> [f32; CHANNELS] {
        self.std.map(|v| v as f32)
    }
}

/// Channel mean and population standard deviation of NCHW u8 images, on a 0..1 scale.
///
/// The sums of pixel values and of their squares are accumulated exactly in integers, and
/// the variance is formed as `(n * sum_sq - sum^2) / n^2` in 128-bit integers, so the result
/// is independent of summation order and free of cancellation; only the final division and
/// square root are floating point (f64).
///
/// # Shapes
/// `images`: u8 `[n, 3, 32, 32]` flattened, `n >= 1`.
pub fn channel_stats(images: &[u8]) -> Result<ChannelStats> {
    if images.is_empty() || images.len() % IMAGE_BYTES != 0 {
        return Err(DataError::BadImageBuffer {
            what: "channel statistics input".to_owned(),
            len: images.len(),
        });
    }
    let mut sum = [0u64; CHANNELS];
    let mut sum_sq = [0u64; CHANNELS];
    for image in images.chunks_exact(IMAGE_BYTES) {
        for (channel, plane) in image.chunks_exact(PLANE).enumerate() {
            // A plane's sums fit u32 (1024 * 255^2 < 2^32), which lets the loop vectorise.
            let (s, q) = plane.iter().fold((0u32, 0u32), |(s, q), &v| {
                let v = u32::from(v);
                (s + v, q + v * v)
            });
            sum[channel] += u64::from(s);
            sum_sq[channel] += u64::from(q);
        }
    }
    let count = (images.len() / IMAGE_BYTES * PLANE) as u128;
    let scale = count as f64 * 255.0;
    let mut mean = [0.0; CHANNELS];
    let mut std = [0.0; CHANNELS];
    for c in 0..CHANNELS {
        let (s, q) = (u128::from(sum[c]), u128::from(sum_sq[c]));
        mean[c] = s as f64 / scale;
        std[c] = ((count * q - s * s) as f64).sqrt() / scale;
    }
    Ok(ChannelStats { mean, std })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(r: u8, g: u8, b: u8) -> Vec<u8> {
        [r, g, b]
            .iter()
            .flat_map(|&v| std::iter::repeat_n(v, PLANE))
            .collect()
    }

    #[test]
    fn constant_images_have_their_value_as_mean_and_zero_std() {
        let s = channel_stats(&image(0, 255, 51)).unwrap();
        assert_eq!(s.mean, [0.0, 1.0, 0.2]);
        assert_eq!(s.std, [0.0, 0.0, 0.0]);
    }

    #[test]
    fn two_images_give_the_textbook_values() {
        // Red: half the pixels 0, half 255 -> mean 0.5, population std 0.5.
        let mut images = image(0, 10, 100);
        images.extend(image(255, 10, 200));
        let s = channel_stats(&images).unwrap();
        assert_eq!(s.mean[0], 0.5);
        assert_eq!(s.std[0], 0.5);
        assert_eq!(s.std[1], 0.0);
        assert!((s.mean[2] - 150.0 / 255.0).abs() < 1e-15);
        assert!((s.std[2] - 50.0 / 255.0).abs() < 1e-15);
    }

    #[test]
    fn the_result_matches_a_direct_f64_computation() {
        let images: Vec<u8> = (0..5 * IMAGE_BYTES)
            .map(|i| ((i * 7919 + i / 13) % 256) as u8)
            .collect();
        let s = channel_stats(&images).unwrap();
        for c in 0..CHANNELS {
            let values: Vec<f64> = images
                .chunks_exact(IMAGE_BYTES)
                .flat_map(|im| {
                    im[c * PLANE..(c + 1) * PLANE]
                        .iter()
                        .map(|&v| f64::from(v) / 255.0)
                })
                .collect();
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
            assert!((s.mean[c] - mean).abs() < 1e-12, "{c}");
            assert!((s.std[c] - var.sqrt()).abs() < 1e-12, "{c}");
        }
    }

    #[test]
    fn a_partial_image_is_refused() {
        assert!(channel_stats(&[0; IMAGE_BYTES + 1]).is_err());
        assert!(channel_stats(&[]).is_err());
    }
}
