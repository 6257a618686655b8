//! Errors of the data stage. Every variant that concerns a file names it, says what is wrong
//! and, where the user can fix it, what to do.

use std::path::PathBuf;

use crate::official::{ARCHIVE_URL, FILE_BYTES, RECORDS_PER_FILE, RECORD_BYTES};

/// What to do about a missing, truncated or altered official batch file.
const FIX_FILE: &str = "re-download the official archive (https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz) \
and unpack it, or point `data.dir` in the config or the environment variable SAL_CIFAR10_DIR at a folder holding \
good copies of data_batch_1.bin .. data_batch_5.bin and test_batch.bin";

/// What went wrong reading, checking, fetching or writing CIFAR-10.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Reading or writing an artifact failed (the message names the file and the tensor).
    #[error(transparent)]
    Artifact(#[from] sal_artifact::ArtifactError),

    /// A file could not be read or written (the message of `fs_err` names it).
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// A batch file is absent from the folder the data is read from.
    #[error("{path}: missing (the folder was given by {origin}); {fix}", fix = FIX_FILE)]
    MissingFile { path: PathBuf, origin: String },

    /// A batch file does not hold exactly 10,000 records of 3,073 bytes.
    #[error(
        "{path}: {size} bytes ({records} whole records of {record_bytes} bytes{remainder}), expected {file_bytes} \
         bytes ({per_file} records): the file is truncated or not a CIFAR-10 binary batch; {fix}",
        records = .size / RECORD_BYTES as u64,
        remainder = stray(*.size),
        record_bytes = RECORD_BYTES,
        file_bytes = FILE_BYTES,
        per_file = RECORDS_PER_FILE,
        fix = FIX_FILE
    )]
    WrongSize { path: PathBuf, size: u64 },

    /// A batch file has the right size but not the official content.
    #[error(
        "{path}: SHA-256 {found} differs from the official {expected}: the file is corrupt or altered; {fix}; \
         or, if this is a non-official data set in the same binary format, set `data.verify = false` in the config",
        fix = FIX_FILE
    )]
    Checksum {
        path: PathBuf,
        expected: String,
        found: String,
    },

    /// Verification was asked for a file that is not one of the six official batch files.
    #[error(
        "{path}: not one of the official CIFAR-10 batch file names, so there is no official SHA-256 to check it \
         against; set `data.verify = false` to read a non-official file"
    )]
    UnknownFile { path: PathBuf },

    /// A record's label is not a class index 0..=9.
    #[error("{path}: record {record} (byte offset {offset}) has label {label}, expected 0..=9: not a CIFAR-10 batch",
        offset = *.record as u64 * RECORD_BYTES as u64)]
    BadLabel {
        path: PathBuf,
        record: usize,
        label: u8,
    },

    /// No local copy was configured and the official archive could not be fetched.
    #[error(
        "no CIFAR-10 data: neither `data.dir` in the config nor the environment variable SAL_CIFAR10_DIR is set, \
         no earlier download is in {downloads}, and downloading {url} failed: {message}. \
         To use a local copy of the binary version, set `dir = \"/path/to/cifar-10-batches-bin\"` under [data] in \
         the config (relative paths are relative to the config file) or export \
         SAL_CIFAR10_DIR=/path/to/cifar-10-batches-bin; the folder must hold data_batch_1.bin .. data_batch_5.bin \
         and test_batch.bin"
    )]
    Download {
        url: String,
        downloads: PathBuf,
        message: String,
    },

    /// The downloaded archive does not have the official MD5.
    #[error(
        "{path}: MD5 {found} differs from the official {expected}: the download is corrupt or incomplete; \
         delete it and run again, or download {url} yourself and point `data.dir` or SAL_CIFAR10_DIR at \
         the unpacked folder",
        url = ARCHIVE_URL
    )]
    ArchiveChecksum {
        path: PathBuf,
        expected: String,
        found: String,
    },

    /// The archive is not a readable tar.gz, or lacks some batch files.
    #[error("{path}: {message}")]
    Archive { path: PathBuf, message: String },

    /// A `batches.meta.txt` that does not list ten class names.
    #[error("{path}: {message}")]
    ClassNames { path: PathBuf, message: String },

    /// A flat image buffer whose length is not a whole number of 3x32x32 images.
    #[error("{what}: {len} bytes is not a whole number of 3x32x32 images (3072 bytes each)")]
    BadImageBuffer { what: String, len: usize },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, DataError>;

/// `" and N stray bytes"` when `size` is not a whole number of records, else nothing.
fn stray(size: u64) -> String {
    match size % RECORD_BYTES as u64 {
        0 => String::new(),
        rest => format!(" and {rest} stray bytes"),
    }
}
