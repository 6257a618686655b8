//! `[stats]`: the reliability statistics.

use serde::{Deserialize, Serialize};

/// `[stats]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatsConfig {
    /// Krippendorff's alpha level: `nominal`, `ordinal`, `interval` or `ratio`.
    pub alpha_level: String,
    /// Bootstrap resamples.
    pub bootstrap: usize,
    /// Confidence level of the alpha intervals (Table 1).
    pub alpha_ci: f64,
    /// Confidence level of the global-score intervals.
    pub mean_ci: f64,
    /// AOPC step counts L reported in Table 1.
    pub aopc_steps: Vec<usize>,
    /// Confidence threshold of the low/high-confidence breakdown.
    pub confidence_threshold: f64,
    /// Seed of the bootstrap.
    pub seed: u64,
}

impl Default for StatsConfig {
    fn default() -> Self {
        StatsConfig {
            alpha_level: "ordinal".to_owned(),
            bootstrap: 10_000,
            alpha_ci: 0.999,
            mean_ci: 0.95,
            aopc_steps: vec![20, 40, 60, 80, 100],
            confidence_threshold: 0.8,
            seed: 4,
        }
    }
}

impl StatsConfig {
    /// Checks values.
    pub fn validate(&self) -> Result<(), String> {
        if !["nominal", "ordinal", "interval", "ratio"].contains(&self.alpha_level.as_str()) {
            return Err(format!(
                "alpha_level = {:?}: expected \"nominal\", \"ordinal\", \"interval\" or \"ratio\"",
                self.alpha_level
            ));
        }
        for (name, level) in [("alpha_ci", self.alpha_ci), ("mean_ci", self.mean_ci)] {
            if !(level > 0.0 && level < 1.0) {
                return Err(format!("{name} = {level}: must be in (0, 1)"));
            }
        }
        if self.aopc_steps.contains(&0) {
            return Err("aopc_steps contains 0: AOPC needs at least one step".to_owned());
        }
        Ok(())
    }
}
