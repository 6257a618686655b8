//! What the report takes from `dataset.safetensors`: class names, source checksums, test images.

use std::path::{Path, PathBuf};

use sal_artifact::dataset::{
    CHANNELS, CLASS_NAMES, META_CLASS_NAMES, META_SOURCE_SHA256, META_VERIFIED, SIDE,
};
use sal_artifact::{names::dataset as names, Artifact, Kind};
use serde_json::Value;

use crate::error::{ReportError, Result};

/// Channels, rows and columns of one image.
const IMAGE_SHAPE: [usize; 3] = [CHANNELS, SIDE, SIDE];

/// The parts of the dataset artifact the report shows.
#[derive(Debug)]
pub struct DatasetInfo {
    /// The file read.
    pub path: PathBuf,
    /// Class names in label order.
    pub class_names: Vec<String>,
    /// Whether `class_names` came from the metadata (else the CIFAR-10 defaults).
    pub class_names_recorded: bool,
    /// The `source_sha256` metadata field as written (checksums of the source batches).
    pub source_sha256: Option<Value>,
    /// The `verified` metadata field: whether the official checksums were checked.
    pub verified: Option<bool>,
    /// True label of every test image.
    pub test_labels: Vec<u8>,
    test_images: Vec<u8>,
    test_count: usize,
}

impl DatasetInfo {
    /// Reads `dataset.safetensors`.
    pub fn load(path: &Path) -> Result<Self> {
        let artifact = Artifact::open(path, Kind::Dataset)?;
        let dims = [
            None,
            Some(IMAGE_SHAPE[0]),
            Some(IMAGE_SHAPE[1]),
            Some(IMAGE_SHAPE[2]),
        ];
        let (shape, test_images) = artifact.read_dims::<u8>(names::TEST_IMAGES, &dims)?;
        let test_labels = artifact.read::<u8>(names::TEST_LABELS, &[shape[0]])?;
        let extra = &artifact.meta().extra;
        let (class_names, class_names_recorded) = match extra.get(META_CLASS_NAMES) {
            None => (CLASS_NAMES.map(str::to_owned).to_vec(), false),
            Some(value) => (parse_class_names(path, value)?, true),
        };
        Ok(DatasetInfo {
            path: path.to_owned(),
            class_names,
            class_names_recorded,
            source_sha256: extra.get(META_SOURCE_SHA256).cloned(),
            verified: extra.get(META_VERIFIED).and_then(Value::as_bool),
            test_labels,
            test_images,
            test_count: shape[0],
        })
    }

    /// Number of test images.
    pub fn test_count(&self) -> usize {
        self.test_count
    }

    /// Test image `index` as interleaved RGB rows (the layout of a PNG).
    ///
    /// # Shapes
    /// Returns `[32, 32, 3]` u8 (HWC) from the stored `[3, 32, 32]` (CHW).
    pub fn test_image_rgb(&self, index: usize) -> Result<Vec<u8>> {
        if index >= self.test_count {
            return Err(ReportError::Inconsistent {
                path: self.path.clone(),
                message: format!(
                    "test image {index} requested, the file holds {}",
                    self.test_count
                ),
            });
        }
        let [c, h, w] = IMAGE_SHAPE;
        let image = &self.test_images[index * c * h * w..(index + 1) * c * h * w];
        let mut rgb = vec![0u8; h * w * c];
        for y in 0..h {
            for x in 0..w {
                for ch in 0..c {
                    rgb[(y * w + x) * c + ch] = image[ch * h * w + y * w + x];
                }
            }
        }
        Ok(rgb)
    }

    /// The name of class `label`, or `class <label>` if the dataset names fewer classes.
    pub fn class_name(&self, label: u8) -> String {
        self.class_names
            .get(usize::from(label))
            .cloned()
            .unwrap_or_else(|| format!("class {label}"))
    }
}

fn parse_class_names(path: &Path, value: &Value) -> Result<Vec<String>> {
    let bad = || ReportError::BadJson {
        path: path.to_owned(),
        message: format!(
            "metadata field `class_names` should be an array of strings, found {value}"
        ),
    };
    value
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
        .collect()
}
