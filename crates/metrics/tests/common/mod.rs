//! Toy classifiers and tiny input artifacts for the metrics tests.
#![allow(dead_code)]

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_artifact::dataset::{Dataset, Part};
use sal_artifact::{ArtifactWriter, Kind, Meta};
use sal_metrics::Inputs;
use sal_model::inference::argmax_rows;
use sal_model::{Classifier, Normalizer};

/// Values of one image.
pub const VALUES: usize = 3072;

/// logits = W x, each row on its own (so any batching gives the same bits), computed in f64.
#[derive(Debug, Clone)]
pub struct Linear {
    /// `[classes, 3072]`, NHWC input order.
    pub weights: Vec<f32>,
    pub classes: usize,
}

impl Linear {
    /// A model with seeded random weights.
    pub fn random(classes: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let weights = (0..classes * VALUES)
            .map(|_| rng.random_range(-0.05f32..0.05))
            .collect();
        Linear { weights, classes }
    }

    /// The class each image is predicted.
    pub fn predict(&mut self, images: &[f32]) -> Vec<u8> {
        let mut logits = vec![0.0; images.len() / VALUES * self.classes];
        self.logits(images, &mut logits).unwrap();
        argmax_rows(&logits, self.classes)
            .into_iter()
            .map(|c| c as u8)
            .collect()
    }
}

impl Classifier for Linear {
    fn num_classes(&self) -> usize {
        self.classes
    }

    fn logits(&mut self, images: &[f32], logits: &mut [f32]) -> sal_model::error::Result<()> {
        for (x, out) in images
            .chunks_exact(VALUES)
            .zip(logits.chunks_exact_mut(self.classes))
        {
            for (c, o) in out.iter_mut().enumerate() {
                let w = &self.weights[c * VALUES..(c + 1) * VALUES];
                *o = w
                    .iter()
                    .zip(x)
                    .map(|(&a, &b)| f64::from(a) * f64::from(b))
                    .sum::<f64>() as f32;
            }
        }
        Ok(())
    }
}

/// Wraps a classifier and records every input row and every batch size it sees.
#[derive(Debug)]
pub struct Recording<C> {
    pub inner: C,
    pub rows: Vec<Vec<f32>>,
    pub batches: Vec<usize>,
}

impl<C: Classifier> Classifier for Recording<C> {
    fn num_classes(&self) -> usize {
        self.inner.num_classes()
    }

    fn logits(&mut self, images: &[f32], logits: &mut [f32]) -> sal_model::error::Result<()> {
        self.batches.push(images.len() / VALUES);
        self.rows
            .extend(images.chunks_exact(VALUES).map(<[f32]>::to_vec));
        self.inner.logits(images, logits)
    }
}

/// The normaliser of the fixture's dataset.
pub fn normalizer() -> Normalizer {
    Normalizer::new([0.5, 0.4, 0.3], [0.25, 0.2, 0.3])
}

/// Writes `data/dataset.safetensors` (12 random test images), `train/model.safetensors` (a
/// placeholder file: the tests pass the classifier directly) and `attribute/saliency.safetensors`
/// (10 of the test images, maps `alpha` (random), `beta` (few distinct values, many ties),
/// `flat` (constant: faithfulness undefined)), predicted classes from `model`.
pub fn write_inputs(root: &Path, model: &mut Linear) -> Inputs {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let part = |n: usize, first: u32, rng: &mut ChaCha8Rng| Part {
        images: (0..n * VALUES).map(|_| rng.random::<u8>()).collect(),
        labels: (0..n).map(|i| (i % 10) as u8).collect(),
        index: (first..first + n as u32).collect(),
    };
    let norm = normalizer();
    let dataset = Dataset {
        train: part(1, 0, &mut rng),
        val: part(1, 1, &mut rng),
        test: part(12, 0, &mut rng),
        channel_mean: norm.mean,
        channel_std: norm.std,
        class_names: (0..10).map(|c| format!("class{c}")).collect(),
        meta: Meta::new(Kind::Dataset, "data", serde_json::json!({"seed": 0})),
    };
    let inputs = Inputs {
        data: root.join("data"),
        train: root.join("train"),
        attribute: root.join("attribute"),
    };
    for dir in [&inputs.data, &inputs.train, &inputs.attribute] {
        std::fs::create_dir_all(dir).unwrap();
    }
    dataset.write(&inputs.dataset_path()).unwrap();
    std::fs::write(
        inputs.model_path(),
        b"toy model: identified by its bytes only",
    )
    .unwrap();

    let index: Vec<u32> = vec![0, 2, 3, 4, 5, 6, 8, 9, 10, 11];
    let n = index.len();
    let mut images = vec![0.0f32; n * VALUES];
    for (pos, &i) in index.iter().enumerate() {
        norm.nchw_u8_to_nhwc(
            dataset.test.image(i as usize),
            &mut images[pos * VALUES..(pos + 1) * VALUES],
        )
        .unwrap();
    }
    let predicted = model.predict(&images);
    let alpha: Vec<f32> = (0..n * 1024)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let beta: Vec<f32> = (0..n * 1024)
        .map(|_| f32::from(rng.random_range(0u8..4)) - 1.0)
        .collect();
    let flat = vec![0.5f32; n * 1024];
    let mut writer = ArtifactWriter::new(
        Meta::new(Kind::Saliency, "attribute", serde_json::json!({}))
            .with_extra("methods", serde_json::json!(["beta", "alpha", "flat"])),
    );
    writer
        .add("image_index", &[n], &index)
        .unwrap()
        .add("predicted", &[n], &predicted)
        .unwrap()
        .add("saliency.alpha", &[n, 32, 32], &alpha)
        .unwrap()
        .add("saliency.beta", &[n, 32, 32], &beta)
        .unwrap()
        .add("saliency.flat", &[n, 32, 32], &flat)
        .unwrap();
    writer.write(&inputs.saliency_path()).unwrap();
    inputs
}

/// A config for the tiny fixture: L = 5, R = 3, P = 16, both fills, batches of 64, chunks of 3.
pub fn config() -> sal_config::Config {
    let mut config = sal_config::Config::default();
    config.metrics.steps = 5;
    config.metrics.random_orderings = 3;
    config.metrics.faithfulness_pixels = 16;
    config.metrics.batch_size = 64;
    config.metrics.checkpoint_images = 3;
    config
}
