//! `[data]`: where the CIFAR-10 batches come from and how the training set is split.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The environment variable naming a folder with the CIFAR-10 binary batches.
pub const CIFAR10_DIR_ENV: &str = "SAL_CIFAR10_DIR";

/// `[data]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// Folder with `data_batch_1.bin` .. `data_batch_5.bin` and `test_batch.bin`. Relative
    /// paths are relative to the config file. When absent: `SAL_CIFAR10_DIR`, else download.
    pub dir: Option<PathBuf>,
    /// Check each batch file against its official SHA-256. With `false`, any data set in the
    /// same binary format is accepted, and every record is still validated.
    pub verify: bool,
    /// Seed of the 45,000 / 5,000 train / validation split.
    pub seed: u64,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            dir: None,
            verify: true,
            seed: 0,
        }
    }
}

/// The part of `[data]` that determines the artifact (no machine-local path).
#[derive(Debug, Serialize)]
pub struct DataIdentity {
    /// See [`DataConfig::verify`].
    pub verify: bool,
    /// See [`DataConfig::seed`].
    pub seed: u64,
}

impl DataConfig {
    /// Checks values.
    pub fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    /// The fields that enter the cache key and the metadata.
    pub fn identity(&self) -> DataIdentity {
        DataIdentity {
            verify: self.verify,
            seed: self.seed,
        }
    }
}
