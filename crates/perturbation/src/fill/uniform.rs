//! `uniform`: one random colour per pixel, drawn once per test image.

use rand::Rng;

use super::{Fill, FillInfo, FillSetup, ImageRef, Prepared};
use crate::error::Result;
use crate::layout::{Normalisation, IMAGE_VALUES};
use crate::seed::{domain, seeded_rng};

/// The random-stream domain of the uniform fill.
const UNIFORM: u64 = domain(b"uniform");

/// Registry entry.
pub const INFO: FillInfo = FillInfo {
    name: "uniform",
    summary: "one replacement image per test image, each channel uniform on 0..=255, seeded by (seed, test-set index)",
    build: |setup| Box::new(UniformFill::new(setup)),
};

/// Replaces pixel `p` of test image `i` by pixel `p` of a random image drawn for `i` alone.
///
/// Every value of the replacement image is uniform on `0..=255`, drawn in NCHW order from the
/// stream `i` of (seed, `"uniform"`). The image depends only on the seed and the test-set
/// index, so every method, order and step gives a pixel of an image the same colour.
#[derive(Debug, Clone)]
pub struct UniformFill {
    seed: u64,
    normalisation: Normalisation,
}

impl UniformFill {
    /// The fill for this seed and normalisation.
    pub fn new(setup: &FillSetup) -> Self {
        UniformFill {
            seed: setup.seed,
            normalisation: setup.normalisation.clone(),
        }
    }

    /// The u8 replacement image of test image `index`.
    ///
    /// # Shapes
    /// Returns u8 `[3, 32, 32]`.
    pub fn image(&self, index: u32) -> Vec<u8> {
        let mut rng = seeded_rng(self.seed, UNIFORM, u64::from(index));
        (0..IMAGE_VALUES).map(|_| rng.random::<u8>()).collect()
    }
}

impl Fill for UniformFill {
    fn name(&self) -> &'static str {
        INFO.name
    }

    fn stores_image(&self) -> bool {
        true
    }

    fn prepare(&self, image: &ImageRef<'_>) -> Result<Prepared> {
        image.check()?;
        let stored = self.image(image.index);
        let mut replacement = vec![0.0; IMAGE_VALUES];
        self.normalisation.nchw_to_nhwc(&stored, &mut replacement)?;
        Ok(Prepared {
            replacement,
            stored: Some(stored),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{CHANNELS, PIXELS};

    fn fill(seed: u64) -> UniformFill {
        UniformFill::new(&FillSetup {
            seed,
            normalisation: Normalisation::from_fn(|c, v| f32::from(v) + 1000.0 * c as f32),
        })
    }

    #[test]
    fn replacement_depends_on_seed_and_index_only_and_covers_the_range() {
        let f = fill(3);
        let pixels = vec![7u8; IMAGE_VALUES];
        let other_pixels = vec![200u8; IMAGE_VALUES];
        let normalised = vec![0.0f32; IMAGE_VALUES];
        let a = f
            .prepare(&ImageRef {
                index: 12,
                pixels: &pixels,
                normalised: &normalised,
            })
            .unwrap();
        let b = f
            .prepare(&ImageRef {
                index: 12,
                pixels: &other_pixels,
                normalised: &normalised,
            })
            .unwrap();
        assert_eq!(a, b, "the image content does not matter, only its index");
        let c = f
            .prepare(&ImageRef {
                index: 13,
                pixels: &pixels,
                normalised: &normalised,
            })
            .unwrap();
        assert_ne!(a.stored, c.stored);
        assert_ne!(fill(4).image(12), f.image(12));
        let stored = a.stored.unwrap();
        assert!(stored.iter().any(|&v| v < 8) && stored.iter().any(|&v| v > 247));
        // NCHW u8 -> NHWC normalised, through the caller's table.
        for (c, p) in [(0, 0), (1, 33), (2, 1023)] {
            assert_eq!(
                a.replacement[p * CHANNELS + c],
                f32::from(stored[c * PIXELS + p]) + 1000.0 * c as f32
            );
        }
    }
}
