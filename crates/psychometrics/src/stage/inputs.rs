//! What the stage reads: `saliency.safetensors` (images, labels, confidence, method names) and
//! `metrics.safetensors` (drop curves, f(x), faithfulness, random baseline, saturation counts),
//! reduced to per-image scores: every metric of
//! [`DEFINITIONS`](crate::stage::variant::DEFINITIONS) computed from the curves, at every L the
//! stage reports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sal_artifact::names::{metrics as mn, saliency as sn};
use sal_artifact::{input_key, Artifact, Kind};

use crate::error::{Result, StatsError};
use crate::stage::variant::{Curves, Metric, Order, Source, Variant, DEFINITIONS};

/// The inputs of the stage, with every curve metric already reduced to the L values the stage
/// reports.
#[derive(Debug)]
pub struct StageInputs {
    /// `<attribute dir>/saliency.safetensors`.
    pub saliency_path: PathBuf,
    /// `<metrics dir>/metrics.safetensors`.
    pub metrics_path: PathBuf,
    /// Cache keys of the two inputs, for the output's metadata.
    pub saliency_key: String,
    /// See `saliency_key`.
    pub metrics_key: String,
    /// Methods: the saliency artifact's configured order, then alphabetical.
    pub methods: Vec<String>,
    /// Fills: the metrics artifact's configured order, then alphabetical.
    pub fills: Vec<String>,
    /// Test-set index of each image, [N].
    pub image_index: Vec<u32>,
    /// True label of each image, [N].
    pub label: Vec<u8>,
    /// Predicted class of each image, [N].
    pub predicted: Vec<u8>,
    /// Softmax probability of the predicted class, [N].
    pub confidence: Vec<f32>,
    /// L of the curves (their length minus one).
    pub curve_steps: usize,
    /// The requested AOPC L values that fit the curves, ascending.
    pub aopc_steps: Vec<usize>,
    /// The requested AOPC L values above `curve_steps`, skipped.
    pub skipped_aopc_steps: Vec<usize>,
    /// L of the internal-consistency table: the requested one, or `curve_steps` if shorter.
    pub consistency_steps: usize,
    /// The L values at which the curve metrics are held (`aopc_steps` and
    /// `consistency_steps`), ascending.
    pub steps: Vec<usize>,
    /// f(x) per image (`p0`), [N].
    pub p0: Vec<f64>,
    /// Each curve metric (AOPC MoRF / LeRF, SRG, ...) at each of `steps` per (method, metric,
    /// fill), [N, steps].
    curve_scores: BTreeMap<(String, Metric, String), Vec<f64>>,
    /// Faithfulness per (method, fill), [N], NaN where undefined.
    faithfulness: BTreeMap<(String, String), Vec<f64>>,
    /// Per-image AOPC of the mean random curve at each of `steps`, per fill, [N, steps].
    random_per_image: BTreeMap<String, Vec<f64>>,
    /// Per-ordering AOPC (averaged over images) at each of `steps`, per fill, [R, steps].
    random_per_ordering: BTreeMap<String, (usize, Vec<f64>)>,
    /// The metrics file's saturation totals (`saturation` metadata: `{column: total}`), empty
    /// when it has none.
    pub saturation: BTreeMap<String, u64>,
}

