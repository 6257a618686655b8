//! `dataset.safetensors`, typed: the one reader every stage uses, and its writer.
//!
//! It lives here, beside the tensor names, because every stage reads the dataset and stage
//! crates never depend on each other (the `data` stage writes it with [`Dataset::write`]).

use std::path::{Path, PathBuf};

use crate::error::{ArtifactError, Result};
use crate::names::dataset as names;
use crate::{Artifact, ArtifactWriter, Kind, Meta};

/// Side of a CIFAR-10 image, in pixels.
pub const SIDE: usize = 32;
/// Channels per image (R, G, B).
pub const CHANNELS: usize = 3;
/// Bytes of one u8 NCHW image: 1024 red, then 1024 green, then 1024 blue.
pub const IMAGE_BYTES: usize = CHANNELS * SIDE * SIDE;
/// Number of classes; labels are `0..CLASSES`.
pub const CLASSES: usize = 10;
/// Images in the official CIFAR-10 training set (train and validation splits together).
pub const TRAIN_TOTAL: usize = 50_000;
/// The official class names, in label order.
pub const CLASS_NAMES: [&str; CLASSES] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// The metadata field holding the class names, in label order.
pub const META_CLASS_NAMES: &str = "class_names";
/// The metadata field mapping each source file name to its SHA-256.
pub const META_SOURCE_SHA256: &str = "source_sha256";
/// The metadata field saying whether the sources were checked against the official sums.
pub const META_VERIFIED: &str = "verified";

/// One part of the data set: images, labels and where each image came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Part {
    /// u8 `[n, 3, 32, 32]`, NCHW, RGB.
    pub images: Vec<u8>,
    /// u8 `[n]`, in `0..10`.
    pub labels: Vec<u8>,
    /// u32 `[n]`: for train and validation, the index in the official 50,000-image training
    /// order; for test, the index in the official test order (`0..n`, not stored in the file).
    pub index: Vec<u32>,
}

impl Part {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the part holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// One image.
    ///
    /// # Shapes
    /// Returns u8 `[3, 32, 32]` (3,072 bytes).
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES]
    }

    /// Number of images of each class.
    pub fn class_counts(&self) -> [usize; CLASSES] {
        let mut counts = [0; CLASSES];
        for &label in &self.labels {
            counts[usize::from(label)] += 1;
        }
        counts
    }

    /// The shape of [`Part::images`].
    pub fn image_shape(&self) -> [usize; 4] {
        [self.len(), CHANNELS, SIDE, SIDE]
    }
}

/// The content of `dataset.safetensors`, checked.
///
/// Every stage that needs images loads them through [`Dataset::open`], so they all see the same
/// tensors, the same checks and the same normalisation constants.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The training split (45,000 images from the official training set).
    pub train: Part,
    /// The validation split (5,000 images from the official training set).
    pub val: Part,
    /// The official test set, in official order.
    pub test: Part,
    /// Channel means of the training split, 0..1 scale, R, G, B.
    pub channel_mean: [f32; CHANNELS],
    /// Channel population standard deviations of the training split, 0..1 scale, R, G, B.
    pub channel_std: [f32; CHANNELS],
    /// Class names, in label order (10).
    pub class_names: Vec<String>,
    /// The artifact metadata (written with `class_names` set from [`Dataset::class_names`]).
    pub meta: Meta,
}

impl Dataset {
    /// Opens `dir/dataset.safetensors`.
    pub fn open_dir(dir: &Path) -> Result<Self> {
        Self::open(&dir.join(Kind::Dataset.file_name()))
    }

