//! `[report]`: figures and tables.

use serde::{Deserialize, Serialize};

/// `[report]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    /// Classes shown in Figure 1 (one correctly classified image each, when present).
    pub figure1_classes: Vec<String>,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig { figure1_classes: ["dog", "frog", "horse", "ship", "truck"].map(str::to_owned).to_vec() }
    }
}

impl ReportConfig {
    /// Checks values.
    pub fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}
