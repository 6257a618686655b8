//! `edge`: the Sobel gradient magnitude of the grey image. It ignores the model, by design: it
//! is the paper's model-independent baseline.
//!
//! Two choices make it, both in `[attribute]`: the grey image (`edge_grey`: scikit-image's
//! luminance `0.2125 R + 0.7154 G + 0.0721 B`, or the channel mean) and the border
//! (`edge_border`: scikit-image's zeroed outermost pixels, or replicated edge pixels). With
//! `luminance` and `zero` the map is scikit-image's `filters.sobel(color.rgb2gray(image))`
//! times `4 sqrt(2)` (scikit-image divides its kernels by 4 and the magnitude by sqrt(2)): a
//! constant factor that no metric or statistic sees (orderings, correlations and ranks are
//! scale-free), kept so that every variant is on one scale.

use sal_model::arch::{IMAGE_SIZE, IMAGE_VALUES, PIXELS};

use crate::error::{AttributionError, Result};
use crate::method::{Batch, Method, Setup};
use crate::registry::MethodInfo;

/// Registration.
pub const INFO: MethodInfo = MethodInfo {
    name: "edge",
    summary: "Sobel gradient magnitude of the grey 0..1 image (ignores the model)",
    needs_training_images: false,
    build,
};

fn build(setup: &Setup<'_>) -> Result<Box<dyn Method>> {
    let grey = match setup.config.edge_grey.as_str() {
        "luminance" => Grey::Luminance,
        "channel_mean" => Grey::ChannelMean,
        other => return Err(AttributionError::Config(format!("edge_grey = {other:?}"))),
    };
    let border = match setup.config.edge_border.as_str() {
        "zero" => Border::Zero,
        "replicate" => Border::Replicate,
        other => return Err(AttributionError::Config(format!("edge_border = {other:?}"))),
    };
    Ok(Box::new(Edge { grey, border }))
}

/// How the three channels become one grey image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grey {
    /// scikit-image's `rgb2gray`: 0.2125 R + 0.7154 G + 0.0721 B.
    Luminance,
    /// The mean of the three channels.
    ChannelMean,
}

/// What the Sobel map does at the image's outermost pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Border {
    /// They get 0 (scikit-image's `filters.sobel` masks them out).
    Zero,
    /// The image's edge pixels are repeated outside it.
    Replicate,
}

/// The Sobel edge map.
#[derive(Debug, Clone, Copy)]
pub struct Edge {
    /// The grey image.
    pub grey: Grey,
    /// The border rule.
    pub border: Border,
}

impl Default for Edge {
    /// scikit-image's choices (the default of `[attribute]`).
    fn default() -> Self {
        Edge {
            grey: Grey::Luminance,
            border: Border::Zero,
        }
    }
}

impl Method for Edge {
    fn name(&self) -> &'static str {
        INFO.name
    }

    fn explain(&mut self, batch: &Batch<'_>, maps: &mut [f32]) -> Result<()> {
        batch.check_maps(maps)?;
        for (pixels, map) in batch
            .pixels
            .chunks_exact(IMAGE_VALUES)
            .zip(maps.chunks_exact_mut(PIXELS))
        {
            sobel_magnitude(&grey(pixels, self.grey), self.border, map);
        }
        Ok(())
    }

    fn describe(&self) -> serde_json::Value {
        let grey = match self.grey {
            Grey::Luminance => {
                "0.2125 R + 0.7154 G + 0.0721 B of pixel/255 (scikit-image rgb2gray)"
            }
            Grey::ChannelMean => "mean of the 3 channels of pixel/255",
        };
        let border = match self.border {
            Border::Zero => "zero (outermost pixels 0, as scikit-image filters.sobel)",
            Border::Replicate => "replicate",
        };
        serde_json::json!({"grey": grey, "kernel": "3x3 Sobel, unnormalised ([1, 2, 1] x [-1, 0, 1]); scikit-image's is this / (4 sqrt 2)", "border": border})
    }
}

/// The grey image of the 0..1 image (`pixel / 255`).
///
/// # Shapes
/// `pixels`: u8 `[3, 32, 32]` (NCHW); returns `[32 * 32]`, index row * 32 + col.
pub fn grey(pixels: &[u8], rule: Grey) -> Vec<f32> {
    let weights: [f32; 3] = match rule {
        Grey::Luminance => [0.2125, 0.7154, 0.0721],
        Grey::ChannelMean => [1.0 / 3.0; 3],
    };
    (0..PIXELS)
        .map(|p| {
            (0..3)
                .map(|c| weights[c] * (f32::from(pixels[c * PIXELS + p]) / 255.0))
                .sum()
        })
        .collect()
}

