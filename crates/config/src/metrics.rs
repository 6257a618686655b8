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
    /// Store the full random curves `curve.random.<fill>` [R, N, L+1].
    pub store_random_curves: bool,
    /// Seed of orderings' tie-breaking, random orderings, faithfulness pixels and fills.
    pub seed: u64,
    /// Forward-pass batch size.
    pub batch_size: usize,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            steps: 100,
            random_orderings: 100,
            faithfulness_pixels: 100,
            fills: vec!["mean".to_owned(), "uniform".to_owned()],
            store_random_curves: false,
            seed: 3,
            batch_size: 256,
        }
    }
}

impl MetricsConfig {
    /// Checks values (fill names are checked by the perturbation crate, which knows them).
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=1024).contains(&self.steps) {
            return Err(format!("steps = {}: must be in 1..=1024", self.steps));
        }
        if !(2..=1024).contains(&self.faithfulness_pixels) {
            return Err(format!("faithfulness_pixels = {}: must be in 2..=1024", self.faithfulness_pixels));
        }
        if self.fills.is_empty() {
            return Err("fills is empty: name at least one fill".to_owned());
        }
        if self.batch_size == 0 {
            return Err("batch_size = 0: must be at least 1".to_owned());
        }
        Ok(())
    }
}
