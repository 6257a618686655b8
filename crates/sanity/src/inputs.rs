//! What the stage reads: the trained model, the test images, and the settings the upstream
//! stages recorded (the `[attribute]` methods, the `[train]` optimiser, the `[metrics]`
//! protocol), each from the metadata of the artifact that used it.

use std::path::{Path, PathBuf};

use sal_artifact::{input_key, Artifact, Dataset, Kind};
use sal_attribution::select::first_per_class;
use sal_config::{AttributeConfig, MetricsConfig, SanityConfig, TrainConfig};
use sal_model::arch::IMAGE_VALUES;
use sal_model::inference::argmax_rows;
use sal_model::{Classifier, Normalizer, Weights};
use serde::de::DeserializeOwned;

use crate::error::{Result, SanityError};
use crate::maps::Images;

/// The stage's input folders (`--data --train --attribute --metrics`), and the random-label
/// model's cache folder (`--random-labels`).
#[derive(Debug, Clone)]
pub struct Inputs {
    /// Holds `dataset.safetensors`.
    pub data: PathBuf,
    /// Holds `model.safetensors`.
    pub train: PathBuf,
    /// Holds `saliency.safetensors`.
    pub attribute: PathBuf,
    /// Holds `metrics.safetensors`.
    pub metrics: PathBuf,
    /// The random-label model's own folder: its finished `random_labels.safetensors` is
    /// reused, or the model is trained there and kept (see [`crate::random_labels::obtain`]).
    /// `None`: trained in the output folder and removed when the stage ends.
    pub random_labels: Option<PathBuf>,
}

impl Inputs {
    /// `(stage name, file)` of every input file, in pipeline order.
    pub fn files(&self) -> [(&'static str, PathBuf); 4] {
        [
            ("data", self.data.join(Kind::Dataset.file_name())),
            ("train", self.train.join(Kind::Model.file_name())),
            ("attribute", self.attribute.join(Kind::Saliency.file_name())),
            ("metrics", self.metrics.join(Kind::Metrics.file_name())),
        ]
    }
}

/// Everything read, checked and selected.
#[derive(Debug)]
pub struct Loaded {
    /// The trained model.
    pub weights: Weights,
    /// The `[train]` section the model was trained with.
    pub train: TrainConfig,
    /// The `[attribute]` section of the saliency maps, with `[sanity]`'s DeepSHAP override.
    pub attribute: AttributeConfig,
    /// The `[metrics]` section of the metrics.
    pub metrics: MetricsConfig,
    /// The dataset.
    pub dataset: Dataset,
    /// The explained images, with the trained model's classes.
    pub images: Images,
    /// `{stage: cache key}` of every input.
    pub keys: Vec<(&'static str, String)>,
}

/// The `config` metadata of an artifact as a config section.
fn section<T: DeserializeOwned>(path: &Path, kind: Kind) -> Result<T> {
    let artifact = Artifact::open(path, kind)?;
    serde_json::from_value(artifact.meta().config.clone()).map_err(|e| SanityError::BadInput {
        path: path.to_owned(),
        message: format!("its `config` metadata is not a valid config section: {e}"),
    })
}

/// The `[attribute]` section of `saliency.safetensors`; a file written by an external program
/// (whose `config` is its own) gives sal's default settings for the methods its `methods`
/// metadata names, with a warning.
fn attribute_section(path: &Path) -> Result<AttributeConfig> {
    match section::<AttributeConfig>(path, Kind::Saliency) {
        Ok(config) => Ok(config),
        Err(err) => {
            let artifact = Artifact::open(path, Kind::Saliency)?;
            let methods: Option<Vec<String>> = artifact
                .meta()
                .extra
                .get("methods")
                .and_then(|m| serde_json::from_value(m.clone()).ok());
            let Some(methods) = methods else {
                return Err(err);
            };
            tracing::warn!(
                "{}: no [attribute] section in its metadata (an external stage?): the sanity maps use sal's default settings for {methods:?}",
                path.display()
            );
            Ok(AttributeConfig {
                methods,
                ..AttributeConfig::default()
            })
        }
    }
}

impl Loaded {
    /// Reads every input and selects the images of `sanity`.
    pub fn read(inputs: &Inputs, sanity: &SanityConfig) -> Result<Self> {
        let [data, train, attribute, metrics] = inputs.files();
        let (weights, _) = Weights::load(&train.1)?;
        let train_config: TrainConfig = section(&train.1, Kind::Model)?;
        let mut attribute_config = attribute_section(&attribute.1)?;
        if let Some(k) = sanity.deep_shap_background {
            attribute_config.deep_shap_background = k;
        }
        let metrics_config: MetricsConfig = section(&metrics.1, Kind::Metrics)?;
        let dataset = Dataset::open(&data.1)?;
        let images = select(&dataset, &weights, sanity.images_per_class, &data.1)?;
        let mut keys = Vec::new();
        for (stage, path) in inputs.files() {
            keys.push((stage, input_key(&path)?));
        }
        Ok(Loaded {
            weights,
            train: train_config,
            attribute: attribute_config,
            metrics: metrics_config,
            dataset,
            images,
            keys,
        })
    }
}

/// The first `per_class` test images of each class, with the trained model's predictions.
fn select(dataset: &Dataset, weights: &Weights, per_class: usize, path: &Path) -> Result<Images> {
    let test = &dataset.test;
    let index = first_per_class(&test.labels, weights.arch.classes, per_class).map_err(|e| {
        SanityError::BadInput {
            path: path.to_owned(),
            message: e.to_string(),
        }
    })?;
    let mut pixels = Vec::with_capacity(index.len() * IMAGE_VALUES);
    let mut labels = Vec::with_capacity(index.len());
    for &i in &index {
        pixels.extend_from_slice(test.image(i as usize));
        labels.push(test.labels[i as usize]);
    }
    let normalizer = Normalizer::new(dataset.channel_mean, dataset.channel_std);
    let mut images = vec![0.0; pixels.len()];
    normalizer.nchw_u8_to_nhwc(&pixels, &mut images)?;
    let classes = predict(weights, &images)?;
    Ok(Images {
        index,
        labels,
        pixels,
        images,
        classes,
        normalizer,
    })
}

/// The arg-max class of each image under `weights`.
///
/// # Shapes
/// `images`: `[n, 32, 32, 3]` normalised; returns `[n]`.
pub fn predict(weights: &Weights, images: &[f32]) -> Result<Vec<usize>> {
    let classes = weights.arch.classes;
    let n = images.len() / IMAGE_VALUES;
    let mut net = sal_model::FastNet::new(weights)?;
    let mut logits = vec![0.0f32; n * classes];
    const BATCH: usize = 100;
    for start in (0..n).step_by(BATCH) {
        let end = (start + BATCH).min(n);
        net.logits(
            &images[start * IMAGE_VALUES..end * IMAGE_VALUES],
            &mut logits[start * classes..end * classes],
        )?;
    }
    Ok(argmax_rows(&logits, classes))
}
