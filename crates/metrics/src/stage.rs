//! The `metrics` stage: dataset + model + saliency -> `metrics.safetensors`, in checkpointed
//! chunks, optionally as one shard of the images.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use sal_artifact::{Kind, Meta};
use sal_config::{Config, Stage};
use sal_model::candle_net::CandleNet;
use sal_model::fast::FastNet;
use sal_model::Classifier;

pub use crate::inputs::Inputs;

use crate::checkpoint::Checkpoints;
use crate::device_engine::DeviceEngine;
use crate::engine::{Engine, ImageInput, ImageResult};
use crate::error::{MetricsError, Result};
use crate::inputs::Explained;
use crate::output::{assemble, table_from_results, Globals, Mode, META_SHARD};
use crate::protocol::Protocol;
use crate::shard::ShardSpec;
use crate::table::Table;

/// How the stage runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Draw a progress bar (indicatif also hides it when stderr is not a terminal).
    pub progress: bool,
    /// Compute only this shard of the images and write a shard file.
    pub shard: Option<ShardSpec>,
    /// Stop (as if killed) after computing and checkpointing this many chunks, without writing
    /// the output: for testing resumption.
    pub stop_after_chunks: Option<usize>,
}

/// What the stage did.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// The written `metrics.safetensors` (a shard file with `--shard`); `None` if the run was
    /// stopped by [`Options::stop_after_chunks`].
    pub path: Option<PathBuf>,
    /// Images of this run (of this shard).
    pub images: usize,
    /// Images computed now.
    pub computed_images: usize,
    /// Images taken from checkpoints of an earlier, interrupted run.
    pub resumed_images: usize,
    /// Forward passes run now.
    pub forward_passes: u64,
    /// Wall time of the computation (reading inputs excluded), seconds.
    pub seconds: f64,
    /// NaN faithfulness values, per method and fill.
    pub faithfulness_nan: BTreeMap<String, BTreeMap<String, usize>>,
}

impl Outputs {
    /// Forward passes per second of wall time.
    pub fn passes_per_second(&self) -> f64 {
        self.forward_passes as f64 / self.seconds.max(1e-9)
    }
}

/// Runs the stage with the model of `<train>/model.safetensors`: on the fast CPU kernels, or
/// with candle on `[metrics] device` (see [`sal_config::Backend`]).
pub fn run(config: &Config, inputs: &Inputs, out_dir: &Path, options: &Options) -> Result<Outputs> {
    let section = &config.metrics;
    section.validate().map_err(MetricsError::Config)?;
    if section.backend.is_fast_on(&section.device) {
        let (weights, _) = sal_model::Weights::load(&inputs.model_path())?;
        let mut net = FastNet::new(&weights)?;
        let incremental = section.incremental.then(|| net.clone());
        let model = Model::Host {
            classifier: &mut net,
            incremental: incremental.as_ref(),
        };
        run_model(config, inputs, out_dir, options, model)
    } else {
        // The device first: one that is absent or not built in is an error naming it, before
        // anything is read (never a fallback to the CPU).
        let device = sal_model::candle_net::device_from_name(&section.device)?;
        let (weights, _) = sal_model::Weights::load(&inputs.model_path())?;
        let net = sal_model::candle_net::eval_net_on(&weights, &device)?;
        if section.incremental {
            tracing::info!(
                "metrics: full passes on {} (the incremental forward is a fast-CPU-kernel path)",
                section.device
            );
        }
        run_with_device_net(config, inputs, out_dir, options, &net)
    }
}

/// Runs the stage with any classifier (the model file still identifies the input in the
/// metadata, but is not read), always with full passes.
pub fn run_with_classifier(
    config: &Config,
    inputs: &Inputs,
    out_dir: &Path,
    options: &Options,
    classifier: &mut dyn Classifier,
) -> Result<Outputs> {
    let model = Model::Host {
        classifier,
        incremental: None,
    };
    run_model(config, inputs, out_dir, options, model)
}

/// Runs the stage with a candle network, building the perturbed batches on its device.
pub fn run_with_device_net(
    config: &Config,
    inputs: &Inputs,
    out_dir: &Path,
    options: &Options,
    net: &CandleNet,
) -> Result<Outputs> {
    run_model(config, inputs, out_dir, options, Model::Device(net))
}

/// What runs the forward passes.
enum Model<'c> {
    /// Perturbed batches built on the host, run by a classifier; with `incremental` (the fast
    /// model behind `classifier`), its incremental forward gives the logits instead.
    Host {
        classifier: &'c mut dyn Classifier,
        incremental: Option<&'c FastNet>,
    },
    /// Perturbed batches built on a candle network's device.
    Device(&'c CandleNet),
}

