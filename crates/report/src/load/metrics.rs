//! What the report takes from `metrics.safetensors`: AOPC against L per method, order and fill,
//! the random baseline, and the per-image faithfulness.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use sal_artifact::Order;
use sal_artifact::{names::metrics as names, Artifact, Kind};

use crate::aopc::{mean_aopc, normal_quantile, random_band, Band};
use crate::error::{ReportError, Result};
use crate::load::saliency::{configured_list, order_by_preference};

/// The metrics artifact, summarised for the figures.
#[derive(Debug)]
pub struct Metrics {
    /// The file read.
    pub path: PathBuf,
    /// L_max: perturbation steps per curve.
    pub steps: usize,
    /// Fills, in the order of the config's `metrics.fills`, then alphabetical.
    pub fills: Vec<String>,
    /// Methods (as in the saliency artifact).
    pub methods: Vec<String>,
    /// Mean AOPC_L over images with its normal interval at `interval_level`, per (method,
    /// order, fill).
    pub aopc: BTreeMap<(String, Order, String), Band>,
    /// The level of the intervals of `aopc` and `random_mean` (the stats stage's `mean_ci`).
    pub interval_level: f64,
    /// Mean AOPC_L of the random baseline (`drop.random_mean.<fill>`), with its normal interval.
    pub random_mean: BTreeMap<String, Band>,
    /// The random baseline's 2.5/97.5 percentiles over orderings (`aopc.random.<fill>`).
    pub random_orderings: BTreeMap<String, Band>,
    /// Number of random orderings R per fill.
    pub orderings: BTreeMap<String, usize>,
    /// Per-image faithfulness F per (method, fill); NaN where the correlation is undefined.
    pub faithfulness: BTreeMap<(String, String), Vec<f32>>,
    /// `[metrics] uniform_draws` as recorded (`paired` / `independent`), if recorded.
    pub uniform_draws: Option<String>,
    /// The saturation totals (metadata `saturation`, `{"<f32|f64>.<what>": count}`); empty
    /// for files without them.
    pub saturation: BTreeMap<String, u64>,
}

impl Metrics {
    /// Reads `metrics.safetensors` for `methods`, checking that its images are `image_index`
    /// (those of the saliency artifact, in the same order). Fills are every
    /// `drop.random_mean.<fill>`, ordered as the artifact metadata lists them (`fills`), else
    /// as in `preferred_fills`, then alphabetically. Intervals of means are normal intervals
    /// `mean +- z SE` with z the normal quantile of `interval_level`.
    pub fn load(
        path: &Path,
        methods: &[String],
        image_index: &[u32],
        preferred_fills: &[String],
        interval_level: f64,
    ) -> Result<Self> {
        let z = normal_quantile(interval_level);
        let artifact = Artifact::open(path, Kind::Metrics)?;
        let recorded = configured_list(artifact.meta(), "fills");
        let preferred_fills = if recorded.is_empty() {
            preferred_fills
        } else {
            &recorded[..]
        };
        let n = image_index.len();
        let own_index = artifact.read_dims::<u32>(names::IMAGE_INDEX, &[None])?.1;
        if own_index != image_index {
            return Err(ReportError::Inconsistent {
                path: path.to_owned(),
                message: format!(
                    "`{}` holds {} images that are not those of the saliency artifact ({} images), in the same order",
                    names::IMAGE_INDEX,
                    own_index.len(),
                    n
                ),
            });
        }
        let prefix = names::random_mean_drop("");
        let found: Vec<String> = artifact
            .names()
            .filter_map(|name| name.strip_prefix(&prefix))
            .map(str::to_owned)
            .collect();
        let fills = order_by_preference(found, preferred_fills);
        if fills.is_empty() {
            return Err(ReportError::Missing {
                path: path.to_owned(),
                message: format!(
                    "no random baseline (no tensor named `{prefix}<fill>`), so no fill to report"
                ),
            });
        }
        let (shape, _) =
            artifact.read_dims::<f64>(&names::random_mean_drop(&fills[0]), &[Some(n), None])?;
        let width = shape[1];
        if width < 2 {
            return Err(ReportError::Inconsistent {
                path: path.to_owned(),
                message: format!(
                    "curves have {width} points; AOPC needs at least one perturbation step"
                ),
            });
        }
        let meta = artifact.meta();
        let uniform_draws = meta
            .config
            .get("uniform_draws")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let saturation = meta
            .extra
            .get("saturation")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let mut metrics = Metrics {
            uniform_draws,
            saturation,
            path: path.to_owned(),
            steps: width - 1,
            fills: fills.clone(),
            methods: methods.to_vec(),
            aopc: BTreeMap::new(),
            interval_level,
            random_mean: BTreeMap::new(),
            random_orderings: BTreeMap::new(),
            orderings: BTreeMap::new(),
            faithfulness: BTreeMap::new(),
        };
        for fill in &fills {
            for method in methods {
                for order in Order::ALL {
                    let name = names::drop(method, order.name(), fill);
                    let curves = artifact.read_finite::<f64>(&name, &[n, width])?;
                    metrics.aopc.insert(
                        (method.clone(), order, fill.clone()),
                        mean_aopc(&curves, n, width, z),
                    );
                }
                let name = names::faithfulness(method, fill);
                metrics.faithfulness.insert(
                    (method.clone(), fill.clone()),
                    artifact.read::<f32>(&name, &[n])?,
                );
            }
            let curves =
                artifact.read_finite::<f64>(&names::random_mean_drop(fill), &[n, width])?;
            metrics
                .random_mean
                .insert(fill.clone(), mean_aopc(&curves, n, width, z));
            let (shape, per_ordering) =
                artifact.read_dims::<f64>(&names::random_aopc(fill), &[None, Some(width)])?;
            artifact.check_finite(&names::random_aopc(fill), &per_ordering)?;
            if shape[0] == 0 {
                return Err(ReportError::Inconsistent {
                    path: path.to_owned(),
                    message: format!("`{}` holds no ordering", names::random_aopc(fill)),
                });
            }
            metrics.orderings.insert(fill.clone(), shape[0]);
            metrics.random_orderings.insert(
                fill.clone(),
                random_band(&per_ordering, shape[0], width, 0.025, 0.975),
            );
        }
        Ok(metrics)
    }

    /// Mean AOPC_L of `method` minus the random baseline's mean AOPC_L, with the method's interval
    /// shifted by the same amount (the paper's Figure 2a).
    pub fn adjusted(&self, method: &str, order: Order, fill: &str) -> Option<Band> {
        let band = self
            .aopc
            .get(&(method.to_owned(), order, fill.to_owned()))?;
        Some(band.minus(&self.random_mean.get(fill)?.centre))
    }

    /// The random baseline's percentile band minus its own mean (centred on 0).
    pub fn random_adjusted(&self, fill: &str) -> Option<Band> {
        Some(
            self.random_orderings
                .get(fill)?
                .minus(&self.random_mean.get(fill)?.centre),
        )
    }
}
