//! What the report takes from the `sanity` stage: `sanity.json` (similarities, controls,
//! random-label fit, metric detection) and the example maps of `sanity.safetensors`.

use std::path::Path;

use sal_artifact::{names::sanity as names, Artifact, Kind};
use serde::Deserialize;

use crate::error::{ReportError, Result};

/// One similarity summary: a step, a method, a measure.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SimilarityRecord {
    /// `cascade/<layer>`, `independent/<layer>` or `random_labels`.
    pub step: String,
    /// The method.
    pub method: String,
    /// `spearman_abs`, `spearman_signed`, `ssim` or `hog_pearson`.
    pub measure: String,
    /// Mean over images (None when undefined).
    pub mean: Option<f64>,
    /// Bootstrap interval.
    pub ci: [Option<f64>; 2],
}

/// The random-map control of one method and measure.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ControlRecord {
    /// The method.
    pub method: String,
    /// The measure.
    pub measure: String,
    /// Mean over images.
    pub mean: Option<f64>,
    /// Bootstrap interval.
    pub ci: [Option<f64>; 2],
}

/// One row of the metric-detection table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DetectionRecord {
    /// The randomised model.
    pub model: String,
    /// `aopc_morf`, `aopc_lerf` or `faithfulness`.
    pub metric: String,
    /// The fill.
    pub fill: String,
    /// The method.
    pub method: String,
    /// Share of images where the trained model's map scores better.
    pub share: Option<f64>,
    /// Bootstrap interval.
    pub ci: [Option<f64>; 2],
    /// Images compared.
    pub n: usize,
}

/// The random-label model's fit after its last epoch.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RandomLabelsFit {
    /// Training images.
    pub images: usize,
    /// Epochs run.
    pub epochs: usize,
    /// Training-mode accuracy in the last epoch.
    pub train_accuracy: Option<f64>,
    /// Eval-mode accuracy on its training images and permuted labels.
    pub fit: Option<f64>,
}

/// `sanity.json` as the report reads it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SanityJson {
    /// Images N.
    pub images: usize,
    /// Methods, in order.
    pub methods: Vec<String>,
    /// Measures, in order.
    pub measures: Vec<String>,
    /// Steps, in order.
    pub steps: Vec<String>,
    /// Interval level.
    pub ci: f64,
    /// Bootstrap resamples.
    pub bootstrap: usize,
    /// Similarity summaries.
    pub similarity: Vec<SimilarityRecord>,
    /// Random-map control.
    pub random_control: Vec<ControlRecord>,
    /// Random-label fit, when data randomisation ran.
    pub random_labels: Option<RandomLabelsFit>,
    /// Images of the detection table.
    pub detection_images: usize,
    /// Detection rows.
    pub detection: Vec<DetectionRecord>,
}

/// Everything the report shows of the sanity stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Sanity {
    /// The JSON summary.
    pub json: SanityJson,
    /// Test-set indices of the example images.
    pub example_index: Vec<u32>,
    /// Per method: f32 `[S + 1, E, 32, 32]` (row 0 the trained model's maps).
    pub examples: Vec<Vec<f32>>,
}

impl Sanity {
    /// Reads `<dir>/sanity.json` and `<dir>/sanity.safetensors`.
    pub fn load(dir: &Path) -> Result<Self> {
        let json_path = dir.join("sanity.json");
        let text = fs_err::read_to_string(&json_path)?;
        let json: SanityJson = serde_json::from_str(&text).map_err(|e| ReportError::BadJson {
            path: json_path.clone(),
            message: e.to_string(),
        })?;
        let artifact = Artifact::open(&dir.join(Kind::Sanity.file_name()), Kind::Sanity)?;
        let (shape, example_index) = artifact.read_dims::<u32>(names::EXAMPLE_INDEX, &[None])?;
        let e = shape[0];
        let s = json.steps.len();
        let examples = json
            .methods
            .iter()
            .map(|m| artifact.read::<f32>(&names::example(m), &[s + 1, e, 32, 32]))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Sanity {
            json,
            example_index,
            examples,
        })
    }

    /// The similarity record of a step, method and measure.
    pub fn similarity(&self, step: &str, method: &str, measure: &str) -> Option<&SimilarityRecord> {
        self.json
            .similarity
            .iter()
            .find(|r| r.step == step && r.method == method && r.measure == measure)
    }

    /// The cascading steps' names, in order.
    pub fn cascade_steps(&self) -> Vec<&str> {
        self.json
            .steps
            .iter()
            .filter(|s| s.starts_with("cascade/"))
            .map(String::as_str)
            .collect()
    }
}
