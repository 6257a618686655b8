//! Every command-line flag of `cargo xtask`, in one place.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use sal_config::Stage;

/// The sal pipeline orchestrator: runs the stages of `sal` in order, caching each stage's
/// artifacts under `artifacts/<stage>/<key>/`.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    version,
    after_help = "Environment:\n  \
        SAL_BIN=PROGRAM   run PROGRAM instead of building `sal` in release (same arguments; the tests use a fake `sal`)\n  \
        SAL_CIFAR10_DIR   folder of the CIFAR-10 binary batches, passed on to the stages (see the README)"
)]
pub struct Xtask {
    /// Folder holding the stage folders, the lock and the temporary folders
    /// [default: `artifacts/` at the repository root].
    #[arg(long, global = true, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline: each stage only if its cache key changed.
    Pipeline(Pipeline),
    /// Show each stage as fresh, stale (and why) or missing for a config.
    Status(Status),
    /// Print the folder holding a stage's current artifacts for a config.
    Path(PathCmd),
    /// Build `sal` in release and run `sal bench` (forward/training throughput as ratios to a matmul).
    Bench(Bench),
    /// Recompute the stages after `train` from the golden artifacts in test-fixtures/golden and
    /// compare them with the committed expected outputs.
    Regress(Regress),
    /// Join the shards of `sal metrics --shard I/N` runs (e.g. a cluster job array) and install
    /// the result as the config's cached `metrics` stage.
    MergeMetrics(MergeMetrics),
    /// "What moves the numbers": Table 1's headline cells and the claim count of several runs
    /// (variants of one protocol) side by side with the paper's, from their reports, and the
    /// claims each moves against the first (runs `sal variants`).
    Variants(Variants),
    /// Compile the CUDA build without a GPU: install nvcc 13.0 from PyPI into a cache folder,
    /// then build `sal --features cuda` and the candle-path test executables in release.
    CudaCheck(CudaCheck),
}

/// `cargo xtask variants [--out FILE] NAME=CONFIG_OR_REPORT_DIR...`
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Variants {
    /// Also write the table (Markdown) to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// `name=configs/x.toml` (its cached, fresh report) or `name=DIR` (a report folder holding
    /// `summary.json`, or a stage folder holding `report/summary.json`), in table order; the
    /// first with a report is the one the others' claims are compared with.
    #[arg(value_name = "NAME=SOURCE", required = true)]
    pub variants: Vec<String>,
}

/// `cargo xtask pipeline [--config FILE] [--until STAGE] [--force STAGE]... [--features F]...`
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Pipeline {
    /// The pipeline config [default: `configs/quick.toml` at the repository root].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Stop after this stage (data, train, attribute, metrics, stats, report).
    #[arg(long, value_name = "STAGE", value_parser = parse_stage)]
    pub until: Option<Stage>,
    /// Re-run this stage even if it is cached, and every stage that reads it (repeatable).
    #[arg(long, value_name = "STAGE", value_parser = parse_stage)]
    pub force: Vec<Stage>,
    /// Cargo features of `sal-cli` for the release build, e.g. `cuda` or `metal` (repeatable).
    #[arg(long, value_name = "F")]
    pub features: Vec<String>,
}

/// `cargo xtask status [--config FILE]`
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Status {
    /// The pipeline config [default: `configs/quick.toml` at the repository root].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `cargo xtask path STAGE [--config FILE]`
#[derive(Debug, Clone, clap::Args)]
pub struct PathCmd {
    /// The stage whose folder to print.
    #[arg(value_name = "STAGE", value_parser = parse_stage)]
    pub stage: Stage,
    /// The pipeline config [default: `configs/quick.toml` at the repository root].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `cargo xtask bench [--json] [--features F]...`
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Bench {
    /// Machine-readable output (passed on to `sal bench`).
    #[arg(long)]
    pub json: bool,
    /// Cargo features of `sal-cli` for the release build (repeatable).
    #[arg(long, value_name = "F")]
    pub features: Vec<String>,
}

/// `cargo xtask regress [--refresh] [--features F]...`
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Regress {
    /// Write the recomputed outputs as the new expected files (after an intended change).
    #[arg(long)]
    pub refresh: bool,
    /// Cargo features of `sal-cli` for the release build (repeatable).
    #[arg(long, value_name = "F")]
    pub features: Vec<String>,
}

/// `cargo xtask merge-metrics [--config FILE] SHARD_DIR...`
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MergeMetrics {
    /// The pipeline config the shards were computed for [default: `configs/quick.toml`].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The shard folders (all N of them, any order), each written by `sal metrics --shard I/N`.
    #[arg(value_name = "SHARD_DIR", required = true)]
    pub shards: Vec<PathBuf>,
}

/// `cargo xtask cuda-check [--compute-cap N] [--cache DIR] [--target-dir DIR] [--bundle DIR]`
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CudaCheck {
    /// GPU compute capability to compile for (90: H100/H200, 80: A100)
    /// [default: `CUDA_COMPUTE_CAP`, else 90].
    #[arg(long, value_name = "N")]
    pub compute_cap: Option<String>,
    /// Where the CUDA wheels go [default: `SAL_CUDA_CACHE`, else `~/.cache/sal-cuda`].
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Cargo's target folder for the CUDA build [default: `<target>/cuda`, apart from the CPU
    /// build].
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
    /// Copy `sal` and the test executables, stripped, into this folder (for a GPU machine).
    #[arg(long, value_name = "DIR")]
    pub bundle: Option<PathBuf>,
    /// Build `sal` only, not the test executables.
    #[arg(long)]
    pub no_tests: bool,
}

/// Parses a stage name, listing the valid ones on error.
pub fn parse_stage(name: &str) -> Result<Stage, String> {
    Stage::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Stage::ALL.iter().map(|s| s.name()).collect();
        format!(
            "unknown stage {name:?}; the stages are {}",
            names.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_and_reject_unknown_stages() {
        let x = Xtask::try_parse_from([
            "xtask", "pipeline", "--until", "train", "--force", "data", "--force", "train",
        ])
        .unwrap();
        match x.command {
            Command::Pipeline(p) => {
                assert_eq!(p.until, Some(Stage::Train));
                assert_eq!(p.force, vec![Stage::Data, Stage::Train]);
                assert_eq!(p.config, None);
            }
            other => panic!("{other:?}"),
        }
        let err = Xtask::try_parse_from(["xtask", "path", "trian"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("trian") && err.contains("attribute"), "{err}");
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Xtask::command().debug_assert();
    }
}
