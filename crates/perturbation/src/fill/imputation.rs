//! `imputation`: ROAD's noisy linear imputation (Rong et al., ICML 2022) as a fill. The
//! perturbed pixels are imputed from the kept ones ([`crate::imputation::impute`]) and a seeded
//! Gaussian noise image is added to them.

use super::{Draw, Draws, Fill, FillInfo, FillSetup, ImageRef, Perturbation, Prepared};
use crate::error::Result;
use crate::imputation::{standard_normal, ROAD_NOISE};
use crate::layout::IMAGE_VALUES;
use crate::seed::{domain, seeded_rng};

/// The random-stream domain of the imputation noise.
const IMPUTATION: u64 = domain(b"impute");

/// Registry entry.
pub const INFO: FillInfo = FillInfo {
    name: "imputation",
    summary: "ROAD's noisy linear imputation: perturbed pixels imputed from their 8 neighbours (one sparse linear system per step) plus N(0, 0.01^2) noise in normalised units, seeded per (seed, test-set index) and drawn per curve when draws are independent",
    build: |setup| Box::new(ImputationFill::new(setup)),
};

/// Imputes the perturbed pixels of test image `i` and adds noise drawn for `i`.
///
/// The replacement ([`Prepared::replacement`]) is the noise image: [`ROAD_NOISE`] x N(0, 1) for
/// every value, in normalised NHWC order, from the stream [`Draw::stream`] of (seed,
/// `"impute"`). Paired ([`Draws::Paired`], `[metrics] uniform_draws`): one noise image per test
/// image, shared by every curve; independent: one per draw, as the uniform fill's colours.
#[derive(Debug, Clone)]
pub struct ImputationFill {
    seed: u64,
    draws: Draws,
}

impl ImputationFill {
    /// The fill for this setup (its seed and draws; the noise is in normalised units, so the
    /// normalisation is not needed).
    pub fn new(setup: &FillSetup) -> Self {
        ImputationFill {
            seed: setup.seed,
            draws: setup.draws,
        }
    }

    /// The noise image of one draw of test image `index`.
    ///
    /// # Shapes
    /// Returns f32 `[32, 32, 3]`.
    pub fn noise(&self, index: u32, draw: Draw) -> Vec<f32> {
        let mut rng = seeded_rng(self.seed, IMPUTATION, draw.stream(index));
        (0..IMAGE_VALUES)
            .map(|_| (ROAD_NOISE * standard_normal(&mut rng)) as f32)
            .collect()
    }
}

impl Fill for ImputationFill {
    fn name(&self) -> &'static str {
        INFO.name
    }

    /// The noise is reproducible from the seed ([`ImputationFill::noise`]); nothing is stored.
    fn stores_image(&self) -> bool {
        false
    }

    fn independent(&self) -> bool {
        self.draws == Draws::Independent
    }

    fn perturbation(&self) -> Perturbation {
        Perturbation::Impute
    }

    fn prepare_draw(&self, image: &ImageRef<'_>, draw: Draw) -> Result<Prepared> {
        image.check()?;
        let draw = match self.draws {
            Draws::Paired => Draw::Shared,
            Draws::Independent => draw,
        };
        Ok(Prepared {
            replacement: self.noise(image.index, draw),
            stored: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Normalisation;

    fn fill(draws: Draws) -> ImputationFill {
        ImputationFill::new(&FillSetup {
            seed: 7,
            normalisation: Normalisation::from_fn(|_, v| f32::from(v)),
            draws,
        })
    }

    #[test]
    fn the_noise_is_seeded_per_draw_and_has_roads_spread() {
        let pixels = vec![0u8; IMAGE_VALUES];
        let normalised = vec![0.0f32; IMAGE_VALUES];
        let image = ImageRef {
            index: 3,
            pixels: &pixels,
            normalised: &normalised,
        };
        let paired = fill(Draws::Paired);
        let shared = paired.prepare(&image).unwrap();
        assert_eq!(
            paired.prepare_draw(&image, Draw::Curve(4)).unwrap(),
            shared,
            "paired draws share one noise image"
        );
        let independent = fill(Draws::Independent);
        let curve = independent.prepare_draw(&image, Draw::Curve(4)).unwrap();
        assert_ne!(curve, shared);
        assert_eq!(
            independent.prepare_draw(&image, Draw::Curve(4)).unwrap(),
            curve
        );
        assert_eq!(paired.perturbation(), Perturbation::Impute);
        assert!(!paired.stores_image() && shared.stored.is_none());
        // 3,072 draws of 0.01 N(0, 1): mean within 4 standard errors of 0, spread within 5%.
        let v: Vec<f64> = shared.replacement.iter().map(|&x| f64::from(x)).collect();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!(mean.abs() < 4.0 * ROAD_NOISE / n.sqrt(), "{mean}");
        assert!((sd / ROAD_NOISE - 1.0).abs() < 0.05, "{sd}");
    }
}