    /// Reads and checks a dataset artifact.
    ///
    /// Checks, beyond the schema and each tensor's dtype and shape: images, labels and indices
    /// of a part agree in length; labels are in `0..10`; train and validation indices are below
    /// 50,000, distinct and disjoint; means lie in `[0, 1]` and standard deviations are finite
    /// and positive. Errors name the file.
    ///
    /// # Shapes
    /// Any number of images per part (the pipeline writes 45,000 / 5,000 / 10,000), so tests
    /// of later stages can use small data sets.
    pub fn open(path: &Path) -> Result<Self> {
        let artifact = Artifact::open(path, Kind::Dataset)?;
        let bad = |message: String| ArtifactError::BadContent {
            path: path.to_owned(),
            message,
        };
        let read_part = |images: &str, labels: &str, index: Option<&str>| -> Result<Part> {
            let (shape, images_data) = artifact
                .read_dims::<u8>(images, &[None, Some(CHANNELS), Some(SIDE), Some(SIDE)])?;
            let n = shape[0];
            let labels_data = artifact.read::<u8>(labels, &[n])?;
            if let Some((i, &label)) = labels_data
                .iter()
                .enumerate()
                .find(|(_, &l)| usize::from(l) >= CLASSES)
            {
                return Err(bad(format!(
                    "tensor `{labels}`: label {label} at index {i}, expected 0..=9"
                )));
            }
            let index_data = match index {
                Some(name) => artifact.read::<u32>(name, &[n])?,
                None => (0..u32::try_from(n)
                    .map_err(|_| bad(format!("`{images}` has {n} images")))?)
                    .collect(),
            };
            Ok(Part {
                images: images_data,
                labels: labels_data,
                index: index_data,
            })
        };
        let train = read_part(
            names::TRAIN_IMAGES,
            names::TRAIN_LABELS,
            Some(names::TRAIN_INDEX),
        )?;
        let val = read_part(names::VAL_IMAGES, names::VAL_LABELS, Some(names::VAL_INDEX))?;
        let test = read_part(names::TEST_IMAGES, names::TEST_LABELS, None)?;

        let mut seen = vec![false; TRAIN_TOTAL];
        for (name, index) in [
            (names::TRAIN_INDEX, &train.index),
            (names::VAL_INDEX, &val.index),
        ] {
            for &i in index {
                let slot = seen.get_mut(i as usize).ok_or_else(|| {
                    bad(format!("tensor `{name}`: index {i} is outside the official training set (0..{TRAIN_TOTAL})"))
                })?;
                if *slot {
                    return Err(bad(format!(
                        "tensor `{name}`: training index {i} occurs twice in train/validation"
                    )));
                }
                *slot = true;
            }
        }

        let channel_mean = to_array(artifact.read_finite::<f32>(names::CHANNEL_MEAN, &[CHANNELS])?);
        let channel_std = to_array(artifact.read_finite::<f32>(names::CHANNEL_STD, &[CHANNELS])?);
        if channel_mean.iter().any(|m| !(0.0..=1.0).contains(m)) {
            return Err(bad(format!(
                "tensor `{}` = {channel_mean:?}: expected values in [0, 1]",
                names::CHANNEL_MEAN
            )));
        }
        if channel_std.iter().any(|&s| s <= 0.0) {
            return Err(bad(format!(
                "tensor `{}` = {channel_std:?}: expected positive values",
                names::CHANNEL_STD
            )));
        }

        let meta = artifact.meta().clone();
        let class_names = match meta.extra.get(META_CLASS_NAMES) {
            None => CLASS_NAMES.map(str::to_owned).to_vec(),
            Some(value) => {
                let names: Option<Vec<String>> = value
                    .as_array()
                    .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect());
                match names {
                    Some(names) if names.len() == CLASSES => names,
                    _ => {
                        return Err(bad(format!(
                            "metadata `{META_CLASS_NAMES}` = {value}: expected 10 strings"
                        )))
                    }
                }
            }
        };
        Ok(Dataset {
            train,
            val,
            test,
            channel_mean,
            channel_std,
            class_names,
            meta,
        })
    }

    /// Writes the artifact atomically to `path` (the tensors of [`crate::names::dataset`];
    /// `meta` plus the `class_names` field).
    ///
    /// The test part's `index` is not stored: it is the official test order by contract.
    pub fn write(&self, path: &Path) -> Result<PathBuf> {
        let meta = self
            .meta
            .clone()
            .with_extra(META_CLASS_NAMES, serde_json::json!(self.class_names));
        let mut writer = ArtifactWriter::new(meta);
        for (images, labels, index, part) in [
            (
                names::TRAIN_IMAGES,
                names::TRAIN_LABELS,
                Some(names::TRAIN_INDEX),
                &self.train,
            ),
            (
                names::VAL_IMAGES,
                names::VAL_LABELS,
                Some(names::VAL_INDEX),
                &self.val,
            ),
            (names::TEST_IMAGES, names::TEST_LABELS, None, &self.test),
        ] {
            writer.add(images, &part.image_shape(), &part.images)?;
            writer.add(labels, &[part.len()], &part.labels)?;
            if let Some(index) = index {
                writer.add(index, &[part.len()], &part.index)?;
            }
        }
        writer.add(names::CHANNEL_MEAN, &[CHANNELS], &self.channel_mean)?;
        writer.add(names::CHANNEL_STD, &[CHANNELS], &self.channel_std)?;
        writer.write(path)?;
        Ok(path.to_owned())
    }
}

