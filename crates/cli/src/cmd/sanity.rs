//! `sal sanity`: model and data randomisation checks -> `sanity.safetensors`, `sanity.json`.

use std::path::PathBuf;

use anyhow::Context;

use super::args::StageArgs;
use crate::logging;

/// `sal sanity --config FILE --out DIR --data DIR --train DIR --attribute DIR --metrics DIR
/// [--random-labels DIR]`
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub stage: StageArgs,
    /// Folder of the `data` stage (holds `dataset.safetensors`).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Folder of the `train` stage (holds `model.safetensors`).
    #[arg(long, value_name = "DIR")]
    pub train: PathBuf,
    /// Folder of the `attribute` stage (holds `saliency.safetensors`: the methods and their
    /// settings).
    #[arg(long, value_name = "DIR")]
    pub attribute: PathBuf,
    /// Folder of the `metrics` stage (holds `metrics.safetensors`: the metric protocol).
    #[arg(long, value_name = "DIR")]
    pub metrics: PathBuf,
    /// The random-label model's own cache folder (not a stage's): a finished
    /// `random_labels.safetensors` there is reused, else the model is trained there (resuming
    /// from its checkpoint) and kept. Without it the model is trained in `--out` and removed at
    /// the end. `cargo xtask pipeline` passes `artifacts/random_labels/<key>/`.
    #[arg(long, value_name = "DIR")]
    pub random_labels: Option<PathBuf>,
}

/// Runs the randomisation checks and writes their results into `--out`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = args.stage.load_config()?;
    let inputs = sal_sanity::Inputs {
        data: args.data.clone(),
        train: args.train.clone(),
        attribute: args.attribute.clone(),
        metrics: args.metrics.clone(),
        random_labels: args.random_labels.clone(),
    };
    let options = sal_sanity::Options {
        progress: !logging::quiet(),
    };
    let outputs = sal_sanity::run(&config, &inputs, &args.stage.out, &options)
        .with_context(|| format!("sanity stage (out {})", args.stage.out.display()))?;
    let parts: Vec<String> = outputs
        .seconds
        .iter()
        .map(|(part, s)| format!("{part} {s:.1} s"))
        .collect();
    let random_labels = match outputs.random_labels {
        Some(origin) => format!("; random-label model {}", origin.name()),
        None => String::new(),
    };
    tracing::info!(
        "sanity: wrote {} ({}{random_labels})",
        outputs.path.display(),
        parts.join(", ")
    );
    Ok(())
}