/// sqrt(gx^2 + gy^2) with the 3x3 Sobel kernels.
///
/// gx = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]] (left to right, along columns) and gy its
/// transpose (top to bottom, along rows), as correlations (no kernel flip). Border pixels are
/// 0 ([`Border::Zero`]) or computed with the edge pixels replicated ([`Border::Replicate`]).
///
/// # Shapes
/// `grey`: `[32 * 32]`; `out`: `[32 * 32]`, overwritten; index row * 32 + col.
pub fn sobel_magnitude(grey: &[f32], border: Border, out: &mut [f32]) {
    let n = IMAGE_SIZE as isize;
    let at = |r: isize, c: isize| -> f32 {
        let r = r.clamp(0, n - 1) as usize;
        let c = c.clamp(0, n - 1) as usize;
        grey[r * IMAGE_SIZE + c]
    };
    for r in 0..n {
        for c in 0..n {
            let on_border = r == 0 || c == 0 || r == n - 1 || c == n - 1;
            if on_border && border == Border::Zero {
                out[(r * n + c) as usize] = 0.0;
                continue;
            }
            let gx = (at(r - 1, c + 1) + 2.0 * at(r, c + 1) + at(r + 1, c + 1))
                - (at(r - 1, c - 1) + 2.0 * at(r, c - 1) + at(r + 1, c - 1));
            let gy = (at(r + 1, c - 1) + 2.0 * at(r + 1, c) + at(r + 1, c + 1))
                - (at(r - 1, c - 1) + 2.0 * at(r - 1, c) + at(r - 1, c + 1));
            out[(r * n + c) as usize] = gx.hypot(gy);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image_from_grey(f: impl Fn(usize, usize) -> u8) -> Vec<u8> {
        let mut px = vec![0u8; IMAGE_VALUES];
        for c in 0..3 {
            for r in 0..32 {
                for col in 0..32 {
                    px[c * PIXELS + r * 32 + col] = f(r, col);
                }
            }
        }
        px
    }

    fn edge_map(pixels: &[u8]) -> Vec<f32> {
        let mut map = vec![0.0; PIXELS];
        let classes = [0usize];
        let images = vec![0.0; IMAGE_VALUES];
        Edge {
            grey: Grey::ChannelMean,
            border: Border::Replicate,
        }
        .explain(&Batch::new(pixels, &images, &classes).unwrap(), &mut map)
        .unwrap();
        map
    }

    #[test]
    fn a_vertical_step_edge_gives_4_on_both_sides_of_the_step_and_0_elsewhere() {
        // Columns 0..16 black, 16..32 white: grey 0 | 1.
        let map = edge_map(&image_from_grey(|_, c| if c < 16 { 0 } else { 255 }));
        for r in 0..32 {
            for c in 0..32 {
                let expected = if c == 15 || c == 16 { 4.0 } else { 0.0 };
                assert!(
                    (map[r * 32 + c] - expected).abs() < 1e-6,
                    "({r},{c}): {}",
                    map[r * 32 + c]
                );
            }
        }
    }

    #[test]
    fn grey_is_the_channel_mean_of_the_unit_image() {
        let mut px = vec![0u8; IMAGE_VALUES];
        px[5] = 255; // red, pixel 5
        px[PIXELS + 5] = 51; // green
        px[2 * PIXELS + 5] = 0;
        let g = grey(&px, Grey::ChannelMean);
        assert!((g[5] - (1.0 + 0.2) / 3.0).abs() < 1e-6 && g[4] == 0.0);
    }

    #[test]
    fn a_ramp_catches_transposition_and_border_replication() {
        // grey = (2 * col + row) / 255 on one channel set: a = 2/255 per column, b = 1/255 per row.
        let map = edge_map(&image_from_grey(|r, c| (2 * c + r) as u8));
        let (a, b) = (2.0f32 / 255.0, 1.0f32 / 255.0);
        // Interior: gx = 8a, gy = 8b.
        assert!((map[10 * 32 + 7] - (8.0 * a).hypot(8.0 * b)).abs() < 1e-5);
        // Left border (col 0): the replicated column halves the horizontal difference: gx = 4a.
        assert!((map[10 * 32] - (4.0 * a).hypot(8.0 * b)).abs() < 1e-5);
        // Top border (row 0): gy = 4b.
        assert!((map[7] - (8.0 * a).hypot(4.0 * b)).abs() < 1e-5);
        // Corner (31, 31): gx = 4a, gy = 4b.
        assert!((map[31 * 32 + 31] - (4.0 * a).hypot(4.0 * b)).abs() < 1e-5);
        // Rows and columns are not interchangeable here: a transposed implementation fails above.
        assert!((map[10 * 32] - map[10]).abs() > 1e-3);
    }
}
