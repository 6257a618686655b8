//! A tiny synthetic, learnable CIFAR-shaped dataset and tiny configs for the training tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_artifact::dataset::{Dataset, Part};
use sal_artifact::{Kind, Meta};
use sal_config::train::TrainBackendKind;
use sal_config::Config;

/// `n` images whose class decides where a bright 8x8 patch sits and its hue, on noise.
fn part(n: usize, first_index: u32, seed: u64) -> Part {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut images = Vec::with_capacity(n * 3072);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let class = rng.random_range(0..10u8);
        let (pr, pc) = (
            usize::from(class / 4) * 10 + 2,
            usize::from(class % 4) * 7 + 2,
        );
        for ch in 0..3 {
            for r in 0..32 {
                for c in 0..32 {
                    let inside = (pr..pr + 8).contains(&r) && (pc..pc + 8).contains(&c);
                    let base = if inside {
                        150 + 30 * ((usize::from(class) + ch) % 3)
                    } else {
                        60
                    };
                    images.push((base + rng.random_range(0..40)) as u8);
                }
            }
        }
        labels.push(class);
    }
    Part {
        images,
        labels,
        index: (first_index..first_index + n as u32).collect(),
    }
}

/// Writes `dir/dataset.safetensors` with `train` / 100 / 100 images and returns `dir`.
pub fn dataset(dir: &Path, train: usize) -> PathBuf {
    let ds = Dataset {
        train: part(train, 0, 1),
        val: part(100, 10_000, 2),
        test: part(100, 0, 3),
        channel_mean: [0.3, 0.3, 0.3],
        channel_std: [0.2, 0.2, 0.2],
        class_names: (0..10).map(|i| format!("class{i}")).collect(),
        meta: Meta::new(
            Kind::Dataset,
            "data",
            serde_json::json!({"synthetic": true}),
        ),
    };
    fs_err::create_dir_all(dir).unwrap();
    ds.write(&dir.join("dataset.safetensors")).unwrap();
    dir.to_owned()
}

/// A tiny training config for `backend`: widths 4..8, batch 32, 2 epochs.
pub fn tiny_config(backend: TrainBackendKind) -> Config {
    let mut config = Config::default();
    let t = &mut config.train;
    t.backend = backend;
    t.widths = [4, 4, 8, 8, 8, 8];
    t.epochs = 2;
    t.batch_size = 32;
    t.learning_rate = 0.05;
    t.warmup_epochs = 0.5;
    t.patience = 0;
    config.validate().unwrap();
    config
}
