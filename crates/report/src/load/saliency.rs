//! What the report takes from `saliency.safetensors`: the evaluated images and their maps.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sal_artifact::{names::saliency as names, Artifact, Kind};

use crate::error::{ReportError, Result};

/// Pixels of one saliency map (32 x 32).
pub const MAP_PIXELS: usize = 32 * 32;

/// The evaluated test images, their labels, predictions and saliency maps.
#[derive(Debug)]
pub struct Saliency {
    /// The file read.
    pub path: PathBuf,
    /// Index of each evaluated image in the test set.
    pub image_index: Vec<u32>,
    /// True label of each image.
    pub label: Vec<u8>,
    /// Predicted class of each image.
    pub predicted: Vec<u8>,
    /// Softmax probability of the predicted class.
    pub confidence: Vec<f32>,
    /// Method names, in the order of `preferred` first, then alphabetical.
    pub methods: Vec<String>,
    /// Each method's recorded settings (metadata `methods_detail`), e.g. the edge baseline's
    /// grey image and border; empty when not recorded.
    pub methods_detail: BTreeMap<String, serde_json::Value>,
    maps: BTreeMap<String, Vec<f32>>,
}

impl Saliency {
    /// Reads `saliency.safetensors`. Methods are every `saliency.<method>` tensor; they are
    /// ordered as the artifact metadata lists them (`methods`, see [`configured_list`]), else
    /// as in `preferred` (the report's config), then alphabetically, as the stats stage does.
    pub fn load(path: &Path, preferred: &[String]) -> Result<Self> {
        let artifact = Artifact::open(path, Kind::Saliency)?;
        let recorded = configured_list(artifact.meta(), "methods");
        let preferred = if recorded.is_empty() {
            preferred.to_vec()
        } else {
            recorded
        };
        let (shape, image_index) = artifact.read_dims::<u32>(names::IMAGE_INDEX, &[None])?;
        let n = shape[0];
        let label = artifact.read::<u8>(names::LABEL, &[n])?;
        let predicted = artifact.read::<u8>(names::PREDICTED, &[n])?;
        let confidence = artifact.read_finite::<f32>(names::CONFIDENCE, &[n])?;
        let found: Vec<String> = artifact
            .names()
            .filter_map(|name| name.strip_prefix(&names::map("")))
            .map(str::to_owned)
            .collect();
        let methods = order_by_preference(found, &preferred);
        if methods.is_empty() {
            return Err(ReportError::Missing {
                path: path.to_owned(),
                message: "no saliency maps (no tensor named `saliency.<method>`)".to_owned(),
            });
        }
        let mut maps = BTreeMap::new();
        for method in &methods {
            maps.insert(
                method.clone(),
                artifact.read_finite::<f32>(&names::map(method), &[n, 32, 32])?,
            );
        }
        let methods_detail = artifact
            .meta()
            .extra
            .get("methods_detail")
            .and_then(|v| v.as_object())
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Ok(Saliency {
            path: path.to_owned(),
            methods_detail,
            image_index,
            label,
            predicted,
            confidence,
            methods,
            maps,
        })
    }

    /// Number of evaluated images N.
    pub fn len(&self) -> usize {
        self.image_index.len()
    }

    /// Whether no image was evaluated.
    pub fn is_empty(&self) -> bool {
        self.image_index.is_empty()
    }

    /// The map of `method` for evaluated image `i` (row `i`, not a test-set index).
    ///
    /// # Shapes
    /// Returns `[32, 32]` f32, row-major (pixel index `row * 32 + col`).
    pub fn map(&self, method: &str, i: usize) -> Option<&[f32]> {
        self.maps
            .get(method)
            .and_then(|m| m.get(i * MAP_PIXELS..(i + 1) * MAP_PIXELS))
    }
}

/// A string list from an artifact's metadata (`methods`, `fills`): the kind-specific field if
/// present, else the field of its config section; empty when neither exists (the same rule as
/// the stats stage, so both order methods and fills alike).
pub fn configured_list(meta: &sal_artifact::Meta, key: &str) -> Vec<String> {
    meta.extra
        .get(key)
        .or_else(|| meta.config.get(key))
        .and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `found` ordered by position in `preferred`, the rest alphabetically after them.
pub fn order_by_preference(mut found: Vec<String>, preferred: &[String]) -> Vec<String> {
    found.sort_by_key(|name| {
        (
            preferred
                .iter()
                .position(|p| p == name)
                .unwrap_or(usize::MAX),
            name.clone(),
        )
    });
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferred_names_come_first_then_the_rest_alphabetically() {
        let found = ["zeta", "edge", "alpha", "sensitivity"]
            .map(str::to_owned)
            .to_vec();
        let preferred = ["sensitivity", "edge", "missing"].map(str::to_owned);
        assert_eq!(
            order_by_preference(found, &preferred),
            ["sensitivity", "edge", "alpha", "zeta"]
        );
    }
}
