//! Reading and checking one CIFAR-10 binary batch file.
//!
//! A record is 3,073 bytes: the label, then 1024 red, 1024 green and 1024 blue bytes, each
//! plane row-major 32x32. So an image in NCHW order `[3, 32, 32]` is exactly its record minus
//! the label byte: reading is a copy, never a transpose.

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use sha2::{Digest, Sha256};

use crate::error::{DataError, Result};
use crate::official::{self, CLASSES, FILE_BYTES, IMAGE_BYTES, RECORD_BYTES};

/// The content of one batch file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The file it was read from.
    pub path: PathBuf,
    /// Images in NCHW order, u8 `[n, 3, 32, 32]`.
    pub images: Vec<u8>,
    /// Labels in `0..10`, `[n]`.
    pub labels: Vec<u8>,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
    /// Whether the SHA-256 was checked against the official one (and matched).
    pub verified: bool,
}

impl Batch {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// One image.
    ///
    /// # Shapes
    /// Returns u8 `[3, 32, 32]` (3,072 bytes, NCHW order).
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES]
    }
}

/// Reads one batch file and checks it.
///
/// Always: the size is exactly 10,000 records of 3,073 bytes, and every label is in `0..=9`.
/// With `verify`: the file's SHA-256 equals the official one for its file name (so the file
/// must be named like an official batch). The SHA-256 is computed either way and returned in
/// [`Batch::sha256`], so the artifact records which bytes it was made from.
///
/// # Shapes
/// The returned batch holds images u8 `[10000, 3, 32, 32]` and labels u8 `[10000]`.
pub fn read_batch(path: &Path, verify: bool) -> Result<Batch> {
    read_batch_with_progress(path, verify, &ProgressBar::hidden())
}

/// [`read_batch`], advancing `progress` by the bytes hashed.
pub(crate) fn read_batch_with_progress(
    path: &Path,
    verify: bool,
    progress: &ProgressBar,
) -> Result<Batch> {
    let bytes = fs_err::read(path)?;
    check_size(path, bytes.len() as u64)?;
    let sha256 = sha256_hex_with_progress(&bytes, progress);
    if verify {
        check_official(path, &sha256)?;
    }
    let (images, labels) = parse_records(path, &bytes)?;
    Ok(Batch {
        path: path.to_owned(),
        images,
        labels,
        sha256,
        verified: verify,
    })
}

/// Checks that a file is an official batch: its size, then its SHA-256 against the official
/// sum for its file name. Returns the SHA-256 (lower-case hex).
pub fn verify_file(path: &Path) -> Result<String> {
    let bytes = fs_err::read(path)?;
    check_size(path, bytes.len() as u64)?;
    let sha256 = sha256_hex(&bytes);
    check_official(path, &sha256)?;
    Ok(sha256)
}

/// An error unless a batch file of `size` bytes holds exactly 10,000 whole records.
pub fn check_size(path: &Path, size: u64) -> Result<()> {
    if size == FILE_BYTES {
        Ok(())
    } else {
        Err(DataError::WrongSize {
            path: path.to_owned(),
            size,
        })
    }
}

/// An error unless `sha256` is the official sum of the batch file named like `path`.
pub fn check_official(path: &Path, sha256: &str) -> Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let expected = official::sha256_of(name).ok_or_else(|| DataError::UnknownFile {
        path: path.to_owned(),
    })?;
    if sha256 == expected {
        Ok(())
    } else {
        Err(DataError::Checksum {
            path: path.to_owned(),
            expected: expected.to_owned(),
            found: sha256.to_owned(),
        })
    }
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha256_hex_with_progress(bytes, &ProgressBar::hidden())
}

fn sha256_hex_with_progress(bytes: &[u8], progress: &ProgressBar) -> String {
    const CHUNK: usize = 1 << 22;
    let mut hasher = Sha256::new();
    for chunk in bytes.chunks(CHUNK) {
        hasher.update(chunk);
        progress.inc(chunk.len() as u64);
    }
    hex(&hasher.finalize())
}