fn to_array(values: Vec<f32>) -> [f32; CHANNELS] {
    values.try_into().expect("shape checked to be [3]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Dataset {
        let part = |n: usize, first: u32| Part {
            images: (0..n * IMAGE_BYTES).map(|i| (i % 256) as u8).collect(),
            labels: (0..n).map(|i| (i % CLASSES) as u8).collect(),
            index: (first..first + n as u32).collect(),
        };
        Dataset {
            train: part(3, 10),
            val: part(2, 0),
            test: part(4, 0),
            channel_mean: [0.5, 0.4, 0.3],
            channel_std: [0.25, 0.2, 0.1],
            class_names: CLASS_NAMES.map(str::to_owned).to_vec(),
            meta: Meta::new(
                Kind::Dataset,
                "data",
                serde_json::json!({"seed": 0, "verify": true}),
            ),
        }
    }

    #[test]
    fn a_dataset_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let dataset = tiny();
        dataset
            .write(&dir.path().join("dataset.safetensors"))
            .unwrap();
        let back = Dataset::open_dir(dir.path()).unwrap();
        assert_eq!(back.train, dataset.train);
        assert_eq!(back.val, dataset.val);
        assert_eq!(back.test, dataset.test);
        assert_eq!(back.channel_mean, dataset.channel_mean);
        assert_eq!(back.class_names, dataset.class_names);
        assert_eq!(back.meta.extra[META_CLASS_NAMES][9], "truck");
    }

    #[test]
    fn overlapping_splits_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataset.safetensors");
        let mut dataset = tiny();
        dataset.val.index = vec![11, 40];
        dataset.write(&path).unwrap();
        let err = Dataset::open(&path).unwrap_err().to_string();
        assert!(
            err.contains("dataset.safetensors") && err.contains("index 11 occurs twice"),
            "{err}"
        );
    }

    #[test]
    fn out_of_range_labels_and_bad_std_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataset.safetensors");
        let mut dataset = tiny();
        dataset.test.labels[2] = 10;
        dataset.write(&path).unwrap();
        let err = Dataset::open(&path).unwrap_err().to_string();
        assert!(
            err.contains("test_labels") && err.contains("label 10 at index 2"),
            "{err}"
        );

        let mut dataset = tiny();
        dataset.channel_std[1] = 0.0;
        dataset.write(&path).unwrap();
        let err = Dataset::open(&path).unwrap_err().to_string();
        assert!(err.contains("channel_std"), "{err}");
    }

    #[test]
    fn mismatched_lengths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataset.safetensors");
        let mut dataset = tiny();
        dataset.train.index.pop();
        // The writer itself refuses an index tensor that does not fit [n].
        assert!(dataset.write(&path).is_err());
        assert!(!path.exists());
    }
}
