//! The whole `data` stage on the real batches: contract tensors, split, statistics,
//! determinism.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use sal_artifact::names::dataset as names;
use sal_artifact::{Artifact, Kind};
use sal_data::official::{batch_files, IMAGE_BYTES, RECORDS_PER_FILE, TRAIN_TOTAL};
use sal_data::{channel_stats, read_batch, run_with, Dataset};

/// Full runs hold ~1 GB at their peak: one at a time.
static HEAVY: Mutex<()> = Mutex::new(());

/// The stage run once with seed 0 and verification on: (folder kept for the process, file bytes).
fn seed0() -> &'static (tempfile::TempDir, Vec<u8>) {
    static RUN: OnceLock<(tempfile::TempDir, Vec<u8>)> = OnceLock::new();
    RUN.get_or_init(|| {
        let _guard = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
        let tmp = tempfile::tempdir().unwrap();
        let config = common::config_for(&common::cifar_dir(), true, 0);
        let out = run_with(
            &config,
            &tmp.path().join("out"),
            &common::options(&tmp.path().join("downloads")),
        )
        .unwrap();
        assert!(out.verified);
        assert_eq!(out.sizes, [45_000, 5_000, 10_000]);
        assert!(
            !tmp.path().join("downloads").exists(),
            "a configured folder never triggers a download"
        );
        let bytes = std::fs::read(&out.dataset).unwrap();
        (tmp, bytes)
    })
}

fn seed0_path() -> PathBuf {
    seed0().0.path().join("out").join("dataset.safetensors")
}

#[test]
fn the_same_config_gives_a_byte_identical_file() {
    let first = &seed0().1;
    let _guard = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let config = common::config_for(&common::cifar_dir(), true, 0);
    let out = run_with(
        &config,
        &tmp.path().join("again"),
        &common::options(tmp.path()),
    )
    .unwrap();
    let second = std::fs::read(&out.dataset).unwrap();
    assert!(first.len() > 180_000_000, "{}", first.len());
    assert!(first == &second, "two runs with the same config differ");
}

#[test]
fn the_file_holds_the_contract_tensors_and_metadata() {
    let path = seed0_path();
    let artifact = Artifact::open(&path, Kind::Dataset).unwrap();
    let expected: [(&str, Vec<usize>); 10] = [
        (names::TRAIN_IMAGES, vec![45_000, 3, 32, 32]),
        (names::TRAIN_LABELS, vec![45_000]),
        (names::TRAIN_INDEX, vec![45_000]),
        (names::VAL_IMAGES, vec![5_000, 3, 32, 32]),
        (names::VAL_LABELS, vec![5_000]),
        (names::VAL_INDEX, vec![5_000]),
        (names::TEST_IMAGES, vec![10_000, 3, 32, 32]),
        (names::TEST_LABELS, vec![10_000]),
        (names::CHANNEL_MEAN, vec![3]),
        (names::CHANNEL_STD, vec![3]),
    ];
    for (name, shape) in &expected {
        assert_eq!(artifact.shape(name).unwrap(), shape.as_slice(), "{name}");
    }
    assert_eq!(artifact.names().count(), expected.len());

    let meta = artifact.meta();
    assert_eq!(meta.stage, "data");
    assert_eq!(meta.config, serde_json::json!({"seed": 0, "verify": true}));
    assert_eq!(meta.extra["verified"], true);
    assert_eq!(meta.extra["class_names"][0], "airplane");
    assert_eq!(meta.extra["class_names"][9], "truck");
    let sums = meta.extra["source_sha256"].as_object().unwrap();
    for name in batch_files() {
        assert_eq!(
            sums[name].as_str(),
            sal_data::official::sha256_of(name),
            "{name}"
        );
    }
    assert!(
        sums.contains_key("batches.meta.txt"),
        "the class-name file that was read is recorded"
    );
    assert!(
        !serde_json::to_string(meta)
            .unwrap()
            .contains(&common::cifar_dir().display().to_string()),
        "no local path"
    );
}