/// Lower-case hex of a digest.
pub(crate) fn hex(digest: &[u8]) -> String {
    use std::fmt::Write;
    digest
        .iter()
        .fold(String::with_capacity(2 * digest.len()), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Splits whole records into images and labels, checking every label.
///
/// `path` only names the source in errors. Any number of records is accepted (the record count
/// of a batch file is checked by [`check_size`]).
///
/// # Shapes
/// `bytes`: `n * 3073` bytes. Returns images u8 `[n, 3, 32, 32]` and labels u8 `[n]`.
pub fn parse_records(path: &Path, bytes: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    if bytes.len() % RECORD_BYTES != 0 {
        return Err(DataError::WrongSize {
            path: path.to_owned(),
            size: bytes.len() as u64,
        });
    }
    let n = bytes.len() / RECORD_BYTES;
    let mut images = Vec::with_capacity(n * IMAGE_BYTES);
    let mut labels = Vec::with_capacity(n);
    for (record, chunk) in bytes.chunks_exact(RECORD_BYTES).enumerate() {
        let label = chunk[0];
        if usize::from(label) >= CLASSES {
            return Err(DataError::BadLabel {
                path: path.to_owned(),
                record,
                label,
            });
        }
        labels.push(label);
        images.extend_from_slice(&chunk[1..]);
    }
    Ok((images, labels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::official::{PLANE, SIDE};

    /// A record that no transpose or channel swap maps onto itself: value =
    /// (7 c + 3 r + 11 w + r w) mod 251. Pixels (r, w) and (w, r) differ by 8 (w - r) (non-zero
    /// mod 251 for |w - r| <= 31) and the channels of one pixel by 7 or 14.
    fn synthetic_value(channel: usize, row: usize, col: usize) -> u8 {
        ((7 * channel + 3 * row + 11 * col + row * col) % 251) as u8
    }

    fn synthetic_record(label: u8) -> Vec<u8> {
        let mut record = vec![label];
        for channel in 0..3 {
            for row in 0..SIDE {
                for col in 0..SIDE {
                    record.push(synthetic_value(channel, row, col));
                }
            }
        }
        record
    }

    #[test]
    fn a_non_symmetric_record_lands_at_its_row_column_and_channel() {
        // The pattern really is non-symmetric: transposing or swapping channels changes it.
        assert_ne!(synthetic_value(0, 1, 2), synthetic_value(0, 2, 1));
        assert_ne!(synthetic_value(0, 5, 5), synthetic_value(1, 5, 5));
        assert_ne!(synthetic_value(1, 5, 5), synthetic_value(2, 5, 5));

        let mut bytes = synthetic_record(7);
        bytes.extend(synthetic_record(2));
        let (images, labels) = parse_records(Path::new("synthetic.bin"), &bytes).unwrap();
        assert_eq!(labels, [7, 2]);
        assert_eq!(images.len(), 2 * IMAGE_BYTES);
        for image in images.chunks_exact(IMAGE_BYTES) {
            for channel in 0..3 {
                for row in 0..SIDE {
                    for col in 0..SIDE {
                        // NCHW: [c, h, w] at c * 1024 + h * 32 + w.
                        let at = image[channel * PLANE + row * SIDE + col];
                        assert_eq!(
                            at,
                            synthetic_value(channel, row, col),
                            "c{channel} r{row} c{col}"
                        );
                    }
                }
            }
        }
        // Spot values, written out: red (0,1) = 11, green (1,0) = 10, blue (31,31) = 44.
        assert_eq!(images[1], 11);
        assert_eq!(images[PLANE + SIDE], 10);
        assert_eq!(
            images[2 * PLANE + 31 * SIDE + 31],
            ((14 + 93 + 341 + 961) % 251) as u8
        );
    }

    #[test]
    fn a_label_of_10_is_refused_with_its_record_index() {
        let mut bytes = synthetic_record(0);
        bytes.extend(synthetic_record(10));
        let err = parse_records(Path::new("odd.bin"), &bytes).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::BadLabel {
                    record: 1,
                    label: 10,
                    ..
                }
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("odd.bin") && text.contains("record 1") && text.contains("label 10"),
            "{text}"
        );
    }

    #[test]
    fn a_partial_record_is_refused() {
        let mut bytes = synthetic_record(0);
        bytes.pop();
        let err = parse_records(Path::new("short.bin"), &bytes).unwrap_err();
        assert!(
            err.to_string().contains("short.bin") && err.to_string().contains("3072 stray bytes"),
            "{err}"
        );
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_official_check_wants_an_official_name_and_sum() {
        let sum = official::sha256_of("test_batch.bin").unwrap();
        check_official(Path::new("x/test_batch.bin"), sum).unwrap();
        let err = check_official(Path::new("x/test_batch.bin"), &sha256_hex(b"abc")).unwrap_err();
        assert!(
            matches!(err, DataError::Checksum { .. })
                && err.to_string().contains("data.verify = false"),
            "{err}"
        );
        let err = check_official(Path::new("x/mine.bin"), sum).unwrap_err();
        assert!(matches!(err, DataError::UnknownFile { .. }), "{err}");
    }
}
