//! The architecture: widths and the derived shapes, and its JSON form in model metadata.

use serde::{Deserialize, Serialize};

/// Side of a CIFAR-10 image.
pub const IMAGE_SIZE: usize = 32;
/// Colour channels.
pub const IN_CHANNELS: usize = 3;
/// Values in one image (3 x 32 x 32).
pub const IMAGE_VALUES: usize = IN_CHANNELS * IMAGE_SIZE * IMAGE_SIZE;
/// Pixels in one image (32 x 32); pixel index p = row * 32 + col.
pub const PIXELS: usize = IMAGE_SIZE * IMAGE_SIZE;
/// Number of conv layers (3 blocks x 2).
pub const CONV_LAYERS: usize = 6;

/// The network's shape. Travels in the `architecture` metadata field of `model.safetensors`,
/// so the file alone rebuilds the model.
///
/// Layer `l` in 0..6 is `block{l/2+1}.conv{l%2+1}`; a 2x2 max-pool follows layers 1, 3 and 5.
/// The classifier reads the last block's output flattened in **NCHW order**
/// (feature index = c * 16 + h * 4 + w), as candle and PyTorch flatten `[N, C, 4, 4]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Architecture {
    /// Output channels of the six convs.
    pub widths: [usize; CONV_LAYERS],
    /// Output classes.
    pub classes: usize,
    /// BatchNorm epsilon.
    pub bn_eps: f64,
}

impl Default for Architecture {
    fn default() -> Self {
        Architecture {
            widths: [32, 32, 64, 64, 128, 128],
            classes: 10,
            bn_eps: 1e-5,
        }
    }
}

impl Architecture {
    /// The paper's network with the given conv widths.
    pub fn with_widths(widths: [usize; CONV_LAYERS]) -> Self {
        Architecture {
            widths,
            ..Self::default()
        }
    }

    /// Input channels of conv layer `l`.
    pub fn in_channels(&self, l: usize) -> usize {
        if l == 0 {
            IN_CHANNELS
        } else {
            self.widths[l - 1]
        }
    }

    /// Spatial side of the input (= output, padding 1) of conv layer `l`: 32, 32, 16, 16, 8, 8.
    pub fn spatial(&self, l: usize) -> usize {
        IMAGE_SIZE >> (l / 2)
    }

    /// Whether a 2x2 max-pool follows conv layer `l`.
    pub fn pool_after(l: usize) -> bool {
        l % 2 == 1
    }

    /// Length of the flattened feature vector the classifier reads (widths[5] x 4 x 4).
    pub fn flat_features(&self) -> usize {
        self.widths[CONV_LAYERS - 1] * (IMAGE_SIZE / 8) * (IMAGE_SIZE / 8)
    }

    /// Multiply-adds of one forward pass of one image (convs and classifier).
    pub fn macs_per_image(&self) -> usize {
        let convs: usize = (0..CONV_LAYERS)
            .map(|l| {
                let s = self.spatial(l);
                s * s * self.widths[l] * self.in_channels(l) * 9
            })
            .sum();
        convs + self.flat_features() * self.classes
    }

    /// FLOPs (2 per multiply-add) of one forward pass of one image: 77.3 M for the paper's widths.
    pub fn flops_per_image(&self) -> f64 {
        2.0 * self.macs_per_image() as f64
    }

    /// Trainable parameters (conv weights, BN scale and shift, classifier weights).
    pub fn trainable_parameters(&self) -> usize {
        let convs: usize = (0..CONV_LAYERS)
            .map(|l| self.widths[l] * self.in_channels(l) * 9 + 2 * self.widths[l])
            .sum();
        convs + self.flat_features() * self.classes
    }

    /// The `architecture` metadata value.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("Architecture is always representable as JSON")
    }

    /// Parses the `architecture` metadata value.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        let arch: Architecture =
            serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        if arch.widths.contains(&0)
            || arch.classes == 0
            || arch.bn_eps.is_nan()
            || arch.bn_eps <= 0.0
        {
            return Err(format!("implausible architecture {arch:?}"));
        }
        Ok(arch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paper_network_has_the_documented_cost_and_size() {
        let arch = Architecture::default();
        assert_eq!(arch.flat_features(), 2048);
        assert_eq!(arch.macs_per_image(), 38_653_952);
        assert!((arch.flops_per_image() / 1e6 - 77.3).abs() < 0.05);
        assert_eq!(arch.trainable_parameters(), 307_936);
    }

    #[test]
    fn json_round_trip() {
        let arch = Architecture::with_widths([4, 4, 8, 8, 16, 16]);
        assert_eq!(Architecture::from_json(&arch.to_json()).unwrap(), arch);
    }
}