#[test]
fn every_image_is_the_official_image_at_its_index() {
    let dataset = Dataset::open(&seed0_path()).unwrap();
    let dir = common::cifar_dir();
    let batches: Vec<_> = batch_files()
        .map(|name| read_batch(&dir.join(name), false).unwrap())
        .collect();

    assert_eq!(
        dataset.test.images, batches[5].images,
        "test images in official order"
    );
    assert_eq!(dataset.test.labels, batches[5].labels);
    assert_eq!(dataset.test.index, (0..10_000).collect::<Vec<u32>>());
    for part in [&dataset.train, &dataset.val] {
        assert!(
            part.index.windows(2).all(|w| w[0] < w[1]),
            "each part in ascending official order"
        );
        for (k, &i) in part.index.iter().enumerate() {
            let (batch, record) = (
                &batches[i as usize / RECORDS_PER_FILE],
                i as usize % RECORDS_PER_FILE,
            );
            assert_eq!(part.labels[k], batch.labels[record], "index {i}");
            assert_eq!(part.image(k), batch.image(record), "index {i}");
        }
    }
    assert_eq!(dataset.train.images.len(), 45_000 * IMAGE_BYTES);
    assert_eq!(dataset.class_names.len(), 10);
}

#[test]
fn the_split_is_a_partition_drawn_from_the_seed() {
    let dataset = Dataset::open(&seed0_path()).unwrap();
    let mut seen = vec![0u8; TRAIN_TOTAL];
    for &i in dataset.train.index.iter().chain(&dataset.val.index) {
        seen[i as usize] += 1;
    }
    assert!(
        seen.iter().all(|&n| n == 1),
        "train and validation are disjoint and cover all 50,000"
    );
    assert_eq!(dataset.val.index, sal_data::split(0).val);
    // A random 10% keeps every class near 500 validation images.
    assert!(
        dataset
            .val
            .class_counts()
            .iter()
            .all(|&n| (400..600).contains(&n)),
        "{:?}",
        dataset.val.class_counts()
    );
}

#[test]
fn the_stored_statistics_are_the_training_split_s_close_to_but_not_the_full_set_s() {
    let dataset = Dataset::open(&seed0_path()).unwrap();
    let stats = channel_stats(&dataset.train.images).unwrap();
    assert_eq!(dataset.channel_mean, stats.mean_f32());
    assert_eq!(dataset.channel_std, stats.std_f32());
    let full_mean = [0.49139968, 0.48215841, 0.44653091];
    let full_std = [0.24703223, 0.24348513, 0.26158784];
    for c in 0..3 {
        let (dm, ds) = (
            (stats.mean[c] - full_mean[c]).abs(),
            (stats.std[c] - full_std[c]).abs(),
        );
        assert!(
            dm < 2e-3 && ds < 2e-3,
            "channel {c}: mean off by {dm}, std off by {ds}"
        );
        assert!(
            dm > 1e-6 || ds > 1e-6,
            "channel {c}: the 45k statistics equal the 50k ones"
        );
    }
}

#[test]
fn another_seed_and_verify_off_change_the_split_and_the_metadata_only() {
    let reference = Dataset::open(&seed0_path()).unwrap();
    let _guard = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let config = common::config_for(&common::cifar_dir(), false, 1);
    let out = run_with(
        &config,
        &tmp.path().join("out"),
        &common::options(tmp.path()),
    )
    .unwrap();
    assert!(!out.verified);
    let other = Dataset::open(&out.dataset).unwrap();
    assert_ne!(other.val.index, reference.val.index);
    assert_eq!(other.val.index, sal_data::split(1).val);
    assert_eq!(other.test, reference.test);
    assert_ne!(other.channel_mean, reference.channel_mean);
    assert_eq!(other.meta.extra["verified"], false);
    assert_eq!(
        other.meta.config,
        serde_json::json!({"seed": 1, "verify": false})
    );
    // The SHA-256 of what was read is recorded even without verification.
    assert_eq!(
        other.meta.extra["source_sha256"],
        reference.meta.extra["source_sha256"]
    );
}

#[test]
fn the_stage_reads_from_the_folder_it_is_given_by_relative_config_path() {
    // `data.dir` relative to the config file, as Config::load resolves it.
    let tmp = tempfile::tempdir().unwrap();
    let config_path = tmp.path().join("c.toml");
    let link = tmp.path().join("cifar");
    link_or_copy_dir(&common::cifar_dir(), &link);
    std::fs::write(&config_path, "[data]\ndir = \"cifar\"\nseed = 0\n").unwrap();
    let config = sal_config::Config::load(&config_path).unwrap();
    let source =
        sal_data::locate_or_download(&config, &tmp.path().join("downloads"), false).unwrap();
    assert_eq!(source.dir, link);
    assert_eq!(source.origin, sal_data::Origin::ConfigDir);
}

fn link_or_copy_dir(from: &Path, to: &Path) {
    #[cfg(unix)]
    std::os::unix::fs::symlink(from, to).unwrap();
    #[cfg(not(unix))]
    {
        std::fs::create_dir(to).unwrap();
        for name in batch_files() {
            std::fs::copy(from.join(name), to.join(name)).unwrap();
        }
    }
}
