//! The `stats` stage: `saliency.safetensors` + `metrics.safetensors` -> `stats.safetensors` +
//! `stats.json` (the paper's Table 1, inter-method correlations, Table 2, global scores with
//! intervals, the random baseline, and per-label / per-confidence breakdowns).
//!
//! Ranking direction: on every image the methods are ranked so that **rank 1 is the best
//! method** by the metric: higher F, higher AOPC_MoRF, lower AOPC_LeRF, higher SRG, lower
//! AUC_MoRF (each metric's row of [`variant::DEFINITIONS`]). Ties share their average
//! rank; a NaN faithfulness is a missing value of that method (unit) for that image (coder).
//! With the ordinal (or interval) level the direction does not change alpha; it makes the mean
//! ranks readable.
//!
//! The output tensors and the JSON are documented in `docs/artifacts.md`.

pub mod compute;
pub mod inputs;
pub mod results;
pub mod variant;
pub mod write;

use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use sal_artifact::{Kind, Meta};
use sal_config::{Config, Stage};

use crate::bootstrap::Bootstrap;
use crate::error::{Result, StatsError};
use crate::level::Level;
use crate::stage::compute::Settings;
use crate::stage::inputs::StageInputs;
use crate::stage::results::{Group, MetricInfo, StatsResults, SubsetInfo};
use crate::stage::variant::{Subset, Variant, DEFINITIONS};

pub use write::STATS_JSON;

/// How the stage reports progress.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Draw a progress bar (indicatif also hides it when stderr is not a terminal).
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { progress: true }
    }
}

/// What the stage wrote.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// `stats.safetensors`.
    pub stats: PathBuf,
    /// `stats.json`.
    pub json: PathBuf,
    /// N, the images.
    pub images: usize,
    /// Wall-clock seconds of the whole stage.
    pub seconds: f64,
}

/// Runs the stage: reads `<attribute_dir>/saliency.safetensors` and
/// `<metrics_dir>/metrics.safetensors`, writes `<out_dir>/stats.safetensors` and
/// `<out_dir>/stats.json` (each atomically, after everything is computed).
pub fn run(
    config: &Config,
    attribute_dir: &Path,
    metrics_dir: &Path,
    out_dir: &Path,
) -> Result<Outputs> {
    run_with(
        config,
        attribute_dir,
        metrics_dir,
        out_dir,
        &Options::default(),
    )
}

