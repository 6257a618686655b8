//! Reading the stage's inputs: the saliency maps, the test images they explain, the
//! normalisation, and the keys of the input artifacts.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sal_artifact::names::saliency as sn;
use sal_artifact::Dataset;
use sal_artifact::{input_key, Artifact, Kind};
use sal_config::Stage;
use sal_model::Normalizer;
use sal_perturbation::{Normalisation, IMAGE_VALUES, PIXELS};

use crate::error::{MetricsError, Result};

/// The input folders of the stage, as the pipeline passes them.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// `--data DIR`: holds `dataset.safetensors`.
    pub data: PathBuf,
    /// `--train DIR`: holds `model.safetensors`.
    pub train: PathBuf,
    /// `--attribute DIR`: holds `saliency.safetensors`.
    pub attribute: PathBuf,
}

impl Inputs {
    /// `<data>/dataset.safetensors`.
    pub fn dataset_path(&self) -> PathBuf {
        self.data.join(Kind::Dataset.file_name())
    }

    /// `<train>/model.safetensors`.
    pub fn model_path(&self) -> PathBuf {
        self.train.join(Kind::Model.file_name())
    }

    /// `<attribute>/saliency.safetensors`.
    pub fn saliency_path(&self) -> PathBuf {
        self.attribute.join(Kind::Saliency.file_name())
    }

    /// The cache key of each input artifact, by stage name (for the output's metadata).
    pub fn keys(&self) -> Result<BTreeMap<String, String>> {
        Ok(BTreeMap::from([
            (
                Stage::Data.name().to_owned(),
                input_key(&self.dataset_path())?,
            ),
            (
                Stage::Train.name().to_owned(),
                input_key(&self.model_path())?,
            ),
            (
                Stage::Attribute.name().to_owned(),
                input_key(&self.saliency_path())?,
            ),
        ]))
    }
}

/// The explained images with their maps, in the saliency file's order.
#[derive(Debug, Clone)]
pub struct Explained {
    /// Method names: the saliency file's `methods` metadata when it lists exactly its
    /// `saliency.*` tensors, else those tensors' names sorted.
    pub methods: Vec<String>,
    /// `[N]` test-set indices.
    pub index: Vec<u32>,
    /// `[N]` the class each map explains.
    pub predicted: Vec<u8>,
    /// u8 `[N, 3, 32, 32]` test images.
    pub pixels: Vec<u8>,
    /// Per method, `[N, 32, 32]` relevance (finite).
    pub maps: Vec<Vec<f32>>,
    /// The model input normalisation of the dataset's channel statistics.
    pub normalisation: Normalisation,
}

impl Explained {
    /// Number of images N.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Reads `saliency.safetensors` and the test images it names from `dataset.safetensors`.
    pub fn read(inputs: &Inputs) -> Result<Self> {
        let saliency_path = inputs.saliency_path();
        let saliency = Artifact::open(&saliency_path, Kind::Saliency)?;
        let bad = |message: String| MetricsError::BadInput {
            path: saliency_path.clone(),
            message,
        };
        let (shape, index) = saliency.read_dims::<u32>(sn::IMAGE_INDEX, &[None])?;
        let n = shape[0];
        if n == 0 {
            return Err(bad("no images (image_index is empty)".to_owned()));
        }
        let predicted = saliency.read::<u8>(sn::PREDICTED, &[n])?;
        let methods = method_names(&saliency);
        if methods.is_empty() {
            return Err(bad("no `saliency.<method>` tensor".to_owned()));
        }
        let mut maps = Vec::with_capacity(methods.len());
        for m in &methods {
            maps.push(saliency.read_finite::<f32>(&sn::map(m), &[n, 32, 32])?);
        }

        let dataset = Dataset::open(&inputs.dataset_path())?;
        let test = &dataset.test;
        let mut pixels = Vec::with_capacity(n * IMAGE_VALUES);
        for (pos, &i) in index.iter().enumerate() {
            if i as usize >= test.len() {
                return Err(bad(format!(
                    "image_index[{pos}] = {i}, but the test set of {} has {} images",
                    inputs.dataset_path().display(),
                    test.len()
                )));
            }
            pixels.extend_from_slice(test.image(i as usize));
        }
        let normalizer = Normalizer::new(dataset.channel_mean, dataset.channel_std);
        let normalisation = Normalisation::from_fn(|c, v| normalizer.value(c, v));
        Ok(Explained {
            methods,
            index,
            predicted,
            pixels,
            maps,
            normalisation,
        })
    }

    /// The maps of the image at position `pos`, one per method.
    ///
    /// # Shapes
    /// Each `[1024]` (`[32, 32]`).
    pub fn maps_of(&self, pos: usize) -> Vec<&[f32]> {
        self.maps
            .iter()
            .map(|m| &m[pos * PIXELS..(pos + 1) * PIXELS])
            .collect()
    }

    /// The u8 `[3, 32, 32]` image at position `pos`.
    pub fn pixels_of(&self, pos: usize) -> &[u8] {
        &self.pixels[pos * IMAGE_VALUES..(pos + 1) * IMAGE_VALUES]
    }
}

/// The methods of a saliency file (see [`Explained::methods`]).
fn method_names(saliency: &Artifact) -> Vec<String> {
    let prefix = sn::map("");
    let mut tensors: Vec<String> = saliency
        .names()
        .filter_map(|n| n.strip_prefix(&prefix))
        .map(str::to_owned)
        .collect();
    tensors.sort();
    let listed: Option<Vec<String>> = saliency
        .meta()
        .extra
        .get("methods")
        .and_then(|v| v.as_array())
        .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect());
    match listed {
        Some(listed) => {
            let mut sorted = listed.clone();
            sorted.sort();
            if sorted == tensors {
                listed
            } else {
                tensors
            }
        }
        None => tensors,
    }
}
