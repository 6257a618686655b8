//! `[stats]`: the reliability statistics (defaults: the paper's protocol).

use serde::{Deserialize, Serialize};

/// `[stats]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatsConfig {
    /// Krippendorff's alpha level of the per-image method ranks: `nominal`, `ordinal`,
    /// `interval` or `ratio`.
    pub alpha_level: String,
    /// Bootstrap resamples B (of the images, with replacement), at least 1.
    pub bootstrap: usize,
    /// Confidence level of the alpha intervals (Table 1).
    pub alpha_ci: f64,
    /// Confidence level of the intervals of mean scores (global and per group).
    pub mean_ci: f64,
    /// AOPC step counts L reported in Table 1, the inter-method correlations and the global
    /// scores; values above the curves' length are skipped with a warning.
    pub aopc_steps: Vec<usize>,
    /// L of the AOPC in Table 2 (internal consistency); the curves' length if it is shorter.
    pub consistency_steps: usize,
    /// The model-free baseline method: Table 1 and the inter-method correlations are also
    /// computed without it (`without_<name>`). No such rows when no method has this name.
    pub baseline_method: String,
    /// Confidence threshold of the breakdown: images with confidence <= threshold versus the rest.
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
            consistency_steps: 100,
            baseline_method: "edge".to_owned(),
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
        if self.bootstrap == 0 {
            return Err("bootstrap = 0: must be at least 1".to_owned());
        }
        if self.aopc_steps.is_empty() {
            return Err("aopc_steps is empty: name at least one L".to_owned());
        }
        if self.aopc_steps.contains(&0) {
            return Err("aopc_steps contains 0: AOPC needs at least one step".to_owned());
        }
        if let Some(dup) = self
            .aopc_steps
            .iter()
            .enumerate()
            .find(|(i, l)| self.aopc_steps[..*i].contains(l))
        {
            return Err(format!("aopc_steps lists {} twice", dup.1));
        }
        if self.consistency_steps == 0 {
            return Err("consistency_steps = 0: AOPC needs at least one step".to_owned());
        }
        if !(self.confidence_threshold.is_finite()) {
            return Err(format!(
                "confidence_threshold = {}: must be a finite number",
                self.confidence_threshold
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_papers_protocol_and_validate() {
        let c = StatsConfig::default();
        assert_eq!(
            (c.alpha_level.as_str(), c.bootstrap, c.alpha_ci, c.mean_ci),
            ("ordinal", 10_000, 0.999, 0.95)
        );
        assert_eq!(c.aopc_steps, [20, 40, 60, 80, 100]);
        assert_eq!(
            (
                c.consistency_steps,
                c.baseline_method.as_str(),
                c.confidence_threshold
            ),
            (100, "edge", 0.8)
        );
        c.validate().unwrap();
    }

    #[test]
    fn bad_values_are_named() {
        let bad = |f: &dyn Fn(&mut StatsConfig), needle: &str| {
            let mut c = StatsConfig::default();
            f(&mut c);
            let err = c.validate().unwrap_err();
            assert!(err.contains(needle), "{err}");
        };
        bad(&|c| c.alpha_level = "ordinals".into(), "alpha_level");
        bad(&|c| c.bootstrap = 0, "bootstrap");
        bad(&|c| c.alpha_ci = 1.0, "alpha_ci");
        bad(&|c| c.aopc_steps = vec![20, 20], "twice");
        bad(&|c| c.aopc_steps = vec![], "aopc_steps");
        bad(&|c| c.consistency_steps = 0, "consistency_steps");
        bad(
            &|c| c.confidence_threshold = f64::NAN,
            "confidence_threshold",
        );
    }
}
