//! `sal merge`: join the shard files of a sharded stage.

use std::path::PathBuf;

use anyhow::Context;

/// `sal merge <stage> --out DIR SHARD_DIR...`
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub stage: Stage,
}

/// The stages that can be sharded.
#[derive(Debug, clap::Subcommand)]
pub enum Stage {
    /// Join the folders of `sal metrics --shard I/N` runs (all N, any order) into the
    /// `metrics.safetensors` an unsharded run writes (the same bytes).
    Metrics(Shards),
}

/// `--out DIR SHARD_DIR...`
#[derive(Debug, clap::Args)]
pub struct Shards {
    /// Folder to write the merged file into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The shard folders, each holding one shard's file.
    #[arg(value_name = "SHARD_DIR", required = true)]
    pub shards: Vec<PathBuf>,
}

/// Merges the shards.
pub fn run(args: &Args) -> anyhow::Result<()> {
    match &args.stage {
        Stage::Metrics(s) => {
            let path = sal_metrics::merge(&s.shards, &s.out).with_context(|| {
                format!(
                    "merging {} metrics shards into {}",
                    s.shards.len(),
                    s.out.display()
                )
            })?;
            tracing::info!("wrote {}", path.display());
        }
    }
    Ok(())
}
