//! Synthetic artifacts that follow the contract (`sal_artifact::names`), for the report's tests.
//!
//! The numbers are built so that the rankings are known: under MoRF the methods' curves fall at
//! rates `morf_rates[m]` (faster fall = higher AOPC_MoRF), under LeRF at `lerf_rates[m]`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_artifact::names::{dataset, metrics, model, saliency};
use sal_artifact::{ArtifactWriter, Kind, Meta};
use sal_report::ReportInputs;
use serde_json::json;

/// The methods, in the pipeline's default order.
pub const METHODS: [&str; 5] = [
    "sensitivity",
    "gradient_x_input",
    "deep_taylor",
    "deep_shap",
    "edge",
];
/// The fills.
pub const FILLS: [&str; 2] = ["mean", "uniform"];
/// CIFAR-10's class names.
pub const CLASSES: [&str; 10] = [
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

/// What to generate.
#[derive(Debug, Clone)]
pub struct Synthetic {
    /// Evaluated images per class.
    pub per_class: usize,
    /// L.
    pub steps: usize,
    /// R.
    pub orderings: usize,
    /// Fall rate of each method's MoRF curve, in `METHODS` order.
    pub morf_rates: [f32; 5],
    /// Fall rate of each method's LeRF curve.
    pub lerf_rates: [f32; 5],
    /// Fall rate of the random curves.
    pub random_rate: f32,
    /// Mean faithfulness of each method.
    pub f_means: [f32; 5],
    /// Seed.
    pub seed: u64,
    /// Write key.json files.
    pub key_files: bool,
    /// The fills (`FILLS`, the paper's, unless a test adds one).
    pub fills: Vec<&'static str>,
}

impl Default for Synthetic {
    fn default() -> Self {
        Synthetic {
            per_class: 3,
            steps: 20,
            orderings: 5,
            // gradient_x_input best under MoRF, then deep_shap, sensitivity, deep_taylor, edge.
            morf_rates: [0.06, 0.10, 0.04, 0.08, 0.02],
            // edge and deep_taylor best (slowest) under LeRF, deep_shap third, gradient_x_input last.
            lerf_rates: [0.025, 0.035, 0.006, 0.015, 0.004],
            random_rate: 0.015,
            f_means: [0.10, 0.12, 0.08, 0.09, 0.01],
            seed: 7,
            key_files: true,
            fills: FILLS.to_vec(),
        }
    }
}

impl Synthetic {
    /// The same data with every ranking reversed (rates and F means mirrored across methods).
    pub fn reversed(&self) -> Self {
        let mirror = |v: [f32; 5]| {
            let mut sorted = v;
            sorted.sort_by(f32::total_cmp);
            v.map(|x| sorted[4 - sorted.iter().position(|&s| s == x).unwrap()])
        };
        Synthetic {
            morf_rates: mirror(self.morf_rates),
            lerf_rates: mirror(self.lerf_rates),
            f_means: mirror(self.f_means),
            ..self.clone()
        }
    }

    /// Writes every input folder under `root` and returns them.
    pub fn write(&self, root: &Path) -> ReportInputs {
        let inputs = ReportInputs {
            data: root.join("data"),
            train: root.join("train"),
            attribute: root.join("attribute"),
            metrics: root.join("metrics"),
            stats: root.join("stats"),
            sanity: None,
            variants: Vec::new(),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let n = self.per_class * CLASSES.len();
        let test_count = n * 2;
        // Evaluated images: every other test image, so the indices are not 0..N.
        let image_index: Vec<u32> = (0..n as u32).map(|i| 2 * i + 1).collect();
        let label: Vec<u8> = (0..n).map(|i| (i % CLASSES.len()) as u8).collect();

        // dataset: images with a left-right gradient in red so orientation shows.
        let mut images = vec![0u8; test_count * 3 * 32 * 32];
        for (i, px) in images.iter_mut().enumerate() {
            let x = i % 32;
            let c = (i / 1024) % 3;
            *px = if c == 0 {
                (x * 8) as u8
            } else {
                rng.random_range(0..=255)
            };
        }
        let meta = Meta::new(Kind::Dataset, "data", json!({"seed": 0}))
            .with_extra("class_names", json!(CLASSES))
            .with_extra("source_sha256", json!({"test_batch.bin": "ab".repeat(32)}));
        let mut w = ArtifactWriter::new(meta);
        w.add(dataset::TEST_IMAGES, &[test_count, 3, 32, 32], &images)
            .unwrap();
        // Test image 2i+1 is evaluated image i; the others get any label.
        let labels: Vec<u8> = (0..test_count)
            .map(|t| {
                if t % 2 == 1 {
                    label[t / 2]
                } else {
                    (t % 10) as u8
                }
            })
            .collect();
        w.add(dataset::TEST_LABELS, &[test_count], &labels).unwrap();
        w.write(&inputs.data.join(Kind::Dataset.file_name()))
            .unwrap();

        // train
        let meta = Meta::new(Kind::Model, "train", json!({"epochs": 2}))
            .with_extra(
                "architecture",
                json!({"widths": [32, 32, 64, 64, 128, 128]}),
            )
            .with_extra("test_accuracy", json!(0.842))
            .with_extra("epochs_run", json!(2));
        let mut w = ArtifactWriter::new(meta);
        w.add(&model::conv_weight(1, 1), &[1, 3, 3, 3], &[0.5f32; 27])
            .unwrap();
        w.write(&inputs.train.join(Kind::Model.file_name()))
            .unwrap();
        let mut w = ArtifactWriter::new(Meta::new(Kind::TrainingLog, "train", json!({})));
        w.add(model::LOG_TRAIN_LOSS, &[2], &[1.5f32, 1.0]).unwrap();
        w.add(model::LOG_TRAIN_ACCURACY, &[2], &[0.45f32, 0.62])
            .unwrap();
        w.add(model::LOG_VAL_ACCURACY, &[2], &[0.5f32, 0.6])
            .unwrap();
        w.write(&inputs.train.join(Kind::TrainingLog.file_name()))
            .unwrap();

        // attribute: every image correct except the first of each class; confidence varies.
        let predicted: Vec<u8> = label
            .iter()
            .enumerate()
            .map(|(i, &l)| if i < CLASSES.len() { (l + 1) % 10 } else { l })
            .collect();
        let confidence: Vec<f32> = (0..n).map(|i| [0.995f32, 0.7, 0.999, 0.9][i % 4]).collect();
        let mut w = ArtifactWriter::new(Meta::new(Kind::Saliency, "attribute", json!({})));
        w.add(saliency::IMAGE_INDEX, &[n], &image_index).unwrap();
        w.add(saliency::LABEL, &[n], &label).unwrap();
        w.add(saliency::PREDICTED, &[n], &predicted).unwrap();
        w.add(saliency::CONFIDENCE, &[n], &confidence).unwrap();
        for (m, method) in METHODS.iter().enumerate() {
            let maps: Vec<f32> = (0..n * 1024)
                .map(|i| {
                    let (y, x) = ((i % 1024) / 32, i % 32);
                    let signal = (x as f32 - 16.0) * (m as f32 + 1.0) + (y as f32 - 8.0);
                    signal + rng.random_range(-4.0..4.0)
                })
                .collect();
            w.add(&saliency::map(method), &[n, 32, 32], &maps).unwrap();
        }
        w.write(&inputs.attribute.join(Kind::Saliency.file_name()))
            .unwrap();

        // metrics
        let width = self.steps + 1;
        let p0: Vec<f64> = (0..n)
            .map(|i| 0.6 + 0.4 * ((i * 7) % 10) as f64 / 10.0)
            .collect();
        // Drop curves of f(x^(k)) = p0 exp(-r k): p0 (1 - exp(-r k)).
        let curve = |rate: f32, rng: &mut ChaCha8Rng| -> Vec<f64> {
            let mut out = Vec::with_capacity(n * width);
            for &p in &p0 {
                let r = f64::from(rate * rng.random_range(0.8..1.2));
                out.extend((0..width).map(|k| p * (1.0 - (-r * k as f64).exp())));
            }
            out
        };
        let meta = Meta::new(Kind::Metrics, "metrics", json!({})).with_extra(
            "saturation",
            json!({"f32.p0_one": 3, "f64.p0_one": 0, "f32.delta_zero.mean": 40, "f64.delta_zero.mean": 2}),
        );
        let mut w = ArtifactWriter::new(meta);
        w.add(metrics::IMAGE_INDEX, &[n], &image_index).unwrap();
        w.add(metrics::P0, &[n], &p0).unwrap();
        for &fill in &self.fills {
            // The uniform fill perturbs more strongly: faster falls for everyone.
            let boost = if fill == "uniform" { 1.3 } else { 1.0 };
            for (m, method) in METHODS.iter().enumerate() {
                w.add(
                    &metrics::drop(method, "morf", fill),
                    &[n, width],
                    &curve(self.morf_rates[m] * boost, &mut rng),
                )
                .unwrap();
                w.add(
                    &metrics::drop(method, "lerf", fill),
                    &[n, width],
                    &curve(self.lerf_rates[m] * boost, &mut rng),
                )
                .unwrap();
                let f: Vec<f32> = (0..n)
                    .map(|i| {
                        if i == 3 && m == 4 {
                            f32::NAN
                        } else {
                            self.f_means[m] + rng.random_range(-0.1..0.1)
                        }
                    })
                    .collect();
                w.add(&metrics::faithfulness(method, fill), &[n], &f)
                    .unwrap();
            }
            let random = curve(self.random_rate * boost, &mut rng);
            w.add(&metrics::random_mean_drop(fill), &[n, width], &random)
                .unwrap();
            let mut per_ordering = Vec::with_capacity(self.orderings * width);
            for _ in 0..self.orderings {
                let r = f64::from(self.random_rate * boost * rng.random_range(0.9..1.1));
                let mean_p0 = p0.iter().sum::<f64>() / n as f64;
                let mut sum = 0.0;
                for k in 0..width {
                    if k > 0 {
                        sum += mean_p0 * (1.0 - (-r * k as f64).exp());
                    }
                    per_ordering.push(sum / (k + 1) as f64);
                }
            }
            w.add(
                &metrics::random_aopc(fill),
                &[self.orderings, width],
                &per_ordering,
            )
            .unwrap();
        }
        w.write(&inputs.metrics.join(Kind::Metrics.file_name()))
            .unwrap();

        // stats
        fs_err::create_dir_all(&inputs.stats).unwrap();
        fs_err::write(
            inputs.stats.join("stats.json"),
            self.stats_json().to_string(),
        )
        .unwrap();

        if self.key_files {
            for (stage, dir) in inputs.stages() {
                if stage.name() == "stats" {
                    continue; // one stage "run by hand"
                }
                let record = json!({"key": format!("{}-key-0123456789abcdef", stage.name()), "stage": stage.name(), "fields": {}, "wall_seconds": 12.5});
                fs_err::write(dir.join("key.json"), record.to_string()).unwrap();
            }
        }
        inputs
    }

    /// A stats.json in the format of `sal_psychometrics::stage::results` whose numbers follow
    /// the same rankings.
    fn stats_json(&self) -> serde_json::Value {
        let steps = [10usize, 20];
        let v = |metric: &str, l: Option<usize>, fill: &str| json!({"metric": metric, "steps": l, "fill": fill});
        let variants: Vec<(&str, Option<usize>)> = std::iter::once(("faithfulness", None))
            .chain(
                // The paper's, then the metrics it does not have (stats/3).
                ["aopc_morf", "aopc_lerf", "srg", "auc_morf"]
                    .iter()
                    .flat_map(|m| steps.map(|l| (*m, Some(l)))),
            )
            .collect();
        let all: Vec<&str> = METHODS.to_vec();
        let without: Vec<&str> = METHODS.iter().copied().filter(|m| *m != "edge").collect();
        let mut reliability = Vec::new();
        for &fill in &self.fills {
            for (i, (metric, l)) in variants.iter().enumerate() {
                for (subset, methods) in [("all", &all), ("without_edge", &without)] {
                    let with_edge = subset == "all";
                    let alpha = 0.1 + 0.02 * i as f64 + if with_edge { 0.1 } else { 0.0 }
                        - if fill == "uniform" { 0.05 } else { 0.0 };
                    let rho = if metric.ends_with("morf") {
                        0.6
                    } else if *metric == "faithfulness" {
                        0.15
                    } else {
                        0.4
                    } - if with_edge { 0.05 } else { 0.0 };
                    let mut row = v(metric, *l, fill);
                    let extra = json!({
                        "subset": subset, "methods": methods, "alpha": alpha, "alpha_ci": [alpha - 0.02, alpha + 0.02],
                        "alpha_ci_undefined": 0, "pairable_values": 100, "mean_rank": vec![3.0; methods.len()],
                        "missing": vec![0; methods.len()], "inter_method_rho": rho, "pairs": [],
                    });
                    row.as_object_mut()
                        .unwrap()
                        .extend(extra.as_object().unwrap().clone());
                    reliability.push(row);
                }
            }
        }
        let mut consistency = Vec::new();
        for (m, method) in METHODS.iter().enumerate() {
            let l = Some(20);
            let pairs = [
                (
                    "faithfulness_vs_aopc_morf",
                    v("faithfulness", None, "mean"),
                    v("aopc_morf", l, "mean"),
                    0.2 + 0.02 * m as f64,
                ),
                (
                    "faithfulness_vs_aopc_lerf",
                    v("faithfulness", None, "mean"),
                    v("aopc_lerf", l, "mean"),
                    -0.1 - 0.01 * m as f64,
                ),
                (
                    "aopc_morf_vs_aopc_lerf",
                    v("aopc_morf", l, "mean"),
                    v("aopc_lerf", l, "mean"),
                    0.3,
                ),
                (
                    "faithfulness_fills",
                    v("faithfulness", None, "mean"),
                    v("faithfulness", None, "uniform"),
                    0.5,
                ),
                (
                    "aopc_morf_fills",
                    v("aopc_morf", l, "mean"),
                    v("aopc_morf", l, "uniform"),
                    0.7,
                ),
                (
                    "aopc_lerf_fills",
                    v("aopc_lerf", l, "mean"),
                    v("aopc_lerf", l, "uniform"),
                    0.65,
                ),
                (
                    "faithfulness_vs_srg",
                    v("faithfulness", None, "mean"),
                    v("srg", l, "mean"),
                    0.25,
                ),
                (
                    "srg_fills",
                    v("srg", l, "mean"),
                    v("srg", l, "uniform"),
                    0.8,
                ),
            ];
            for (comparison, x, y, rho) in pairs {
                consistency.push(json!({"method": method, "comparison": comparison, "x": x, "y": y, "rho": rho, "n": 30}));
            }
        }
        let scores = |scale: f64| -> Vec<serde_json::Value> {
            let mut out = Vec::new();
            for &fill in &self.fills {
                for (m, method) in METHODS.iter().enumerate() {
                    let f = f64::from(self.f_means[m]) * scale;
                    let morf = f64::from(self.morf_rates[m]) * scale;
                    let lerf = f64::from(self.lerf_rates[m]) * scale;
                    for (metric, l, mean) in [
                        ("faithfulness", None, f),
                        ("aopc_morf", Some(20), morf),
                        ("aopc_lerf", Some(20), lerf),
                        ("srg", Some(20), morf - lerf),
                        ("auc_morf", Some(20), 1.0 - morf),
                    ] {
                        let mut row = v(metric, l, fill);
                        let extra = json!({"method": method, "n": 30, "mean": mean, "ci": [mean - 0.01, mean + 0.01]});
                        row.as_object_mut()
                            .unwrap()
                            .extend(extra.as_object().unwrap().clone());
                        out.push(row);
                    }
                }
            }
            out
        };
        let random = |mean: f64| -> Vec<serde_json::Value> {
            self.fills.iter().map(|fill| json!({"fill": fill, "steps": 20, "mean": mean, "ci": [mean - 0.01, mean + 0.01]})).collect()
        };
        let mut groups: Vec<serde_json::Value> = (0..CLASSES.len())
            .map(|c| {
                json!({"name": format!("label={c}"), "kind": "label", "label": c, "images": self.per_class,
                       "scores": scores(1.0 + 0.1 * c as f64), "random": random(0.1), "alpha": []})
            })
            .collect();
        groups.push(
            json!({"name": "confidence<=0.8", "kind": "confidence", "label": null, "images": 8,
                           "scores": scores(0.5), "random": random(0.1), "alpha": []}),
        );
        groups.push(
            json!({"name": "confidence>0.8", "kind": "confidence", "label": null, "images": 22,
                           "scores": scores(1.0), "random": random(0.1), "alpha": []}),
        );
        let global: Vec<serde_json::Value> = scores(1.0)
            .into_iter()
            .map(|mut row| {
                let extra = json!({"missing": 0, "median": 0.1, "q25": 0.05, "q75": 0.15});
                row.as_object_mut()
                    .unwrap()
                    .extend(extra.as_object().unwrap().clone());
                row
            })
            .collect();
        let random_baseline: Vec<serde_json::Value> = self
            .fills
            .iter()
            .flat_map(|fill| steps.map(|l| json!({"fill": fill, "steps": l, "orderings": self.orderings, "mean": 0.1, "interval": [0.08, 0.12], "ci": [0.09, 0.11]})))
            .collect();
        json!({
            "schema": "stats/3", "images": CLASSES.len() * self.per_class, "methods": METHODS, "fills": self.fills,
            "metrics": [
                {"name": "faithfulness", "direction": "descending", "steps": false, "in_paper": true, "definition": "F"},
                {"name": "aopc_morf", "direction": "descending", "steps": true, "in_paper": true, "definition": "AOPC MoRF"},
                {"name": "aopc_lerf", "direction": "ascending", "steps": true, "in_paper": true, "definition": "AOPC LeRF"},
                {"name": "srg", "direction": "descending", "steps": true, "in_paper": false, "definition": "SRG_L = AOPC_MoRF_L - AOPC_LeRF_L"},
                {"name": "auc_morf", "direction": "ascending", "steps": true, "in_paper": false, "definition": "Quantus trapezoid AUC"},
            ],
            "subsets": [{"name": "all", "methods": all}, {"name": "without_edge", "methods": without}],
            "curve_steps": self.steps, "aopc_steps": steps, "skipped_aopc_steps": [], "consistency_steps": 20,
            "alpha_level": "ordinal", "bootstrap": 200, "seed": 4, "alpha_ci": 0.999, "mean_ci": 0.95,
            "confidence_threshold": 0.8, "faithfulness_nan": [],
            "reliability": reliability, "consistency": consistency, "global": global,
            "random_baseline": random_baseline, "groups": groups,
        })
    }
}

/// A config as the pipeline would pass (defaults).
pub fn config() -> sal_config::Config {
    sal_config::Config::default()
}

/// Every file under `dir`, relative, sorted, with its bytes.
pub fn read_tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in fs_err::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((
                    path.strip_prefix(dir).unwrap().to_owned(),
                    fs_err::read(&path).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}
