//! `[metrics]`: AOPC curves (MoRF, LeRF, random) and faithfulness.

use serde::{Deserialize, Serialize};

/// `[metrics]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// L: perturbation steps per curve.
    pub steps: usize,
    /// R: random orderings for the baseline.
    pub random_orderings: usize,
    /// P: pixels perturbed one at a time for faithfulness.
    pub faithfulness_pixels: usize,
    /// Fills (perturbation functions) by name.
    pub fills: Vec<String>,
    /// How the `uniform` fill draws its random colours: `paired` (one replacement image per
    /// test image, shared by every method, order, random ordering and faithfulness pixel, so
    /// the methods are compared on the same colours) or `independent` (a fresh seeded image
    /// per (method, order) curve, per random ordering and per method's faithfulness pixels, as
    /// the paper's random RGB perturbation most likely drew them; faithfulness then needs its
    /// own Deltas per method: (M - 1) x P more forward passes per image).
    pub uniform_draws: String,
    /// Store the full random curves `curve.random.<fill>` [R, N, L+1].
    pub store_random_curves: bool,
    /// Seed of orderings' tie-breaking, random orderings, faithfulness pixels and fills.
    pub seed: u64,
    /// Forward-pass batch size: the perturbed inputs of one image are run through the model in
    /// batches of at most this many (balanced, so no batch is much smaller than the others).
    pub batch_size: usize,
    /// Images per checkpoint: after each chunk of this many images the stage writes the
    /// chunk's results to `<out>/checkpoint/`, so a killed run resumes from the last chunk.
    /// Results do not depend on it.
    pub checkpoint_images: usize,
    /// Recompute each pass only where its one perturbed pixel reaches (the activations of the
    /// pass it extends are kept: about 0.5 MiB per pass in flight, at most 64 in flight), instead
    /// of running the whole network on every pass. Same numbers as the full pass (bitwise on
    /// the fast CPU path) for about 14 of the 38.6 M multiply-adds of a pass; `false` runs the
    /// full pass, the reference. Applies to the fast CPU model; other classifiers always run
    /// full passes.
    pub incremental: bool,
    /// `cpu` (default), `cuda:N` or `metal`: where the network runs. A device that is not
    /// present, or not built in (`--features cuda` / `metal`), is an error naming it, never a
    /// fallback to the CPU. It is part of the section, and so of the stage's cache key and
    /// metadata, because results differ in the last bits between devices (different kernels
    /// sum in different orders); the default `cpu` is left out of the JSON, so the keys of
    /// configs that do not set it are the keys they had before the key existed.
    #[serde(skip_serializing_if = "crate::device::is_cpu")]
    pub device: String,
    /// `auto` (default: the fast CPU kernels on `cpu`, candle elsewhere), `fast` or `candle`
    /// (candle on the CPU too: the reference path, and how the tests check the GPU path
    /// without a GPU). Left out of the JSON when `auto`.
    #[serde(skip_serializing_if = "crate::device::Backend::is_auto")]
    pub backend: crate::device::Backend,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            steps: 100,
            random_orderings: 100,
            faithfulness_pixels: 100,
            fills: vec!["mean".to_owned(), "uniform".to_owned()],
            uniform_draws: "paired".to_owned(),
            store_random_curves: false,
            seed: 3,
            batch_size: 256,
            checkpoint_images: 16,
            incremental: true,
            device: crate::device::cpu(),
            backend: crate::device::Backend::Auto,
        }
    }
}

impl MetricsConfig {
    /// The fields that enter the cache key and the metadata: all but `incremental`, which
    /// changes how the passes are computed, not one bit of what they give (the metrics tests
    /// check both paths against each other), so switching it reuses the cached results.
    pub fn identity(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self)
            .expect("the metrics section is always representable as JSON");
        if let serde_json::Value::Object(map) = &mut value {
            map.remove("incremental");
        }
        value
    }

    /// Checks values (fill names are checked by the perturbation crate, which knows them).
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=1024).contains(&self.steps) {
            return Err(format!("steps = {}: must be in 1..=1024", self.steps));
        }
        if !(2..=1024).contains(&self.faithfulness_pixels) {
            return Err(format!(
                "faithfulness_pixels = {}: must be in 2..=1024",
                self.faithfulness_pixels
            ));
        }
        if self.random_orderings == 0 {
            return Err(
                "random_orderings = 0: the random baseline needs at least 1 ordering".to_owned(),
            );
        }
        if self.fills.is_empty() {
            return Err("fills is empty: name at least one fill".to_owned());
        }
        if let Some(dup) = self
            .fills
            .iter()
            .enumerate()
            .find(|(i, f)| self.fills[..*i].contains(f))
        {
            return Err(format!("fills lists {:?} twice", dup.1));
        }
        if !["paired", "independent"].contains(&self.uniform_draws.as_str()) {
            return Err(format!(
                "uniform_draws = {:?}: must be \"paired\" or \"independent\"",
                self.uniform_draws
            ));
        }
        if self.batch_size == 0 {
            return Err("batch_size = 0: must be at least 1".to_owned());
        }
        if self.checkpoint_images == 0 {
            return Err("checkpoint_images = 0: must be at least 1".to_owned());
        }
        crate::device::validate(&self.device, self.backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_paper_protocol_and_bad_values_are_named() {
        let d = MetricsConfig::default();
        assert!(d.validate().is_ok());
        assert_eq!(
            (d.steps, d.random_orderings, d.faithfulness_pixels),
            (100, 100, 100)
        );
        let bad = MetricsConfig {
            fills: vec!["mean".into(), "mean".into()],
            ..MetricsConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("mean"));
        let bad = MetricsConfig {
            checkpoint_images: 0,
            ..MetricsConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("checkpoint_images"));
        let bad = MetricsConfig {
            random_orderings: 0,
            ..MetricsConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("random_orderings"));
        let bad = MetricsConfig {
            uniform_draws: "fresh".into(),
            ..MetricsConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("uniform_draws"));
    }

    #[test]
    fn incremental_is_on_by_default_and_not_part_of_the_identity() {
        let d = MetricsConfig::default();
        assert!(d.incremental);
        let full = MetricsConfig {
            incremental: false,
            ..MetricsConfig::default()
        };
        assert_eq!(d.identity(), full.identity());
        assert!(d.identity().get("incremental").is_none());
        assert!(d.identity().get("batch_size").is_some());
    }
}