impl StageInputs {
    /// Reads both artifacts and computes every curve metric at the requested `aopc_steps` that
    /// fit the curves and at `consistency_steps` (or the curves' L if shorter).
    pub fn read(
        attribute_dir: &Path,
        metrics_dir: &Path,
        aopc_steps: &[usize],
        consistency_steps: usize,
    ) -> Result<Self> {
        let saliency_path = attribute_dir.join(Kind::Saliency.file_name());
        let metrics_path = metrics_dir.join(Kind::Metrics.file_name());
        let saliency = Artifact::open(&saliency_path, Kind::Saliency)?;
        let metrics = Artifact::open(&metrics_path, Kind::Metrics)?;

        let (shape, image_index) = saliency.read_dims::<u32>(sn::IMAGE_INDEX, &[None])?;
        let n = shape[0];
        let label = saliency.read::<u8>(sn::LABEL, &[n])?;
        let predicted = saliency.read::<u8>(sn::PREDICTED, &[n])?;
        let confidence = saliency.read_finite::<f32>(sn::CONFIDENCE, &[n])?;
        let found = saliency
            .names()
            .filter_map(|name| name.strip_prefix("saliency."))
            .map(str::to_owned)
            .collect();
        let methods = by_preference(found, &configured_list(&saliency, "methods"));
        let bad = |message: String| StatsError::BadInput {
            path: saliency_path.clone(),
            message,
        };
        if methods.len() < 2 {
            return Err(bad(format!(
                "{} saliency method(s) (tensors `saliency.<method>`); ranking needs at least 2",
                methods.len()
            )));
        }
        if n == 0 {
            return Err(bad("no images".to_owned()));
        }

        let metrics_index = metrics
            .read::<u32>(mn::IMAGE_INDEX, &[n])
            .map_err(|e| match e {
                sal_artifact::ArtifactError::WrongShape { found, .. } => StatsError::BadInput {
                    path: metrics_path.clone(),
                    message: format!(
                        "`{}` has shape {found:?}, but the saliency artifact has {n} images",
                        mn::IMAGE_INDEX
                    ),
                },
                other => other.into(),
            })?;
        if metrics_index != image_index {
            return Err(StatsError::BadInput {
                path: metrics_path.clone(),
                message: format!(
                    "`{}` is not the saliency artifact's `{}` (same images in the same order)",
                    mn::IMAGE_INDEX,
                    sn::IMAGE_INDEX
                ),
            });
        }
        let prefix = mn::random_mean_drop("");
        let found = metrics
            .names()
            .filter_map(|name| name.strip_prefix(prefix.as_str()))
            .map(str::to_owned)
            .collect();
        let fills = by_preference(found, &configured_list(&metrics, "fills"));
        if fills.is_empty() {
            return Err(StatsError::BadInput {
                path: metrics_path.clone(),
                message: format!(
                    "no fills (no tensor named `{}`)",
                    mn::random_mean_drop("<fill>")
                ),
            });
        }

        // L of the curves, from the first one; every other must match.
        let first = mn::drop(&methods[0], Order::Morf.name(), &fills[0]);
        let width = metrics.shape(&first)?.get(1).copied().unwrap_or(0);
        if width < 2 {
            return Err(StatsError::BadInput {
                path: metrics_path.clone(),
                message: format!("`{first}` has fewer than 2 columns (L + 1 >= 2)"),
            });
        }
        let curve_steps = width - 1;
        let (mut used, mut skipped): (Vec<usize>, Vec<usize>) =
            aopc_steps.iter().partition(|&&l| l <= curve_steps);
        used.sort_unstable();
        used.dedup();
        skipped.sort_unstable();
        let consistency_steps = consistency_steps.min(curve_steps);
        let mut steps = used.clone();
        steps.push(consistency_steps);
        steps.sort_unstable();
        steps.dedup();
        if let Some(&l) = steps.iter().find(|&&l| l == 0) {
            return Err(StatsError::BadInput {
                path: metrics_path.clone(),
                message: format!("AOPC at L = {l} asked for; L must be at least 1"),
            });
        }
        let steps = &steps[..];

        let p0 = metrics.read_finite::<f64>(mn::P0, &[n])?;
        let mut curve_scores = BTreeMap::new();
        let mut faithfulness = BTreeMap::new();
        for method in &methods {
            for fill in &fills {
                let read = |order: Order| {
                    metrics.read_finite::<f64>(&mn::drop(method, order.name(), fill), &[n, width])
                };
                let (morf, lerf) = (read(Order::Morf)?, read(Order::Lerf)?);
                for definition in &DEFINITIONS {
                    if let Source::Curves(score) = definition.source {
                        curve_scores.insert(
                            (method.clone(), definition.metric, fill.clone()),
                            curve_metric_at(score, &morf, &lerf, &p0, width, steps),
                        );
                    }
                }
                let name = mn::faithfulness(method, fill);
                let f: Vec<f64> = metrics
                    .read::<f32>(&name, &[n])?
                    .into_iter()
                    .map(f64::from)
                    .collect();
                if let Some(index) = f.iter().position(|v| v.is_infinite()) {
                    return Err(StatsError::BadInput {
                        path: metrics_path.clone(),
                        message: format!("`{name}` holds {} at image row {index}; faithfulness is a correlation (NaN when undefined)", f[index]),
                    });
                }
                faithfulness.insert((method.clone(), fill.clone()), f);
            }
        }
        let mut random_per_image = BTreeMap::new();
        let mut random_per_ordering = BTreeMap::new();
        for fill in &fills {
            let curves = metrics.read_finite::<f64>(&mn::random_mean_drop(fill), &[n, width])?;
            random_per_image.insert(fill.clone(), aopc_at(&curves, width, steps));
            let name = mn::random_aopc(fill);
            let (shape, per_ordering) = metrics.read_dims::<f64>(&name, &[None, Some(width)])?;
            metrics.check_finite(&name, &per_ordering)?;
            let columns = per_ordering
                .chunks_exact(width)
                .flat_map(|row| steps.iter().map(move |&l| row[l]))
                .collect();
            random_per_ordering.insert(fill.clone(), (shape[0], columns));
        }

        let saturation = metrics
            .meta()
            .extra
            .get("saturation")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        Ok(StageInputs {
            saturation,
            saliency_key: input_key(&saliency_path)?,
            metrics_key: input_key(&metrics_path)?,
            saliency_path,
            metrics_path,
            methods,
            fills,
            image_index,
            label,
            predicted,
            confidence,
            curve_steps,
            aopc_steps: used,
            skipped_aopc_steps: skipped,
            consistency_steps,
            steps: steps.to_vec(),
            p0,
            curve_scores,
            faithfulness,
            random_per_image,
            random_per_ordering,
        })
    }

