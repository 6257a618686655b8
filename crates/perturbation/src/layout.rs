//! Image layout constants and the u8 -> normalised value table.

use crate::error::{check_len, Result};

/// Pixels of a CIFAR-10 image (32 x 32); pixel `p = row * 32 + col`.
pub const PIXELS: usize = 1024;
/// Colour channels; a perturbed pixel is replaced in all of them.
pub const CHANNELS: usize = 3;
/// Values of one image (`[32, 32, 3]` normalised or `[3, 32, 32]` u8).
pub const IMAGE_VALUES: usize = PIXELS * CHANNELS;

/// The model's input normalisation as a table: the normalised value of every u8 pixel value in
/// every channel.
///
/// Built by the caller from the model's own normaliser (`sal_model::Normalizer::value`), so a
/// fill colour is normalised exactly as the dataset images are, without this crate depending on
/// the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalisation {
    table: [[f32; 256]; CHANNELS],
}

impl Normalisation {
    /// The table of `value(channel, pixel_value)`.
    pub fn from_fn(value: impl Fn(usize, u8) -> f32) -> Self {
        Normalisation {
            table: std::array::from_fn(|c| std::array::from_fn(|v| value(c, v as u8))),
        }
    }

    /// The normalised value of pixel value `v` in channel `c`.
    pub fn value(&self, c: usize, v: u8) -> f32 {
        self.table[c][usize::from(v)]
    }

    /// Converts one u8 NCHW image into normalised NHWC.
    ///
    /// # Shapes
    /// `pixels`: u8 `[3, 32, 32]`; `out`: f32 `[32, 32, 3]`, overwritten.
    pub fn nchw_to_nhwc(&self, pixels: &[u8], out: &mut [f32]) -> Result<()> {
        check_len("u8 image", pixels.len(), IMAGE_VALUES, "[3, 32, 32]")?;
        check_len("normalised image", out.len(), IMAGE_VALUES, "[32, 32, 3]")?;
        for p in 0..PIXELS {
            for c in 0..CHANNELS {
                out[p * CHANNELS + c] = self.table[c][usize::from(pixels[c * PIXELS + p])];
            }
        }
        Ok(())
    }
}