/// The engine of a [`Model`]. One value per stage run, so the variants' size difference (the
/// host engine's buffers are inline) costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
enum AnyEngine<'a> {
    Host(Engine<'a>),
    Device(DeviceEngine<'a>),
}

impl AnyEngine<'_> {
    fn image(
        &mut self,
        input: &ImageInput<'_>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImageResult> {
        match self {
            AnyEngine::Host(e) => e.image(input, progress),
            AnyEngine::Device(e) => e.image(input, progress),
        }
    }

    fn passes(&self) -> u64 {
        match self {
            AnyEngine::Host(e) => e.passes(),
            AnyEngine::Device(e) => e.passes(),
        }
    }
}

/// The stage, with the forward passes of `model`.
fn run_model(
    config: &Config,
    inputs: &Inputs,
    out_dir: &Path,
    options: &Options,
    model: Model<'_>,
) -> Result<Outputs> {
    let section = &config.metrics;
    section.validate().map_err(MetricsError::Config)?;
    let explained = Explained::read(inputs)?;
    let protocol = Protocol::new(
        section,
        explained.methods.clone(),
        explained.normalisation.clone(),
    )?;
    let layout = protocol.layout();
    let globals = Globals {
        random_orders: protocol.random_orders.clone(),
        faithfulness_pixels: protocol.faithfulness_pixels.clone(),
    };
    let mut base = Meta::new(
        Kind::Metrics,
        Stage::Metrics.name(),
        config.section_json(Stage::Metrics),
    );
    base.inputs = inputs.keys()?;

    let n = explained.len();
    let range = match options.shard {
        Some(shard) => shard.range(n)?,
        None => 0..n,
    };
    let chunks: Vec<(usize, usize)> = range
        .clone()
        .step_by(section.checkpoint_images)
        .map(|a| (a, (a + section.checkpoint_images).min(range.end)))
        .collect();
    fs_err::create_dir_all(out_dir)?;
    let checkpoints = Checkpoints::new(out_dir, base.clone(), layout.clone());
    let mut tables: Vec<Option<Table>> = chunks
        .iter()
        .map(|&(a, b)| checkpoints.load(a, b, &explained.index[a..b]))
        .collect();
    let resumed_images: usize = tables.iter().flatten().map(|t| t.images).sum();
    let to_compute = range.len() - resumed_images;
    let passes_per_image = protocol.passes_per_image();
    let extra_independent: usize = (0..protocol.fills.len())
        .map(|f| (protocol.delta_draws(f) - 1) * protocol.faithfulness_pixels.len())
        .sum();
    tracing::info!(
        "metrics: {} images{} ({} resumed from checkpoints), {} methods, fills {:?} (uniform draws {}), L = {}, R = {}, P = {}: {} forward passes per image{}",
        range.len(),
        options.shard.map(|s| format!(" (shard {s} of {n} images)")).unwrap_or_default(),
        resumed_images,
        protocol.methods.len(),
        section.fills,
        section.uniform_draws,
        protocol.steps,
        protocol.random_count(),
        protocol.faithfulness_pixels.len(),
        passes_per_image,
        if extra_independent > 0 {
            format!(", {extra_independent} of them for the per-method Deltas of independent draws")
        } else {
            String::new()
        },
    );

    let bar = progress_bar(options.progress, (to_compute * passes_per_image) as u64);
    let start = Instant::now();
    let mut engine = match model {
        Model::Host {
            classifier,
            incremental,
        } => {
            let mut engine = Engine::new(classifier, &protocol);
            if let Some(net) = incremental {
                engine = engine.with_incremental(net);
                tracing::info!(
                    "metrics: incremental forward ({:.1} MiB of activations per image in flight)",
                    engine.state_bytes_per_image() as f64 / (1024.0 * 1024.0)
                );
            }
            AnyEngine::Host(engine)
        }
        Model::Device(net) => AnyEngine::Device(DeviceEngine::new(net, &protocol)?),
    };
    let mut computed_images = 0;
    let mut computed_chunks = 0;
    for (slot, &(a, b)) in tables.iter_mut().zip(&chunks) {
        if slot.is_some() {
            continue;
        }
        let mut results = Vec::with_capacity(b - a);
        for pos in a..b {
            let maps = explained.maps_of(pos);
            let input = ImageInput {
                index: explained.index[pos],
                predicted: explained.predicted[pos],
                pixels: explained.pixels_of(pos),
                maps: &maps,
            };
            results.push(engine.image(&input, &mut |rows| bar.inc(rows))?);
            computed_images += 1;
            let rate = computed_images as f64 / start.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "{computed_images}/{to_compute} images, {rate:.2} images/s"
            ));
        }
        let table = table_from_results(&layout, &results)?;
        checkpoints.save(a, b, &table, &globals)?;
        *slot = Some(table);
        computed_chunks += 1;
        if options.stop_after_chunks == Some(computed_chunks) {
            bar.abandon();
            tracing::info!("metrics: stopped after {computed_chunks} chunks, as asked");
            return Ok(Outputs {
                path: None,
                images: range.len(),
                computed_images,
                resumed_images,
                forward_passes: engine.passes(),
                seconds: start.elapsed().as_secs_f64(),
                faithfulness_nan: BTreeMap::new(),
            });
        }
    }
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let passes = engine.passes();

    let tables: Vec<Table> = tables
        .into_iter()
        .map(|t| t.expect("every chunk is loaded or computed"))
        .collect();
    let table = Table::concat(&tables)?;
    let mode = match options.shard {
        Some(shard) => Mode::Partial {
            field: META_SHARD,
            description: serde_json::to_value(shard.describe(n)?).expect("shard info is JSON"),
        },
        None => Mode::Final {
            store_random_curves: section.store_random_curves,
        },
    };
    let faithfulness_nan = crate::output::faithfulness_nan(&layout, &table);
    let writer = assemble(&layout, &table, &globals, base, &mode)?;
    let path = out_dir.join(Kind::Metrics.file_name());
    writer.write(&path)?;
    checkpoints.remove()?;

    report_nan(&faithfulness_nan, range.len());
    report_saturation(&layout, &table);
    tracing::info!(
        "metrics: {passes} forward passes in {seconds:.1} s ({:.0} passes/s, {:.2} images/s); wrote {}",
        passes as f64 / seconds.max(1e-9),
        computed_images as f64 / seconds.max(1e-9),
        path.display()
    );
    Ok(Outputs {
        path: Some(path),
        images: range.len(),
        computed_images,
        resumed_images,
        forward_passes: passes,
        seconds,
        faithfulness_nan,
    })
}

