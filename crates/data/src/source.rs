//! Where the batch files come from: `data.dir`, else `SAL_CIFAR10_DIR`, else a download.

use std::path::{Path, PathBuf};

use sal_config::data::CIFAR10_DIR_ENV;
use sal_config::Config;

use crate::download::fetch_official;
use crate::error::Result;

/// How the folder of batch files was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `data.dir` in the config.
    ConfigDir,
    /// The environment variable `SAL_CIFAR10_DIR`.
    EnvVar,
    /// The official archive, downloaded (now or by an earlier run) into the downloads folder.
    Download,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::ConfigDir => f.write_str("`data.dir` in the config"),
            Origin::EnvVar => write!(f, "the environment variable {CIFAR10_DIR_ENV}"),
            Origin::Download => f.write_str("the download of the official archive"),
        }
    }
}

/// A folder expected to hold the six batch files, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The folder.
    pub dir: PathBuf,
    /// Where its path came from.
    pub origin: Origin,
}

/// Finds the batch files: `data.dir` in the config, else `SAL_CIFAR10_DIR`, else the official
/// archive downloaded into `downloads_dir` (reused if an earlier run fetched it).
///
/// An explicitly given folder is never replaced by a download: if it lacks files, reading them
/// fails with an error naming the missing file and where the folder came from. With no folder
/// given and no network, the error says how to point at a local copy. `progress` draws the
/// download's progress bar.
pub fn locate_or_download(config: &Config, downloads_dir: &Path, progress: bool) -> Result<Source> {
    if let Some(dir) = &config.data.dir {
        return Ok(Source {
            dir: dir.clone(),
            origin: Origin::ConfigDir,
        });
    }
    if let Some(dir) = sal_config::cifar10_dir(config) {
        return Ok(Source {
            dir,
            origin: Origin::EnvVar,
        });
    }
    let dir = fetch_official(downloads_dir, progress)?;
    Ok(Source {
        dir,
        origin: Origin::Download,
    })
}