    /// Number of images N.
    pub fn images(&self) -> usize {
        self.image_index.len()
    }

    fn step_column(&self, steps: Option<usize>) -> usize {
        let l = steps.expect("curve metrics carry their L");
        self.steps
            .binary_search(&l)
            .unwrap_or_else(|_| panic!("curve metrics at L = {l} were not computed"))
    }

    /// The scores of method `m` (index into `methods`) for `variant`, one per image.
    ///
    /// # Shapes
    /// Returns [N].
    pub fn method_scores(&self, m: usize, variant: &Variant) -> Vec<f64> {
        let method = self.methods[m].clone();
        match variant.metric.definition().source {
            Source::Faithfulness => self.faithfulness[&(method, variant.fill.clone())].clone(),
            Source::Curves(_) => {
                let j = self.step_column(variant.steps);
                let s = self.steps.len();
                self.curve_scores[&(method, variant.metric, variant.fill.clone())]
                    .iter()
                    .skip(j)
                    .step_by(s)
                    .copied()
                    .collect()
            }
        }
    }

    /// The scores of the methods `subset` (indices into `methods`) for `variant`.
    ///
    /// # Shapes
    /// Returns [N, subset.len()], row = image.
    pub fn scores(&self, variant: &Variant, subset: &[usize]) -> Vec<f64> {
        let columns: Vec<Vec<f64>> = subset
            .iter()
            .map(|&m| self.method_scores(m, variant))
            .collect();
        (0..self.images())
            .flat_map(|i| columns.iter().map(move |c| c[i]))
            .collect()
    }

    /// Per-image AOPC_L of the mean random curve with `fill`.
    ///
    /// # Shapes
    /// Returns [N].
    pub fn random_per_image(&self, steps: usize, fill: &str) -> Vec<f64> {
        let j = self.step_column(Some(steps));
        self.random_per_image[fill]
            .iter()
            .skip(j)
            .step_by(self.steps.len())
            .copied()
            .collect()
    }

    /// Per-ordering AOPC_L (each averaged over images) with `fill`.
    ///
    /// # Shapes
    /// Returns [R].
    pub fn random_per_ordering(&self, steps: usize, fill: &str) -> Vec<f64> {
        let j = self.step_column(Some(steps));
        let (_, values) = &self.random_per_ordering[fill];
        values
            .iter()
            .skip(j)
            .step_by(self.steps.len())
            .copied()
            .collect()
    }
}

/// AOPC_L of each drop curve at each L of `steps`: `1 / (L + 1) * sum_{k=1..L} d[k]`, with
/// `d[k] = f(x^(0)) - f(x^(k))`.
///
/// # Shapes
/// `drops`: [N, width] (width = L_max + 1); `steps`: [S] ascending, each `<= L_max`;
/// returns [N, S].
pub fn aopc_at(drops: &[f64], width: usize, steps: &[usize]) -> Vec<f64> {
    let mut out = Vec::with_capacity(drops.len() / width * steps.len());
    for curve in drops.chunks_exact(width) {
        let mut sum = 0.0;
        let mut next = 0;
        for (k, &dk) in curve.iter().enumerate() {
            if k > 0 {
                sum += dk;
            }
            while next < steps.len() && steps[next] == k {
                out.push(sum / (k + 1) as f64);
                next += 1;
            }
        }
    }
    out
}

