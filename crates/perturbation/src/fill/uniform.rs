//! `uniform`: one random colour per pixel, drawn once per test image (paired) or once per
//! curve and per method's faithfulness pixels (independent).

use rand::Rng;

use super::{Draw, Draws, Fill, FillInfo, FillSetup, ImageRef, Prepared};
use crate::error::Result;
use crate::layout::{Normalisation, IMAGE_VALUES};
use crate::seed::{domain, seeded_rng};

/// The random-stream domain of the uniform fill.
const UNIFORM: u64 = domain(b"uniform");

/// Registry entry.
pub const INFO: FillInfo = FillInfo {
    name: "uniform",
    summary: "a replacement image with each channel uniform on 0..=255, seeded by (seed, test-set index), shared by every curve (paired) or drawn per curve (independent)",
    build: |setup| Box::new(UniformFill::new(setup)),
};

/// Replaces pixel `p` of test image `i` by pixel `p` of a random image drawn for `i` alone.
///
/// Every value of the replacement image is uniform on `0..=255`, drawn in NCHW order from the
/// stream [`Draw::stream`] of (seed, `"uniform"`). Paired ([`Draws::Paired`]): the image
/// depends only on the seed and the test-set index (stream `i`), so every method, order and
/// step gives a pixel of an image the same colour. Independent: each [`Draw`] of the image has
/// its own stream, so each curve sees its own colours.
#[derive(Debug, Clone)]
pub struct UniformFill {
    seed: u64,
    normalisation: Normalisation,
    draws: Draws,
}

impl UniformFill {
    /// The fill for this seed and normalisation.
    pub fn new(setup: &FillSetup) -> Self {
        UniformFill {
            seed: setup.seed,
            normalisation: setup.normalisation.clone(),
            draws: setup.draws,
        }
    }

    /// The u8 replacement image of test image `index` (the shared, paired one).
    ///
    /// # Shapes
    /// Returns u8 `[3, 32, 32]`.
    pub fn image(&self, index: u32) -> Vec<u8> {
        self.image_of_draw(index, Draw::Shared)
    }

    /// The u8 replacement image of one draw of test image `index` (what [`Fill::prepare_draw`]
    /// uses when the fill draws independently).
    ///
    /// # Shapes
    /// Returns u8 `[3, 32, 32]`.
    pub fn image_of_draw(&self, index: u32, draw: Draw) -> Vec<u8> {
        let mut rng = seeded_rng(self.seed, UNIFORM, draw.stream(index));
        (0..IMAGE_VALUES).map(|_| rng.random::<u8>()).collect()
    }
}

impl Fill for UniformFill {
    fn name(&self) -> &'static str {
        INFO.name
    }

    /// Paired draws store their one image per test image; independent draws are reproducible
    /// from the seed ([`UniformFill::image_of_draw`]) and are not stored.
    fn stores_image(&self) -> bool {
        self.draws == Draws::Paired
    }

    fn independent(&self) -> bool {
        self.draws == Draws::Independent
    }

    fn prepare_draw(&self, image: &ImageRef<'_>, draw: Draw) -> Result<Prepared> {
        image.check()?;
        let draw = match self.draws {
            Draws::Paired => Draw::Shared,
            Draws::Independent => draw,
        };
        let stored = self.image_of_draw(image.index, draw);
        let mut replacement = vec![0.0; IMAGE_VALUES];
        self.normalisation.nchw_to_nhwc(&stored, &mut replacement)?;
        Ok(Prepared {
            replacement,
            stored: self.stores_image().then_some(stored),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{CHANNELS, PIXELS};

    fn fill_with(seed: u64, draws: Draws) -> UniformFill {
        UniformFill::new(&FillSetup {
            seed,
            normalisation: Normalisation::from_fn(|c, v| f32::from(v) + 1000.0 * c as f32),
            draws,
        })
    }

    fn fill(seed: u64) -> UniformFill {
        fill_with(seed, Draws::Paired)
    }

    #[test]
    fn independent_draws_differ_per_curve_and_paired_ones_ignore_the_draw() {
        let pixels = vec![7u8; IMAGE_VALUES];
        let normalised = vec![0.0f32; IMAGE_VALUES];
        let image = ImageRef {
            index: 5,
            pixels: &pixels,
            normalised: &normalised,
        };
        let paired = fill(3);
        let shared = paired.prepare(&image).unwrap();
        for draw in [Draw::Curve(0), Draw::Random(2), Draw::Faithfulness(1)] {
            assert_eq!(paired.prepare_draw(&image, draw).unwrap(), shared);
        }
        let independent = fill_with(3, Draws::Independent);
        assert!(independent.independent() && !independent.stores_image());
        // The shared draw of an independent fill is the paired image (stream = index).
        assert_eq!(
            independent.image_of_draw(5, Draw::Shared),
            shared.stored.clone().unwrap()
        );
        let draws = [
            Draw::Curve(0),
            Draw::Curve(1),
            Draw::Random(0),
            Draw::Random(1),
            Draw::Faithfulness(0),
            Draw::Faithfulness(1),
        ];
        let images: Vec<Vec<u8>> = draws
            .iter()
            .map(|&d| independent.image_of_draw(5, d))
            .collect();
        for (i, a) in images.iter().enumerate() {
            assert_ne!(a, &shared.stored.clone().unwrap());
            for b in &images[..i] {
                assert_ne!(a, b);
            }
        }
        let prepared = independent.prepare_draw(&image, Draw::Curve(1)).unwrap();
        assert_eq!(prepared.stored, None);
        assert_eq!(prepared.replacement[0], f32::from(images[1][0]));
        // Streams: kind and slot above the 32 bits of the index.
        assert_eq!(Draw::Shared.stream(9), 9);
        assert_eq!(Draw::Random(2).stream(9), 9 | (2 << 32) | (2 << 40));
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
