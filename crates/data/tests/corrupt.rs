//! Corrupt input: each case stops the stage with an error that names the file and says what
//! to do, and writes nothing into the output folder.

mod common;

use std::path::{Path, PathBuf};

use sal_data::official::{batch_files, RECORD_BYTES};
use sal_data::{run_with, DataError, DataOutputs};

/// A folder with every batch linked from the real data except `replaced`, which is written
/// from `edit(original bytes)` (or left out when `edit` returns `None`).
fn folder_with(replaced: &str, edit: impl FnOnce(Vec<u8>) -> Option<Vec<u8>>) -> tempfile::TempDir {
    let real = common::cifar_dir();
    let tmp = tempfile::tempdir().unwrap();
    let mut edit = Some(edit);
    for name in batch_files() {
        let (from, to) = (real.join(name), tmp.path().join(name));
        if name == replaced {
            let edit = edit.take().expect("one file replaced");
            if let Some(bytes) = edit(std::fs::read(&from).unwrap()) {
                std::fs::write(&to, bytes).unwrap();
            }
        } else {
            link(&from, &to);
        }
    }
    tmp
}

fn link(from: &Path, to: &Path) {
    #[cfg(unix)]
    std::os::unix::fs::symlink(from, to).unwrap();
    #[cfg(not(unix))]
    std::fs::copy(from, to).unwrap();
}

/// Runs the stage on `dir`; returns the result and the output folder (which must not exist
/// after an error).
fn run_on(dir: &Path, verify: bool) -> (Result<DataOutputs, DataError>, PathBuf) {
    let out = dir.join("out");
    let config = common::config_for(dir, verify, 0);
    (
        run_with(&config, &out, &common::options(&dir.join("downloads"))),
        out,
    )
}

fn assert_mentions(err: &DataError, needles: &[&str]) {
    let text = err.to_string();
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} not in: {text}");
    }
}

#[test]
fn a_truncated_file_is_refused() {
    let dir = folder_with("data_batch_3.bin", |mut b| {
        b.truncate(b.len() - 1000);
        Some(b)
    });
    for verify in [true, false] {
        let (result, out) = run_on(dir.path(), verify);
        let err = result.unwrap_err();
        assert!(
            matches!(
                err,
                DataError::WrongSize {
                    size: 30_729_000,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_mentions(
            &err,
            &[
                "data_batch_3.bin",
                "30729000 bytes",
                "truncated",
                "SAL_CIFAR10_DIR",
                "data.dir",
            ],
        );
        assert!(!out.exists(), "nothing written");
    }
}

#[test]
fn a_flipped_byte_is_refused_with_verification_and_accepted_without() {
    let dir = folder_with("test_batch.bin", |mut b| {
        b[5 * RECORD_BYTES + 700] ^= 0x01; // a pixel of test image 5, not a label
        Some(b)
    });
    let (result, out) = run_on(dir.path(), true);
    let err = result.unwrap_err();
    assert!(matches!(err, DataError::Checksum { .. }), "{err:?}");
    assert_mentions(
        &err,
        &[
            "test_batch.bin",
            "SHA-256",
            "8e2eb146",
            "re-download",
            "SAL_CIFAR10_DIR",
            "data.verify = false",
        ],
    );
    assert!(!out.exists(), "nothing written");

    // The same bytes are a valid non-official data set.
    let (result, out) = run_on(dir.path(), false);
    let outputs = result.unwrap();
    assert!(!outputs.verified && outputs.dataset.starts_with(&out));
    assert_ne!(
        Some(outputs.source_sha256["test_batch.bin"].as_str()),
        sal_data::official::sha256_of("test_batch.bin")
    );
}

#[test]
fn a_label_of_10_is_refused_without_verification_with_its_record() {
    let dir = folder_with("data_batch_4.bin", |mut b| {
        b[1234 * RECORD_BYTES] = 10;
        Some(b)
    });
    let (result, out) = run_on(dir.path(), false);
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            DataError::BadLabel {
                record: 1234,
                label: 10,
                ..
            }
        ),
        "{err:?}"
    );
    assert_mentions(&err, &["data_batch_4.bin", "record 1234", "label 10"]);
    assert!(!out.exists(), "nothing written");
}

#[test]
fn a_missing_file_is_refused_naming_it_and_where_the_folder_came_from() {
    let dir = folder_with("data_batch_5.bin", |_| None);
    let (result, out) = run_on(dir.path(), true);
    let err = result.unwrap_err();
    assert!(matches!(err, DataError::MissingFile { .. }), "{err:?}");
    assert_mentions(
        &err,
        &[
            "data_batch_5.bin",
            "missing",
            "`data.dir` in the config",
            "SAL_CIFAR10_DIR",
        ],
    );
    assert!(!out.exists(), "nothing written");
}

#[test]
fn a_malformed_class_name_file_is_refused() {
    let dir = folder_with("test_batch.bin", Some);
    std::fs::write(dir.path().join("batches.meta.txt"), "cat\ndog\n").unwrap();
    let (result, out) = run_on(dir.path(), true);
    let err = result.unwrap_err();
    assert_mentions(
        &err,
        &["batches.meta.txt", "expected 10 class names", "found 2"],
    );
    assert!(!out.exists(), "nothing written");
}
