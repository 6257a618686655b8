//! Shared by the tests that read the real CIFAR-10 batches.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use sal_config::Config;

/// The folder of the real batches: `SAL_CIFAR10_DIR`, else the shared copy beside the checkout
/// (`../../../shared/data/cifar-10-batches-bin` from this crate). Panics with instructions when
/// neither holds the data: these tests must fail, never skip, without it.
pub fn cifar_dir() -> PathBuf {
    let (dir, from) = match std::env::var_os("SAL_CIFAR10_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => (PathBuf::from(dir), "SAL_CIFAR10_DIR"),
        None => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cifar-10-batches-bin"),
            "the default ../../../shared/data/cifar-10-batches-bin (SAL_CIFAR10_DIR is unset)",
        ),
    };
    let missing: Vec<&str> = sal_data::official::batch_files()
        .filter(|name| !dir.join(name).is_file())
        .collect();
    assert!(
        missing.is_empty(),
        "these tests need the real CIFAR-10 binary batches, and {} (from {from}) lacks {}: \
         set SAL_CIFAR10_DIR to a folder holding data_batch_1.bin .. data_batch_5.bin and test_batch.bin",
        dir.display(),
        missing.join(", ")
    );
    dir
}

/// A config reading the batches from `dir`.
pub fn config_for(dir: &Path, verify: bool, seed: u64) -> Config {
    let mut config = Config::default();
    config.data.dir = Some(dir.to_owned());
    config.data.verify = verify;
    config.data.seed = seed;
    config
}

/// Options that never download (the downloads folder is only used when no folder is given)
/// and draw no progress bars.
pub fn options(downloads: &Path) -> sal_data::RunOptions {
    sal_data::RunOptions {
        downloads_dir: downloads.to_owned(),
        progress: false,
    }
}
