//! `sal attribute`: dataset + model -> `saliency.safetensors`.

use std::path::PathBuf;

use anyhow::Context;

use super::args::StageArgs;
use crate::logging;

/// `sal attribute --config FILE --out DIR --data DIR --train DIR`
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
}

/// Computes every configured saliency map and writes `saliency.safetensors` into `--out`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = args.stage.load_config()?;
    let options = sal_attribution::Options {
        progress: !logging::quiet(),
    };
    let outputs =
        sal_attribution::run_with(&config, &args.data, &args.train, &args.stage.out, &options)
            .with_context(|| {
                format!(
                    "attribute stage (data {}, train {})",
                    args.data.display(),
                    args.train.display()
                )
            })?;
    let total: f64 = outputs.timings.iter().map(|t| t.seconds).sum();
    tracing::info!(
        "attribute: {} images, {} methods, {total:.1} s",
        outputs.images,
        outputs.timings.len()
    );
    Ok(())
}
