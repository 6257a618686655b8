//! The stage's results and how they are written: `sanity.safetensors` and `sanity.json`.

use std::path::{Path, PathBuf};

use sal_artifact::names::sanity as names;
use sal_artifact::{ArtifactWriter, Kind, Meta};
use sal_config::{Config, Stage};
use sal_model::arch::PIXELS;
use sal_psychometrics::Bootstrap;
use serde::Serialize;
use serde_json::json;

use crate::detection::Detection;
use crate::error::Result;
use crate::inputs::Loaded;
use crate::random_labels::RandomLabels;
use crate::similarity::MEASURES;
use crate::summary::mean_intervals;

/// The file name of the JSON summary.
pub const SANITY_JSON: &str = "sanity.json";

/// Similarities, their summaries and the example maps, filled in step by step.
#[derive(Debug)]
pub struct Results {
    /// Step names, in order.
    pub steps: Vec<String>,
    /// Method names, in order.
    pub methods: Vec<String>,
    /// Images N.
    pub images: usize,
    /// Example images E.
    pub examples: usize,
    /// `[measure][method]`: f32 `[S, N]`.
    pub similarity: Vec<Vec<Vec<f32>>>,
    /// `[measure][method]`: `[S]` of mean, lo, hi.
    pub summary: Vec<Vec<Vec<[f64; 3]>>>,
    /// `[method]`: f32 `[S + 1, E, 32, 32]`.
    pub example_maps: Vec<Vec<f32>>,
    /// `[method][measure]`: the random-map control's mean, lo, hi.
    pub random_control: Vec<Vec<[f64; 3]>>,
}

impl Results {
    /// Empty results, with the trained model's example maps in row 0.
    pub fn new<T>(
        steps: &[(String, T)],
        methods: &[String],
        images: usize,
        examples: usize,
        trained_maps: &[Vec<f32>],
    ) -> Self {
        let s = steps.len();
        let e = examples * PIXELS;
        let example_maps = trained_maps
            .iter()
            .map(|maps| {
                let mut v = vec![0.0f32; (s + 1) * e];
                v[..e].copy_from_slice(&maps[..e]);
                v
            })
            .collect();
        Results {
            steps: steps.iter().map(|(name, _)| name.clone()).collect(),
            methods: methods.to_vec(),
            images,
            examples,
            similarity: vec![vec![vec![f32::NAN; s * images]; methods.len()]; MEASURES.len()],
            summary: Vec::new(),
            example_maps,
            random_control: Vec::new(),
        }
    }

    /// Records the measures of step `k`, method `m`, image `i`.
    pub fn set_similarity(&mut self, k: usize, m: usize, i: usize, values: [f64; 4]) {
        for (j, v) in values.into_iter().enumerate() {
            self.similarity[j][m][k * self.images + i] = v as f32;
        }
    }

    /// The measures of step `k`, method `m`, image `i` (as stored, f32 widened).
    pub fn similarity_of(&self, k: usize, m: usize, i: usize) -> [f64; 4] {
        std::array::from_fn(|j| f64::from(self.similarity[j][m][k * self.images + i]))
    }

    /// Stores the example images' maps of step `k`, method `m`.
    ///
    /// # Shapes
    /// `maps`: `[N, 32, 32]`.
    pub fn set_examples(&mut self, k: usize, m: usize, maps: &[f32]) {
        let e = self.examples * PIXELS;
        self.example_maps[m][(k + 1) * e..(k + 2) * e].copy_from_slice(&maps[..e]);
    }

