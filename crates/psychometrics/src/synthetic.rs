//! Synthetic `saliency.safetensors` + `metrics.safetensors` pairs with known statistics, in the
//! documented schema: fixtures for the `stats` stage's tests (here, in the CLI, in the report)
//! until real metrics exist.
//!
//! Curves are straight lines `c[k] = p0 (1 - d k / L)`, so `AOPC_l = p0 d l / (2 L)` exactly.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_artifact::names::{metrics as mn, saliency as sn};
use sal_artifact::{ArtifactWriter, Kind, Meta};

use crate::error::Result;

/// How the methods' scores relate across images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Structure {
    /// Every image ranks the methods identically (method 0 best, then 1, ...) by every metric:
    /// alpha = 1, every interval [1, 1].
    Consistent,
    /// Scores drawn independently per image and method: alpha near 0. Faithfulness is NaN on
    /// about 5% of (image, method) pairs.
    Random,
}

/// A synthetic input pair.
#[derive(Debug, Clone)]
pub struct Synthetic {
    /// N images.
    pub images: usize,
    /// Method names (`saliency.<method>` tensors), in the configured order.
    pub methods: Vec<String>,
    /// Fill names.
    pub fills: Vec<String>,
    /// L, the curves' steps.
    pub steps: usize,
    /// R, random orderings.
    pub orderings: usize,
    /// The structure of the scores.
    pub structure: Structure,
    /// Seed of every random draw.
    pub seed: u64,
}

impl Synthetic {
    /// The five methods of the paper, fills `mean` and `uniform`.
    pub fn paper_like(images: usize, steps: usize, structure: Structure, seed: u64) -> Self {
        Synthetic {
            images,
            // The paper's five methods, in the order `[attribute]` runs them by default.
            methods: sal_config::AttributeConfig::default().methods,
            fills: vec!["mean".to_owned(), "uniform".to_owned()],
            steps,
            orderings: 4,
            structure,
            seed,
        }
    }

    /// The slope `d` of method `m`'s curve in `order` on one image.
    fn slope(&self, rng: &mut ChaCha8Rng, m: usize, order: &str) -> f64 {
        let step = 0.8 / self.methods.len() as f64;
        match (self.structure, order) {
            // MoRF: method 0 drops fastest (highest AOPC, best).
            (Structure::Consistent, "morf") => 0.9 - step * m as f64,
            // LeRF: method 0 drops slowest (lowest AOPC, best).
            (Structure::Consistent, _) => 0.1 + step * m as f64,
            (Structure::Random, _) => rng.random_range(0.0..1.0),
        }
    }

    /// The faithfulness of method `m` on one image.
    fn faithfulness(&self, rng: &mut ChaCha8Rng, m: usize) -> f32 {
        match self.structure {
            Structure::Consistent => (0.9 - 0.3 * m as f64) as f32,
            Structure::Random if rng.random_bool(0.05) => f32::NAN,
            Structure::Random => rng.random_range(-1.0..1.0),
        }
    }

    /// Writes `<attribute_dir>/saliency.safetensors` and `<metrics_dir>/metrics.safetensors`.
    pub fn write(&self, attribute_dir: &Path, metrics_dir: &Path) -> Result<()> {
        let n = self.images;
        let width = self.steps + 1;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let image_index: Vec<u32> = (0..n as u32).map(|i| 3 * i + 1).collect();
        let label: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let predicted: Vec<u8> = (0..n)
            .map(|i| {
                if i % 7 == 0 {
                    ((i + 1) % 10) as u8
                } else {
                    (i % 10) as u8
                }
            })
            .collect();
        let confidence: Vec<f32> = (0..n).map(|_| rng.random_range(0.3..1.0)).collect();
        let p0: Vec<f64> = (0..n).map(|_| rng.random_range(0.5..1.0)).collect();

        let saliency_config = serde_json::json!({ "methods": self.methods });
        let mut saliency =
            ArtifactWriter::new(Meta::new(Kind::Saliency, "attribute", saliency_config));
        saliency.add(sn::IMAGE_INDEX, &[n], &image_index)?;
        saliency.add(sn::LABEL, &[n], &label)?;
        saliency.add(sn::PREDICTED, &[n], &predicted)?;
        saliency.add(sn::CONFIDENCE, &[n], &confidence)?;
        for (m, method) in self.methods.iter().enumerate() {
            let map: Vec<f32> = (0..n * 32 * 32)
                .map(|p| ((p * (m + 1)) % 97) as f32 / 97.0)
                .collect();
            saliency.add(&sn::map(method), &[n, 32, 32], &map)?;
        }
        saliency.write(&attribute_dir.join(Kind::Saliency.file_name()))?;

        let metrics_config = serde_json::json!({ "fills": self.fills, "steps": self.steps });
        let mut metrics = ArtifactWriter::new(Meta::new(Kind::Metrics, "metrics", metrics_config));
        metrics.add(mn::IMAGE_INDEX, &[n], &image_index)?;
        metrics.add(mn::P0, &[n], &p0)?;
        // The drop curve of the line f(x^(k)) = p0 (1 - d k / L): p0 d k / L.
        let line = |p0: f64, d: f64| (0..width).map(move |k| p0 * d * k as f64 / self.steps as f64);
        for fill in &self.fills {
            for (m, method) in self.methods.iter().enumerate() {
                for order in ["morf", "lerf"] {
                    let curves: Vec<f64> = p0
                        .iter()
                        .flat_map(|&p| line(p, self.slope(&mut rng, m, order)))
                        .collect();
                    metrics.add(&mn::drop(method, order, fill), &[n, width], &curves)?;
                }
                let f: Vec<f32> = (0..n).map(|_| self.faithfulness(&mut rng, m)).collect();
                metrics.add(&mn::faithfulness(method, fill), &[n], &f)?;
            }
            // Ordering r has slope 0.3 + 0.1 r on every image; the mean curve has the mean slope.
            let slopes: Vec<f64> = (0..self.orderings).map(|r| 0.3 + 0.1 * r as f64).collect();
            let mean_slope = slopes.iter().sum::<f64>() / slopes.len() as f64;
            let mean_curves: Vec<f64> = p0.iter().flat_map(|&p| line(p, mean_slope)).collect();
            metrics.add(&mn::random_mean_drop(fill), &[n, width], &mean_curves)?;
            let mean_p0 = p0.iter().sum::<f64>() / n as f64;
            let per_ordering: Vec<f64> = slopes
                .iter()
                .flat_map(|&d| {
                    (0..width).map(move |l| mean_p0 * d * l as f64 / (2.0 * self.steps as f64))
                })
                .collect();
            metrics.add(
                &mn::random_aopc(fill),
                &[self.orderings, width],
                &per_ordering,
            )?;
        }
        metrics.write(&metrics_dir.join(Kind::Metrics.file_name()))?;
        Ok(())
    }
}
