//! What the pipeline tests of this crate share: the repository root and the real CIFAR-10.

use std::path::{Path, PathBuf};

/// The repository root (two levels above this crate).
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root")
}

/// The real CIFAR-10 batches: `SAL_CIFAR10_DIR`, else `../shared` beside the repository. Fails
/// (never skips) with instructions when neither holds them.
pub fn cifar_dir() -> PathBuf {
    let dir = match std::env::var_os("SAL_CIFAR10_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => repository().join("../shared/data/cifar-10-batches-bin"),
    };
    assert!(
        dir.join("test_batch.bin").is_file(),
        "this test needs the real CIFAR-10 binary batches, and {} has no test_batch.bin: \
         set SAL_CIFAR10_DIR to the folder holding data_batch_1.bin .. test_batch.bin",
        dir.display()
    );
    std::path::absolute(dir).unwrap()
}