    /// Means and bootstrap intervals over images of every (measure, method, step).
    pub fn summarise(&mut self, bootstrap: &Bootstrap, level: f64) -> Result<()> {
        let (s, n) = (self.steps.len(), self.images);
        self.summary = self
            .similarity
            .iter()
            .map(|per_method| {
                per_method
                    .iter()
                    .map(|values| {
                        // [S, N] -> [N, S] (rows = images).
                        let mut table = vec![0.0f64; n * s];
                        for k in 0..s {
                            for i in 0..n {
                                table[i * s + k] = f64::from(values[k * n + i]);
                            }
                        }
                        mean_intervals(&table, n, s, bootstrap, level)
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(())
    }
}

/// One line of `sanity.json`'s similarity table.
#[derive(Debug, Serialize)]
struct SimilarityRecord<'a> {
    step: &'a str,
    method: &'a str,
    measure: &'a str,
    mean: f64,
    ci: [f64; 2],
}

/// Writes both files; returns their paths.
pub fn write(
    config: &Config,
    loaded: &Loaded,
    results: &Results,
    random_labels: Option<&RandomLabels>,
    detections: &[Detection],
    detection_images: usize,
    out_dir: &Path,
) -> Result<(PathBuf, PathBuf)> {
    let s = &config.sanity;
    let (steps, n, e) = (results.steps.len(), results.images, results.examples);
    let mut meta = Meta::new(
        Kind::Sanity,
        Stage::Sanity.name(),
        config.section_json(Stage::Sanity),
    );
    for (stage, key) in &loaded.keys {
        meta = meta.with_input(stage, key.clone());
    }
    let measures: Vec<&str> = MEASURES.iter().map(|m| m.name()).collect();
    let random_labels_json = random_labels.map(|r| {
        let last = r.log.last().copied();
        json!({
            "images": r.images,
            "epochs": r.log.len(),
            "train_accuracy": last.map(|l| l.train_accuracy),
            "fit": last.map(|l| l.val_accuracy),
            "train_loss": last.map(|l| l.train_loss),
        })
    });
    let meta = meta
        .with_extra("methods", json!(results.methods))
        .with_extra("steps", json!(results.steps))
        .with_extra("measures", json!(measures))
        .with_extra("images", json!(n))
        .with_extra("example_images", json!(e))
        .with_extra("detection_images", json!(detection_images))
        .with_extra("random_labels", json!(random_labels_json))
        .with_extra("ci", json!(s.ci))
        .with_extra(
            "edge_control",
            json!("edge maps bit-equal to the trained model's at every step, every similarity exactly 1"),
        );
    let mut writer = ArtifactWriter::new(meta.clone());
    let predicted: Vec<u8> = loaded
        .images
        .classes
        .iter()
        .map(|&c| u8::try_from(c).expect("class fits u8"))
        .collect();
    writer
        .add(names::IMAGE_INDEX, &[n], &loaded.images.index)?
        .add(names::PREDICTED, &[n], &predicted)?
        .add(names::EXAMPLE_INDEX, &[e], &loaded.images.index[..e])?;
    let mut records = Vec::new();
    for (j, measure) in MEASURES.iter().enumerate() {
        for (m, method) in results.methods.iter().enumerate() {
            writer.add(
                &names::similarity(measure.name(), method),
                &[steps, n],
                &results.similarity[j][m],
            )?;
            let summary = &results.summary[j][m];
            let flat: Vec<f64> = summary.iter().flatten().copied().collect();
            writer.add(&names::summary(measure.name(), method), &[steps, 3], &flat)?;
            for (k, step) in results.steps.iter().enumerate() {
                records.push(SimilarityRecord {
                    step,
                    method,
                    measure: measure.name(),
                    mean: summary[k][0],
                    ci: [summary[k][1], summary[k][2]],
                });
            }
            writer.add(
                &names::random_control(measure.name(), method),
                &[3],
                &results.random_control[m][j],
            )?;
        }
    }
    for (m, method) in results.methods.iter().enumerate() {
        writer.add(
            &names::example(method),
            &[steps + 1, e, 32, 32],
            &results.example_maps[m],
        )?;
    }
    if let Some(r) = random_labels {
        let column = |f: fn(&sal_model::train::EpochLog) -> f64| -> Vec<f32> {
            r.log.iter().map(|x| f(x) as f32).collect()
        };
        let epochs = r.log.len();
        writer
            .add(
                names::RANDOM_LABELS_LOSS,
                &[epochs],
                &column(|x| x.train_loss),
            )?
            .add(
                names::RANDOM_LABELS_ACCURACY,
                &[epochs],
                &column(|x| x.train_accuracy),
            )?
            .add(
                names::RANDOM_LABELS_FIT,
                &[epochs],
                &column(|x| x.val_accuracy),
            )?;
    }
    for d in detections {
        writer.add(
            &names::detection(&d.model, &d.metric, &d.fill, &d.method),
            &[3],
            &[d.share, d.ci[0], d.ci[1]],
        )?;
    }
    let path = out_dir.join(Kind::Sanity.file_name());
    writer.write(&path)?;

    let random_control: Vec<serde_json::Value> = results
        .methods
        .iter()
        .enumerate()
        .flat_map(|(m, method)| {
            MEASURES.iter().enumerate().map(move |(j, measure)| {
                let [mean, lo, hi] = results.random_control[m][j];
                json!({"method": method, "measure": measure.name(), "mean": mean, "ci": [lo, hi]})
            })
        })
        .collect();
    let document = json!({
        "schema": Kind::Sanity.schema(),
        "images": n,
        "methods": results.methods,
        "measures": measures,
        "steps": results.steps,
        "ci": s.ci,
        "bootstrap": s.bootstrap,
        "edge_control": "passed",
        "similarity": records,
        "random_control": random_control,
        "random_labels": random_labels_json,
        "detection_images": detection_images,
        "detection": detections,
    });
    let json_path = out_dir.join(SANITY_JSON);
    let text = serde_json::to_string_pretty(&document).expect("JSON") + "\n";
    sal_artifact::write_atomic(&json_path, text.as_bytes())?;
    Ok((path, json_path))
}
