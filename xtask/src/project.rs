//! Where things are: the repository root (sources, configs) and the artifacts folder.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sal_config::{Config, Stage};

/// Hex digits of the cache key used in folder names (64 bits; `key.json` holds the full key
/// and is checked, so a prefix collision is never mistaken for a cached stage).
pub const FOLDER_KEY_LEN: usize = 16;

/// The repository and the artifacts folder a command works on.
#[derive(Debug, Clone)]
pub struct Project {
    /// The repository root: `crates/` (hashed into cache keys) and `configs/` live here.
    pub root: PathBuf,
    /// The artifacts folder: `<stage>/<key>/`, `.tmp/`, `.lock`.
    pub artifacts: PathBuf,
}

impl Project {
    /// The repository this xtask was built from, with `artifacts` (default `<root>/artifacts`).
    pub fn this_repository(artifacts: Option<&Path>) -> anyhow::Result<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("xtask's manifest folder has no parent")?
            .to_path_buf();
        let artifacts = match artifacts {
            Some(dir) => {
                std::path::absolute(dir).with_context(|| format!("resolving {}", dir.display()))?
            }
            None => root.join("artifacts"),
        };
        Ok(Project { root, artifacts })
    }

    /// A project with explicit folders (for tests).
    pub fn new(root: impl Into<PathBuf>, artifacts: impl Into<PathBuf>) -> Self {
        Project {
            root: root.into(),
            artifacts: artifacts.into(),
        }
    }

    /// The absolute path of the config to use: `config` relative to the current folder, or
    /// `configs/quick.toml` at the repository root.
    pub fn config_path(&self, config: Option<&Path>) -> anyhow::Result<PathBuf> {
        match config {
            Some(path) => {
                std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))
            }
            None => Ok(self.root.join("configs").join("quick.toml")),
        }
    }

    /// Loads and validates the config (errors name the file and the key).
    pub fn load_config(&self, path: &Path) -> anyhow::Result<Config> {
        Config::load(path).with_context(|| format!("loading config {}", path.display()))
    }

    /// `artifacts/<stage>/`.
    pub fn stage_dir(&self, stage: Stage) -> PathBuf {
        self.artifacts.join(stage.name())
    }

    /// `artifacts/<stage>/<key prefix>/`, the folder of a finished stage.
    pub fn folder(&self, stage: Stage, key: &str) -> PathBuf {
        self.stage_dir(stage).join(short_key(key))
    }

    /// `artifacts/.tmp/`, where stage folders are built before they are renamed into place.
    pub fn tmp_dir(&self) -> PathBuf {
        self.artifacts.join(".tmp")
    }

    /// `artifacts/.lock`, held by a running pipeline.
    pub fn lock_path(&self) -> PathBuf {
        self.artifacts.join(".lock")
    }

    /// A path relative to the repository root when it lies inside it (for messages).
    pub fn display<'a>(&self, path: &'a Path) -> std::path::Display<'a> {
        path.strip_prefix(&self.root).unwrap_or(path).display()
    }
}

/// The key prefix used in folder names.
pub fn short_key(key: &str) -> &str {
    &key[..key.len().min(FOLDER_KEY_LEN)]
}
