//! `sal train`: dataset -> `model.safetensors` + `training_log.safetensors`.

use std::path::PathBuf;

use anyhow::Context;
use sal_model::train::RunOptions;

use super::args::StageArgs;
use crate::logging;

/// `sal train --config FILE --out DIR --data DIR`
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub stage: StageArgs,
    /// Folder of the `data` stage (holds `dataset.safetensors`).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
}

/// Trains the model of `[train]`, resuming from a checkpoint left in `--out` by an interrupted
/// run of the same config and dataset.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = args.stage.load_config()?;
    let options = RunOptions {
        progress: !logging::quiet(),
        ..RunOptions::default()
    };
    let outputs = sal_model::train::run_with(&config, &args.data, &args.stage.out, &options)
        .with_context(|| {
            format!(
                "train stage (data {}, output folder {})",
                args.data.display(),
                args.stage.out.display()
            )
        })?;
    tracing::info!(
        "wrote {} and {} ({} backend, {} epochs, {} resumed, best epoch {}, test accuracy {:.2}%, {:.1} min)",
        outputs.model.display(),
        outputs.log.display(),
        outputs.backend,
        outputs.epochs_run,
        outputs.resumed_epochs,
        outputs.best_epoch,
        100.0 * outputs.test_accuracy,
        outputs.seconds / 60.0
    );
    Ok(())
}