/// A progress bar over forward passes (rate and ETA), hidden when not wanted.
fn progress_bar(show: bool, passes: u64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(passes);
    let style = ProgressStyle::with_template(
        "metrics {wide_bar} {human_pos}/{human_len} passes, {per_sec}, ETA {eta} | {msg}",
    )
    .expect("the template is valid");
    bar.set_style(style);
    bar
}

/// Logs the NaN faithfulness counts in one warning, when there are any.
fn report_nan(nan: &BTreeMap<String, BTreeMap<String, usize>>, images: usize) {
    let parts: Vec<String> = nan
        .iter()
        .flat_map(|(method, per_fill)| {
            per_fill
                .iter()
                .filter(|(_, &count)| count > 0)
                .map(move |(fill, count)| format!("{method}.{fill} {count}/{images}"))
        })
        .collect();
    if !parts.is_empty() {
        tracing::warn!(
            "faithfulness undefined (zero variance of relevance or delta over the faithfulness pixels; stored as NaN, counted in the metadata field `faithfulness_nan`): {}",
            parts.join(", ")
        );
    }
}

/// Logs how many Deltas, faithfulness values and curves the f32 probabilities of earlier
/// versions would have lost, against the f64 complement now used (see `saturation`).
fn report_saturation(layout: &crate::Layout, table: &Table) {
    let columns = crate::saturation::columns(layout);
    let rows = table
        .column(sal_artifact::names::metrics::SATURATION)
        .and_then(|c| c.data.as_u32())
        .unwrap_or(&[]);
    let totals = crate::saturation::totals(&columns, rows);
    let sum = |prefix: &str| -> u64 {
        totals
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v)
            .sum()
    };
    tracing::info!(
        "metrics: saturation, f32 way -> f64 complement: p0 == 1 on {} -> {} images; Deltas exactly 0: {} -> {}; NaN faithfulness: {} -> {}; flat curves: {} -> {} (metadata field `saturation`)",
        sum("f32.p0_one"),
        sum("f64.p0_one"),
        sum("f32.delta_zero."),
        sum("f64.delta_zero."),
        sum("f32.faithfulness_nan."),
        sum("f64.faithfulness_nan."),
        sum("f32.curve_flat."),
        sum("f64.curve_flat."),
    );
}