/// [`run`] with explicit [`Options`].
pub fn run_with(
    config: &Config,
    attribute_dir: &Path,
    metrics_dir: &Path,
    out_dir: &Path,
    options: &Options,
) -> Result<Outputs> {
    let start = Instant::now();
    let section = &config.stats;
    section.validate().map_err(StatsError::Config)?;
    let level: Level = section.alpha_level.parse()?;
    let inputs = StageInputs::read(
        attribute_dir,
        metrics_dir,
        &section.aopc_steps,
        section.consistency_steps,
    )?;
    tracing::debug!(
        "stats: inputs read in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let n = inputs.images();
    if !inputs.skipped_aopc_steps.is_empty() {
        tracing::warn!(
            "stats: aopc_steps {:?} exceed the curves' L = {} and are skipped",
            inputs.skipped_aopc_steps,
            inputs.curve_steps
        );
    }
    if inputs.consistency_steps < section.consistency_steps {
        tracing::warn!(
            "stats: consistency_steps = {} exceeds the curves' L = {}; Table 2 uses L = {}",
            section.consistency_steps,
            inputs.curve_steps,
            inputs.consistency_steps
        );
    }
    let subsets = Subset::all_and_without(&inputs.methods, &section.baseline_method);
    if subsets.len() == 1 {
        tracing::warn!(
            "stats: no method named {:?} (baseline_method); no rows without the baseline",
            section.baseline_method
        );
    }
    let settings = Settings {
        level,
        bootstrap: Bootstrap {
            resamples: section.bootstrap,
            seed: section.seed,
        },
        alpha_ci: section.alpha_ci,
        mean_ci: section.mean_ci,
        aopc_steps: inputs.aopc_steps.clone(),
        consistency_steps: inputs.consistency_steps,
    };
    let variants = Variant::all(&inputs.fills, &settings.aopc_steps);
    let groups = compute::groups(&inputs, section.confidence_threshold);
    tracing::info!(
        images = n,
        methods = ?inputs.methods,
        fills = ?inputs.fills,
        "stats: {} metric variants, {} bootstrap resamples",
        variants.len(),
        section.bootstrap
    );

    let progress = progress_bar(
        (variants.len() * subsets.len() + 1 + groups.len()) as u64,
        options.progress,
    );
    let faithfulness_nan = compute::faithfulness_nan(&inputs);
    for row in faithfulness_nan.iter().filter(|r| r.count > 0) {
        tracing::info!(
            "stats: faithfulness of {} ({}) is undefined (NaN) on {} of {n} images",
            row.method,
            row.fill,
            row.count
        );
    }
    let phase = Instant::now();
    let (reliability, group_alpha) =
        compute::reliability(&inputs, &settings, &variants, &subsets, &groups, &progress)?;
    let consistency = compute::consistency(&inputs, &settings)?;
    tracing::debug!(
        "stats: alpha, inter-method and consistency in {:.1} s",
        phase.elapsed().as_secs_f64()
    );
    let phase = Instant::now();
    let (global, random_baseline, group_scores) =
        compute::scores(&inputs, &settings, &variants, &groups, &progress)?;
    tracing::debug!(
        "stats: global and group scores in {:.1} s",
        phase.elapsed().as_secs_f64()
    );
    progress.finish_and_clear();

    let results = StatsResults {
        schema: Kind::Stats.schema(),
        images: n,
        methods: inputs.methods.clone(),
        fills: inputs.fills.clone(),
        metrics: DEFINITIONS.iter().map(MetricInfo::from).collect(),
        subsets: subsets
            .iter()
            .map(|s| SubsetInfo {
                name: s.name.clone(),
                methods: s
                    .methods
                    .iter()
                    .map(|&m| inputs.methods[m].clone())
                    .collect(),
            })
            .collect(),
        curve_steps: inputs.curve_steps,
        aopc_steps: settings.aopc_steps.clone(),
        skipped_aopc_steps: inputs.skipped_aopc_steps.clone(),
        consistency_steps: settings.consistency_steps,
        alpha_level: level,
        bootstrap: section.bootstrap,
        seed: section.seed,
        alpha_ci: section.alpha_ci,
        mean_ci: section.mean_ci,
        confidence_threshold: section.confidence_threshold,
        faithfulness_nan,
        saturation: inputs.saturation.clone(),
        reliability,
        consistency,
        global,
        random_baseline,
        groups: groups
            .iter()
            .zip(group_scores)
            .zip(group_alpha)
            .map(|((g, (scores, random)), alpha)| Group {
                name: g.name.clone(),
                kind: g.kind,
                label: g.label,
                images: g.rows.len(),
                scores,
                random,
                alpha,
            })
            .collect(),
    };
    let meta = Meta::new(
        Kind::Stats,
        Stage::Stats.name(),
        config.section_json(Stage::Stats),
    )
    .with_input(Stage::Attribute.name(), inputs.saliency_key.clone())
    .with_input(Stage::Metrics.name(), inputs.metrics_key.clone());
    write::write(&results, meta, out_dir)?;
    let seconds = start.elapsed().as_secs_f64();
    tracing::info!("stats: wrote {} in {seconds:.1} s", out_dir.display());
    Ok(Outputs {
        stats: out_dir.join(Kind::Stats.file_name()),
        json: out_dir.join(STATS_JSON),
        images: n,
        seconds,
    })
}

fn progress_bar(len: u64, draw: bool) -> ProgressBar {
    if !draw {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "stats [{bar:30}] {pos}/{len} bootstraps  {per_sec}  ETA {eta}  {msg}",
    )
    .expect("valid progress template")
    .progress_chars("=> ");
    bar.set_style(style);
    bar
}
