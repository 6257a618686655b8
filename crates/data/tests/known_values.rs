//! The reader against the known values of the official files (`/work/shared/data/README.md`).

mod common;

use std::sync::OnceLock;

use sal_data::official::{batch_files, PLANE, RECORDS_PER_FILE};
use sal_data::{channel_stats, read_batch, verify_file, Batch};

/// The six batches (five training, then test), read once per test binary, verified.
fn batches() -> &'static [Batch] {
    static BATCHES: OnceLock<Vec<Batch>> = OnceLock::new();
    BATCHES.get_or_init(|| {
        let dir = common::cifar_dir();
        batch_files()
            .map(|name| read_batch(&dir.join(name), true).unwrap())
            .collect()
    })
}

fn train_images() -> Vec<u8> {
    batches()[..5]
        .iter()
        .flat_map(|b| b.images.iter().copied())
        .collect()
}

fn counts(labels: impl Iterator<Item = u8>) -> [usize; 10] {
    let mut counts = [0; 10];
    labels.for_each(|l| counts[usize::from(l)] += 1);
    counts
}

fn pixel(batch: &Batch, image: usize, row: usize, col: usize) -> [u8; 3] {
    let im = batch.image(image);
    [0, 1, 2].map(|c| im[c * PLANE + row * 32 + col])
}

#[test]
fn every_file_is_verified_with_10000_records() {
    for (batch, name) in batches().iter().zip(batch_files()) {
        assert!(batch.verified);
        assert_eq!(batch.len(), RECORDS_PER_FILE, "{name}");
        assert_eq!(batch.images.len(), RECORDS_PER_FILE * 3072, "{name}");
        assert_eq!(
            Some(batch.sha256.as_str()),
            sal_data::official::sha256_of(name),
            "{name}"
        );
    }
    let dir = common::cifar_dir();
    assert_eq!(
        verify_file(&dir.join("data_batch_2.bin")).unwrap(),
        batches()[1].sha256
    );
}

#[test]
fn the_first_labels_are_the_known_ones() {
    let test = &batches()[5];
    assert_eq!(
        test.labels[..20],
        [3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 0, 9, 5, 7, 9, 8, 5, 7, 8, 6]
    );
    assert_eq!(batches()[0].labels[..10], [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]);
}

#[test]
fn pixel_0_0_of_the_first_images_is_the_known_colour() {
    assert_eq!(pixel(&batches()[5], 0, 0, 0), [158, 112, 49]);
    assert_eq!(pixel(&batches()[0], 0, 0, 0), [59, 62, 63]);
}

#[test]
fn class_counts_are_the_known_ones() {
    assert_eq!(counts(batches()[5].labels.iter().copied()), [1000; 10]);
    assert_eq!(
        counts(batches()[..5].iter().flat_map(|b| b.labels.iter().copied())),
        [5000; 10]
    );
    assert_eq!(
        counts(batches()[0].labels.iter().copied()),
        [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]
    );
}

#[test]
fn channel_statistics_of_the_full_training_and_test_sets_are_the_known_ones() {
    let train = channel_stats(&train_images()).unwrap();
    let expected_mean = [0.49139968, 0.48215841, 0.44653091];
    let expected_std = [0.24703223, 0.24348513, 0.26158784];
    for c in 0..3 {
        assert!(
            (train.mean[c] - expected_mean[c]).abs() < 1e-6,
            "train mean {c}: {}",
            train.mean[c]
        );
        assert!(
            (train.std[c] - expected_std[c]).abs() < 1e-6,
            "train std {c}: {}",
            train.std[c]
        );
    }
    let test = channel_stats(&batches()[5].images).unwrap();
    let expected_mean = [0.49421428, 0.48513139, 0.45040909];
    let expected_std = [0.24665252, 0.24289226, 0.26159238];
    for c in 0..3 {
        assert!(
            (test.mean[c] - expected_mean[c]).abs() < 1e-6,
            "test mean {c}: {}",
            test.mean[c]
        );
        assert!(
            (test.std[c] - expected_std[c]).abs() < 1e-6,
            "test std {c}: {}",
            test.std[c]
        );
    }
}
