//! The pipeline configuration of `sal`.
//!
//! One TOML file, one section per stage. The key design decision: **each stage sees only its
//! own section**, and the canonical JSON of that section (minus machine-local paths) is what
//! enters the stage's cache key and its artifacts' metadata. So changing `[metrics]` re-runs
//! `metrics` and what follows it, never `train`.
//!
//! Every struct rejects unknown keys; [`Config::load`] names the file in every error.

pub mod attribute;
pub mod data;
pub mod device;
pub mod error;
pub mod external;
pub mod metrics;
pub mod report;
pub mod sanity;
pub mod stage;
pub mod stats;
pub mod train;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use attribute::AttributeConfig;
pub use data::DataConfig;
pub use device::Backend;
pub use error::ConfigError;
pub use external::ExternalConfig;
pub use metrics::MetricsConfig;
pub use report::{ReportConfig, ReportVariant};
pub use sanity::SanityConfig;
pub use stage::Stage;
pub use stats::StatsConfig;
pub use train::TrainConfig;

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[data]`: where CIFAR-10 comes from and how the training set is split.
    #[serde(default)]
    pub data: DataConfig,
    /// `[train]`: the model and how it is trained.
    #[serde(default)]
    pub train: TrainConfig,
    /// `[attribute]`: saliency methods and which test images they explain.
    #[serde(default)]
    pub attribute: AttributeConfig,
    /// `[metrics]`: AOPC and faithfulness.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// `[stats]`: reliability statistics.
    #[serde(default)]
    pub stats: StatsConfig,
    /// `[sanity]`: model and data randomisation checks of the methods and the metrics.
    #[serde(default)]
    pub sanity: SanityConfig,
    /// `[report]`: figures and tables.
    #[serde(default)]
    pub report: ReportConfig,
    /// `[external]`: stages replaced by external programs.
    #[serde(default, skip_serializing_if = "external_is_empty")]
    pub external: ExternalConfig,
}

fn external_is_empty(external: &ExternalConfig) -> bool {
    external.commands.is_empty()
}

impl Config {
    /// Reads, parses and validates a config file.
    ///
    /// Relative paths inside the file (such as `data.dir`) are resolved against the folder of
    /// the config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = fs_err::read_to_string(path)?;
        let mut config = Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_owned(),
            message,
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        config.resolve_paths(&base);
        config
            .validate()
            .and_then(|()| {
                config
                    .report
                    .check_not_self(path)
                    .map_err(|e| format!("[report] {e}"))
            })
            .map_err(|message| ConfigError::Invalid {
                path: path.to_owned(),
                message,
            })?;
        Ok(config)
    }

    /// Parses TOML text (no path resolution, no validation).
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    fn resolve_paths(&mut self, base: &Path) {
        if let Some(dir) = &self.data.dir {
            if dir.is_relative() {
                self.data.dir = Some(base.join(dir));
            }
        }
        self.report.resolve_paths(base);
    }

    /// Checks every section; the message names the offending key as `section.key`.
    pub fn validate(&self) -> Result<(), String> {
        let in_section = |section: &str, checked: Result<(), String>| {
            checked.map_err(|e| format!("[{section}] {e}"))
        };
        in_section("data", self.data.validate())?;
        in_section("train", self.train.validate())?;
        in_section("attribute", self.attribute.validate())?;
        in_section("metrics", self.metrics.validate())?;
        in_section("stats", self.stats.validate())?;
        in_section("sanity", self.sanity.validate())?;
        in_section("report", self.report.validate())?;
        in_section("external", self.external.validate())
    }

    /// The JSON of a stage's section as it enters cache keys and artifact metadata: every
    /// field that can change the artifact, and nothing machine-local (no paths).
    pub fn section_json(&self, stage: Stage) -> serde_json::Value {
        let value = match stage {
            Stage::Data => serde_json::to_value(self.data.identity()),
            Stage::Train => serde_json::to_value(&self.train),
            Stage::Attribute => serde_json::to_value(&self.attribute),
            Stage::Metrics => Ok(self.metrics.identity()),
            Stage::Stats => serde_json::to_value(&self.stats),
            Stage::Sanity => serde_json::to_value(&self.sanity),
            Stage::Report => serde_json::to_value(self.report.identity()),
        };
        value.expect("config sections are always representable as JSON")
    }
}

/// Where `data.dir` or `SAL_CIFAR10_DIR` points, if anywhere: the explicit config wins.
pub fn cifar10_dir(config: &Config) -> Option<PathBuf> {
    config.data.dir.clone().or_else(|| {
        std::env::var_os(data::CIFAR10_DIR_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let err = Config::parse("[data]\nseed = 1\nsede = 2\n").unwrap_err();
        assert!(err.contains("sede"), "{err}");
        let err = Config::parse("[dta]\nseed = 1\n").unwrap_err();
        assert!(err.contains("dta"), "{err}");
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[data]\nverify = \"yes\"\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("bad.toml") && err.contains("verify"), "{err}");
    }

    #[test]
    fn data_dir_is_resolved_against_the_config_folder_and_kept_out_of_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[data]\ndir = \"cifar\"\nseed = 7\n").unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(
            config.data.dir.as_deref(),
            Some(dir.path().join("cifar").as_path())
        );
        let json = config.section_json(Stage::Data).to_string();
        assert!(!json.contains("cifar"), "{json}");
        assert!(json.contains('7'), "{json}");
    }

    #[test]
    fn external_commands_name_known_stages() {
        let config = Config::parse("[external]\nattribute = [\"python3\", \"maps.py\"]\n").unwrap();
        assert_eq!(
            config.external.command(Stage::Attribute).unwrap(),
            ["python3", "maps.py"]
        );
        assert!(config.external.command(Stage::Train).is_none());
        let bad = Config::parse("[external]\nattribut = [\"x\"]\n").unwrap();
        assert!(bad.validate().unwrap_err().contains("attribut"));
        let empty = Config::parse("[external]\nstats = []\n").unwrap();
        assert!(empty.validate().is_err());
    }

    #[test]
    fn devices_enter_the_attribute_and_metrics_keys_only_when_not_the_cpu() {
        let plain = Config::default();
        for stage in [Stage::Attribute, Stage::Metrics] {
            let json = plain.section_json(stage);
            assert!(json.get("device").is_none() && json.get("backend").is_none());
        }
        let gpu = Config::parse(
            "[attribute]\ndevice = \"cuda:1\"\n[metrics]\ndevice = \"metal\"\nbackend = \"candle\"\n",
        )
        .unwrap();
        gpu.validate().unwrap();
        assert_eq!(gpu.section_json(Stage::Attribute)["device"], "cuda:1");
        assert_eq!(gpu.section_json(Stage::Metrics)["backend"], "candle");
        let bad = Config::parse("[metrics]\ndevice = \"cuda:0\"\nbackend = \"fast\"\n").unwrap();
        assert!(bad.validate().unwrap_err().contains("[metrics] backend"));
        let bad = Config::parse("[attribute]\ndevice = \"gpu\"\n").unwrap();
        assert!(bad.validate().unwrap_err().contains("[attribute] device"));
    }

    #[test]
    fn report_variants_are_relative_to_the_config_and_never_the_config_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[report]\nvariants = [{ name = \"aug\", config = \"sub/aug.toml\" }]\n",
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(
            config.report.variants[0].config,
            dir.path().join("sub/aug.toml")
        );
        let json = config.section_json(Stage::Report).to_string();
        assert!(!json.contains("aug"), "{json}");

        std::fs::write(
            &path,
            "[report]\nvariants = [{ name = \"me\", config = \"./c.toml\" }]\n",
        )
        .unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("c.toml")
                && err.contains("[report] variants: \"me\" names this config itself"),
            "{err}"
        );
        std::fs::write(
            &path,
            "[report]\nvariants = [{ name = \"a\", config = \"a.toml\", note = \"x\" }]\n",
        )
        .unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("note"), "{err}");
    }
}
