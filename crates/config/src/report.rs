//! `[report]`: figures and tables.

use serde::{Deserialize, Serialize};

/// `[report]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    /// Classes shown in Figure 1 (one correctly classified image each, when present).
    pub figure1_classes: Vec<String>,
    /// Figure 1 takes, per class, the first correctly classified evaluated image (in test-set
    /// order) with at least this confidence, as the paper did with 0.99; when there is none,
    /// the most confident correctly classified one.
    pub figure1_min_confidence: f64,
    /// Figure 1 draws each image pixel as a square of this many pixels.
    pub figure1_scale: u32,
    /// Histogram bins of each Figure 2b panel.
    pub histogram_bins: usize,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            figure1_classes: ["dog", "frog", "horse", "ship", "truck"]
                .map(str::to_owned)
                .to_vec(),
            figure1_min_confidence: 0.99,
            figure1_scale: 4,
            histogram_bins: 40,
        }
    }
}

impl ReportConfig {
    /// Checks values.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.figure1_min_confidence) {
            return Err(format!(
                "figure1_min_confidence = {}: must be in [0, 1]",
                self.figure1_min_confidence
            ));
        }
        if !(1..=16).contains(&self.figure1_scale) {
            return Err(format!(
                "figure1_scale = {}: must be in 1..=16",
                self.figure1_scale
            ));
        }
        if !(1..=1000).contains(&self.histogram_bins) {
            return Err(format!(
                "histogram_bins = {}: must be in 1..=1000",
                self.histogram_bins
            ));
        }
        if let Some(dup) = self
            .figure1_classes
            .iter()
            .enumerate()
            .find(|(i, c)| self.figure1_classes[..*i].contains(c))
        {
            return Err(format!("figure1_classes lists {:?} twice", dup.1));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        assert!(ReportConfig::default().validate().is_ok());
        let bad = ReportConfig {
            figure1_min_confidence: 1.5,
            ..ReportConfig::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .contains("figure1_min_confidence"));
        let bad = ReportConfig {
            histogram_bins: 0,
            ..ReportConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("histogram_bins"));
        let bad = ReportConfig {
            figure1_classes: vec!["dog".into(), "dog".into()],
            ..ReportConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("dog"));
    }
}
