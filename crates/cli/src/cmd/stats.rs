//! `sal stats`: the `stats` stage, and the `alpha` / `spearman` utilities for any safetensors file.

use std::path::PathBuf;

use anyhow::Context;
use sal_config::Config;
use sal_psychometrics::{
    alpha_bootstrap, krippendorff_alpha, percentile_interval, spearman, spearman_bootstrap,
    tensor_file, Bootstrap, Level,
};
use serde_json::{json, Value};

use crate::logging;

/// `sal stats --config FILE --out DIR --attribute DIR --metrics DIR` runs the stage;
/// `sal stats alpha ...` and `sal stats spearman ...` run a statistic on your own data.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    pub utility: Option<Utility>,
    /// The pipeline config (TOML).
    #[arg(long, value_name = "FILE", required = true)]
    pub config: Option<PathBuf>,
    /// Folder to write stats.safetensors and stats.json into (created if missing).
    #[arg(long, value_name = "DIR", required = true)]
    pub out: Option<PathBuf>,
    /// Folder of the `attribute` stage (holds saliency.safetensors).
    #[arg(long, value_name = "DIR", required = true)]
    pub attribute: Option<PathBuf>,
    /// Folder of the `metrics` stage (holds metrics.safetensors).
    #[arg(long, value_name = "DIR", required = true)]
    pub metrics: Option<PathBuf>,
}

/// The utilities. Each prints one JSON object on stdout (NaN as null).
#[derive(Debug, clap::Subcommand)]
pub enum Utility {
    /// Krippendorff's alpha of a 2-D tensor shaped [coders, units] (NaN = missing).
    ///
    /// Prints {"alpha", "coders", "units", "pairable_values", "level"}, and with --bootstrap
    /// also "ci": [lo, hi], "ci_level", "bootstrap" and "seed" (the coders are resampled).
    Alpha(AlphaArgs),
    /// Spearman's rho between two 1-D tensors of equal length (pairs with a NaN dropped).
    ///
    /// Prints {"rho", "n"}, and with --bootstrap also "ci": [lo, hi], "ci_level", "bootstrap"
    /// and "seed" (the complete pairs are resampled).
    Spearman(SpearmanArgs),
}

/// `sal stats alpha`
#[derive(Debug, clap::Args)]
pub struct AlphaArgs {
    /// A safetensors file (any; float or integer tensors).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// The tensor, shaped [coders, units].
    #[arg(long, value_name = "NAME")]
    pub tensor: String,
    /// Level of measurement: nominal, ordinal, interval or ratio.
    #[arg(long, value_name = "LEVEL")]
    pub level: Level,
    #[command(flatten)]
    pub bootstrap: BootstrapArgs,
}

/// `sal stats spearman`
#[derive(Debug, clap::Args)]
pub struct SpearmanArgs {
    /// A safetensors file (any; float or integer tensors).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// The first 1-D tensor.
    #[arg(long, value_name = "NAME")]
    pub x: String,
    /// The second 1-D tensor.
    #[arg(long, value_name = "NAME")]
    pub y: String,
    #[command(flatten)]
    pub bootstrap: BootstrapArgs,
}

/// Optional percentile bootstrap interval.
#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {
    /// Add a percentile bootstrap interval from B resamples (e.g. 10000).
    #[arg(long, value_name = "B")]
    pub bootstrap: Option<usize>,
    /// Confidence level of the interval, e.g. 0.999 (named --ci because --level is alpha's
    /// level of measurement).
    #[arg(
        long,
        value_name = "LEVEL",
        default_value_t = 0.95,
        requires = "bootstrap"
    )]
    pub ci: f64,
    /// Seed of the resamples.
    #[arg(long, value_name = "S", default_value_t = 0, requires = "bootstrap")]
    pub seed: u64,
}

impl BootstrapArgs {
    /// Adds `ci`, `ci_level`, `bootstrap` and `seed` to `out` when a bootstrap was asked for.
    fn add_interval(
        &self,
        out: &mut Value,
        replicates: impl FnOnce(&Bootstrap) -> anyhow::Result<Vec<f64>>,
    ) -> anyhow::Result<()> {
        let Some(resamples) = self.bootstrap else {
            return Ok(());
        };
        anyhow::ensure!(
            resamples > 0,
            "--bootstrap 0: ask for at least one resample"
        );
        let boot = Bootstrap {
            resamples,
            seed: self.seed,
        };
        let interval = percentile_interval(&replicates(&boot)?, self.ci)?;
        out["ci"] = json!([interval.lo, interval.hi]);
        out["ci_level"] = json!(self.ci);
        out["bootstrap"] = json!(resamples);
        out["seed"] = json!(self.seed);
        if interval.undefined > 0 {
            out["ci_undefined_resamples"] = json!(interval.undefined);
        }
        Ok(())
    }
}

/// Runs the stage or the utility.
pub fn run(args: &Args) -> anyhow::Result<()> {
    match &args.utility {
        Some(Utility::Alpha(a)) => alpha(a),
        Some(Utility::Spearman(s)) => spearman_cmd(s),
        None => stage(args),
    }
}

fn stage(args: &Args) -> anyhow::Result<()> {
    // clap requires all four without a subcommand.
    let (Some(config), Some(out), Some(attribute), Some(metrics)) =
        (&args.config, &args.out, &args.attribute, &args.metrics)
    else {
        anyhow::bail!("sal stats needs --config, --out, --attribute and --metrics (or a utility: alpha, spearman)");
    };
    let config =
        Config::load(config).with_context(|| format!("loading config {}", config.display()))?;
    let options = sal_psychometrics::Options {
        progress: !logging::quiet(),
    };
    let outputs = sal_psychometrics::run_with(&config, attribute, metrics, out, &options)
        .with_context(|| {
            format!(
                "stats stage (attribute {}, metrics {})",
                attribute.display(),
                metrics.display()
            )
        })?;
    tracing::info!(
        "stats: {} images in {:.1} s -> {}",
        outputs.images,
        outputs.seconds,
        outputs.json.display()
    );
    Ok(())
}

fn alpha(args: &AlphaArgs) -> anyhow::Result<()> {
    let (shape, data) = tensor_file::read_f64(&args.input, &args.tensor, 2)?;
    let (coders, units) = (shape[0], shape[1]);
    let what = || format!("alpha of `{}` in {}", args.tensor, args.input.display());
    let a = krippendorff_alpha(&data, coders, units, args.level).with_context(what)?;
    let mut out = json!({
        "alpha": a.alpha,
        "coders": a.coders,
        "units": a.units,
        "pairable_values": a.pairable_values,
        "level": args.level.name(),
    });
    args.bootstrap.add_interval(&mut out, |boot| {
        alpha_bootstrap(&data, coders, units, args.level, boot).with_context(what)
    })?;
    println!("{out}");
    Ok(())
}

fn spearman_cmd(args: &SpearmanArgs) -> anyhow::Result<()> {
    let (_, x) = tensor_file::read_f64(&args.input, &args.x, 1)?;
    let (_, y) = tensor_file::read_f64(&args.input, &args.y, 1)?;
    let what = || {
        format!(
            "Spearman of `{}` and `{}` in {}",
            args.x,
            args.y,
            args.input.display()
        )
    };
    let rho = spearman(&x, &y).with_context(what)?;
    let mut out = json!({ "rho": rho.value, "n": rho.n });
    args.bootstrap.add_interval(&mut out, |boot| {
        spearman_bootstrap(&x, &y, boot).with_context(what)
    })?;
    println!("{out}");
    Ok(())
}
