//! `sal metrics`: dataset + model + saliency -> `metrics.safetensors` (or one shard of it).

use std::path::PathBuf;

use anyhow::Context;
use sal_metrics::{Inputs, Options, ShardSpec};

use super::args::StageArgs;
use crate::logging;

/// `sal metrics --config FILE --out DIR --data DIR --train DIR --attribute DIR [--shard I/N]`
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
    /// Folder of the `attribute` stage (holds `saliency.safetensors`).
    #[arg(long, value_name = "DIR")]
    pub attribute: PathBuf,
    /// Compute only shard I of N (0-based, a contiguous slice of the images) into a shard
    /// file; join the N shard folders with `sal merge metrics`.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<ShardSpec>,
}

fn parse_shard(spec: &str) -> Result<ShardSpec, String> {
    spec.parse()
        .map_err(|e: sal_metrics::MetricsError| e.to_string())
}

/// Runs the stage (resuming from `<out>/checkpoint/` if an earlier run was killed).
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = args.stage.load_config()?;
    let inputs = Inputs {
        data: args.data.clone(),
        train: args.train.clone(),
        attribute: args.attribute.clone(),
    };
    let options = Options {
        progress: !logging::quiet(),
        shard: args.shard,
        stop_after_chunks: None,
    };
    sal_metrics::run(&config, &inputs, &args.stage.out, &options).with_context(|| {
        format!(
            "metrics stage (data {}, train {}, attribute {}, output folder {})",
            args.data.display(),
            args.train.display(),
            args.attribute.display(),
            args.stage.out.display()
        )
    })?;
    Ok(())
}
