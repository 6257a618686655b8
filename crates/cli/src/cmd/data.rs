//! `sal data`: the CIFAR-10 batches -> `dataset.safetensors`.

use anyhow::Context;
use sal_data::RunOptions;

use super::args::StageArgs;

/// `sal data --config FILE --out DIR`
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub stage: StageArgs,
}

/// Runs the data stage. Without `data.dir` or `SAL_CIFAR10_DIR`, downloads the official
/// archive into `artifacts/downloads/` under the current folder.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = args.stage.load_config()?;
    let options = RunOptions {
        progress: !crate::logging::quiet(),
        ..RunOptions::default()
    };
    let outputs = sal_data::run_with(&config, &args.stage.out, &options)
        .with_context(|| format!("data stage (output folder {})", args.stage.out.display()))?;
    tracing::info!(
        mean = ?outputs.stats.mean_f32(),
        std = ?outputs.stats.std_f32(),
        verified = outputs.verified,
        "training-split channel statistics"
    );
    Ok(())
}
