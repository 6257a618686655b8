//! Facts about the official CIFAR-10 binary distribution (Krizhevsky 2009).

pub use sal_artifact::dataset::{CHANNELS, CLASSES, CLASS_NAMES, IMAGE_BYTES, SIDE, TRAIN_TOTAL};

/// Pixels per channel plane (32 x 32, row-major: pixel index p = row * 32 + col).
pub const PLANE: usize = SIDE * SIDE;
/// Bytes of one record: one label byte, then the image.
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;
/// Records in every official batch file.
pub const RECORDS_PER_FILE: usize = 10_000;
/// Size of every official batch file: 30,730,000 bytes.
pub const FILE_BYTES: u64 = (RECORD_BYTES * RECORDS_PER_FILE) as u64;

/// The five training batches, in official order (official training index = 10,000 * (file - 1) + record).
pub const TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
// The training files hold exactly the official training set.
const _: () = assert!(TRAIN_TOTAL == TRAIN_FILES.len() * RECORDS_PER_FILE);

/// The test batch.
pub const TEST_FILE: &str = "test_batch.bin";
/// The optional file listing the class names, one a line.
pub const META_FILE: &str = "batches.meta.txt";

/// SHA-256 of each official batch file (see `/work/shared/data/README.md`, matching the sums
/// public loaders publish for the official files).
pub const SHA256: [(&str, &str); 6] = [
    (
        "data_batch_1.bin",
        "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
    ),
    (
        "data_batch_2.bin",
        "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
    ),
    (
        "data_batch_3.bin",
        "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
    ),
    (
        "data_batch_4.bin",
        "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
    ),
    (
        "data_batch_5.bin",
        "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
    ),
    (
        "test_batch.bin",
        "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
    ),
];

/// The official archive of the binary version.
pub const ARCHIVE_URL: &str = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
/// MD5 of [`ARCHIVE_URL`], as published on the CIFAR-10 page.
pub const ARCHIVE_MD5: &str = "c32a1d4ab5d03f1284b67883e8d87530";
/// File name of the downloaded archive.
pub const ARCHIVE_FILE: &str = "cifar-10-binary.tar.gz";
/// The folder the archive unpacks to (and the folder name used under the downloads folder).
pub const ARCHIVE_DIR: &str = "cifar-10-batches-bin";

/// The official SHA-256 of a batch file, by file name.
pub fn sha256_of(file_name: &str) -> Option<&'static str> {
    SHA256
        .iter()
        .find(|(name, _)| *name == file_name)
        .map(|(_, sum)| *sum)
}

/// Every batch file: the five training batches, then the test batch.
pub fn batch_files() -> impl Iterator<Item = &'static str> {
    TRAIN_FILES.into_iter().chain(std::iter::once(TEST_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_batch_file_has_an_official_sum() {
        for name in batch_files() {
            let sum = sha256_of(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(sum.len(), 64);
            assert!(sum
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        }
        assert_eq!(sha256_of("nope.bin"), None);
        assert_eq!(FILE_BYTES, 30_730_000);
    }
}