/// A curve metric `score` of each image at each L of `steps`.
///
/// # Shapes
/// `morf`, `lerf`: [N, width] drop curves (width = L_max + 1); `p0`: [N]; `steps`: [S], each
/// in 1..=L_max; returns [N, S].
pub fn curve_metric_at(
    score: fn(Curves<'_>, usize) -> f64,
    morf: &[f64],
    lerf: &[f64],
    p0: &[f64],
    width: usize,
    steps: &[usize],
) -> Vec<f64> {
    let mut out = Vec::with_capacity(p0.len() * steps.len());
    for ((morf, lerf), &p0) in morf
        .chunks_exact(width)
        .zip(lerf.chunks_exact(width))
        .zip(p0)
    {
        let curves = Curves { morf, lerf, p0 };
        out.extend(steps.iter().map(|&l| score(curves, l)));
    }
    out
}

/// A string list from an artifact's metadata (`methods`, `fills`): the kind-specific field if
/// present, else the field of its config section; empty when neither exists.
fn configured_list(artifact: &Artifact, key: &str) -> Vec<String> {
    let meta = artifact.meta();
    meta.extra
        .get(key)
        .or_else(|| meta.config.get(key))
        .and_then(|v| v.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `found`, ordered as in `preferred` first, then alphabetically; duplicates removed.
fn by_preference(mut found: Vec<String>, preferred: &[String]) -> Vec<String> {
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
    fn aopc_of_a_known_curve() {
        // f = (1, 0.5, 0.25, 0.25): drops (0, 0.5, 0.75, 0.75): AOPC_1 = 0.5 / 2,
        // AOPC_3 = (0.5 + 0.75 + 0.75) / 4.
        let curves = [
            0.0, 0.5, 0.75, 0.75, /* a flat curve */ 0.0, 0.0, 0.0, 0.0,
        ];
        let a = aopc_at(&curves, 4, &[1, 3]);
        assert_eq!(a, [0.25, 0.5, 0.0, 0.0]);
    }

    #[test]
    fn curve_aopc_is_bit_identical_to_the_cumulative_aopc() {
        // The per-L sums of the metric definitions must give the same bits as the running sum
        // (stats files of schema 2 hold those).
        let curves: Vec<f64> = (0..2 * 101)
            .map(|i| ((i * 7919) % 1000) as f64 * 1e-3 / 3.0)
            .map(|v| if v == 0.0 { 0.0 } else { v })
            .collect();
        let curves: Vec<f64> = curves
            .chunks_exact(101)
            .flat_map(|c| std::iter::once(0.0).chain(c[1..].iter().copied()))
            .collect();
        let steps = [1, 20, 37, 100];
        let p0 = [0.9, 0.5];
        let via_definition = curve_metric_at(
            crate::stage::variant::aopc_morf,
            &curves,
            &curves,
            &p0,
            101,
            &steps,
        );
        let cumulative = aopc_at(&curves, 101, &steps);
        assert_eq!(
            via_definition
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>(),
            cumulative.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn curve_metrics_are_per_image_and_per_step() {
        // Two images, L_max = 2; SRG and AUC worked by hand.
        let morf = [0.0, 0.5, 0.75, /* image 2 */ 0.0, 0.25, 0.5];
        let lerf = [0.0, 0.25, 0.25, /* image 2 */ 0.0, 0.0, 0.5];
        let p0 = [1.0, 0.75];
        let srg = curve_metric_at(crate::stage::variant::srg, &morf, &lerf, &p0, 3, &[1, 2]);
        // Image 1: (0.25)/2, (0.25 + 0.5)/3; image 2: 0.25/2, (0.25 + 0)/3.
        assert_eq!(srg, [0.125, 0.25, 0.125, 0.25 / 3.0]);
        let auc = curve_metric_at(crate::stage::variant::auc_morf, &morf, &lerf, &p0, 3, &[2]);
        // f after steps 1, 2: image 1 (0.5, 0.25) -> 0.375; image 2 (0.5, 0.25) -> 0.375.
        assert_eq!(auc, [0.375, 0.375]);
    }

    #[test]
    fn preferred_names_first_then_alphabetical() {
        let found = ["zeta", "edge", "alpha", "sensitivity"]
            .map(str::to_owned)
            .to_vec();
        let preferred = ["sensitivity", "edge", "missing"].map(str::to_owned);
        assert_eq!(
            by_preference(found, &preferred),
            ["sensitivity", "edge", "alpha", "zeta"]
        );
    }
}
