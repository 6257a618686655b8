//! `[report]`: figures and tables.

use std::path::{Path, PathBuf};

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
    /// Runs of the same protocol that differ in one choice each (the model's training recipe,
    /// the uniform fill's draws, the edge baseline, ...), shown beside this run in the report's
    /// section "What moves the numbers": Table 1's headline cells, the claim count, and the
    /// claims whose verdict differs from this run's. Each names another config file, relative
    /// to the folder of this one: `variants = [{ name = "augmented model", config =
    /// "quick-augmented.toml" }]`. `cargo xtask pipeline` passes the report of each variant
    /// whose pipeline has a finished report for its current key (it never runs a variant's
    /// pipeline), and the report lists the others as not run. Empty by default. The config
    /// paths never enter the report's key (they are machine-local once resolved); the pipeline
    /// keys the report by each variant's name and report key instead.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<ReportVariant>,
}

/// One entry of `[report] variants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportVariant {
    /// The row label in the report (unique, non-empty, without `=`).
    pub name: String,
    /// The variant's config file; relative paths are relative to the folder of the config that
    /// names it (resolved by `Config::load`).
    pub config: PathBuf,
}

/// The part of `[report]` that enters the cache key and the metadata: everything but the
/// variants' config paths (the pipeline adds each variant's name and report key itself).
#[derive(Debug, Serialize)]
pub struct ReportIdentity<'a> {
    /// See [`ReportConfig::figure1_classes`].
    pub figure1_classes: &'a [String],
    /// See [`ReportConfig::figure1_min_confidence`].
    pub figure1_min_confidence: f64,
    /// See [`ReportConfig::figure1_scale`].
    pub figure1_scale: u32,
    /// See [`ReportConfig::histogram_bins`].
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
            variants: Vec::new(),
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
        for (i, variant) in self.variants.iter().enumerate() {
            let name = &variant.name;
            if name.trim().is_empty() {
                return Err(format!("variants[{i}]: the name is empty"));
            }
            if name.contains('=') {
                return Err(format!(
                    "variants[{i}]: the name {name:?} holds `=` (the pipeline passes NAME=DIR)"
                ));
            }
            if self.variants[..i].iter().any(|v| &v.name == name) {
                return Err(format!("variants: the name {name:?} is used twice"));
            }
            if variant.config.as_os_str().is_empty() {
                return Err(format!(
                    "variants[{i}] ({name:?}): the config path is empty"
                ));
            }
        }
        Ok(())
    }

    /// The fields that enter the cache key and the metadata (no variant config path).
    pub fn identity(&self) -> ReportIdentity<'_> {
        ReportIdentity {
            figure1_classes: &self.figure1_classes,
            figure1_min_confidence: self.figure1_min_confidence,
            figure1_scale: self.figure1_scale,
            histogram_bins: self.histogram_bins,
        }
    }

    /// Resolves relative variant config paths against `base` (the config file's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        for variant in &mut self.variants {
            if variant.config.is_relative() {
                variant.config = base.join(&variant.config);
            }
        }
    }

    /// Checks that no variant names `config_path`, the config file that lists them (whose
    /// report would then compare itself with itself). Both paths are compared absolute and,
    /// when they exist, with links resolved.
    pub fn check_not_self(&self, config_path: &Path) -> Result<(), String> {
        let canonical = |p: &Path| {
            std::fs::canonicalize(p)
                .or_else(|_| std::path::absolute(p))
                .unwrap_or_else(|_| p.to_path_buf())
        };
        let own = canonical(config_path);
        match self.variants.iter().find(|v| canonical(&v.config) == own) {
            Some(v) => Err(format!(
                "variants: {:?} names this config itself ({})",
                v.name,
                v.config.display()
            )),
            None => Ok(()),
        }
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

    fn with_variants(names: &[(&str, &str)]) -> ReportConfig {
        ReportConfig {
            variants: names
                .iter()
                .map(|(name, config)| ReportVariant {
                    name: (*name).to_owned(),
                    config: PathBuf::from(config),
                })
                .collect(),
            ..ReportConfig::default()
        }
    }

    #[test]
    fn variant_names_are_unique_non_empty_and_without_equals() {
        assert!(with_variants(&[("a", "a.toml"), ("b", "b.toml")])
            .validate()
            .is_ok());
        let err = with_variants(&[("a", "a.toml"), ("a", "b.toml")])
            .validate()
            .unwrap_err();
        assert!(err.contains("\"a\" is used twice"), "{err}");
        let err = with_variants(&[("a", "a.toml"), (" ", "b.toml")])
            .validate()
            .unwrap_err();
        assert!(err.contains("variants[1]: the name is empty"), "{err}");
        let err = with_variants(&[("x=y", "a.toml")]).validate().unwrap_err();
        assert!(err.contains("holds `=`"), "{err}");
        let err = with_variants(&[("a", "")]).validate().unwrap_err();
        assert!(err.contains("config path is empty"), "{err}");
    }

    #[test]
    fn the_identity_leaves_out_the_variants() {
        let plain = serde_json::to_value(ReportConfig::default().identity()).unwrap();
        let with = serde_json::to_value(with_variants(&[("a", "/abs/a.toml")]).identity()).unwrap();
        assert_eq!(plain, with);
        assert!(!with.to_string().contains("a.toml"));
    }
}
