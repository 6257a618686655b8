//! `sal`: the reference implementation of "Sanity Checks for Saliency Metrics".
//!
//! One subcommand per pipeline stage; `cargo xtask pipeline` runs them in order with caching.

mod cmd;
mod logging;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Sanity checks for saliency metrics (Tomsett et al., AAAI 2020), reproducibly.
#[derive(Debug, Parser)]
#[command(name = "sal", version, about, long_about = None)]
struct Cli {
    /// More log output (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only warnings and errors, no progress bars.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Stage `attribute`: saliency maps of the test images (sensitivity, gradient x input,
    /// deep Taylor, DeepSHAP, edge) -> saliency.safetensors.
    Attribute(cmd::attribute::Args),
    /// Throughput of the fast CPU kernels (forward, input gradient, training step) as ratios
    /// to a 2048^3 matmul in the same process.
    Bench(cmd::bench::Args),
    /// Print a config file as the stages see it (defaults filled in, validated).
    Config(cmd::config::Args),
    /// Stage `data`: read and check the CIFAR-10 batches, split, write dataset.safetensors.
    Data(cmd::data::Args),
    /// Join the shard folders of a sharded stage (`sal merge metrics --out DIR SHARD_DIR...`).
    Merge(cmd::merge::Args),
    /// Stage `metrics`: AOPC curves (MoRF, LeRF, random baseline) and faithfulness for every
    /// saliency map -> metrics.safetensors (checkpointed; `--shard I/N` for a slice).
    Metrics(cmd::metrics::Args),
    /// Stage `report`: the paper's figures and tables beside ours (report.md, report.html).
    Report(cmd::report::Args),
    /// Stage `sanity`: model and data randomisation checks of the methods and the metrics
    /// (Adebayo et al. 2018) -> sanity.safetensors, sanity.json.
    Sanity(cmd::sanity::Args),
    /// Stage `stats`: reliability tables (alpha, Spearman, bootstrap intervals) from the
    /// metrics; or `sal stats alpha|spearman` on any safetensors file.
    Stats(cmd::stats::Args),
    /// Stage `train`: train the CNN on the dataset (resumable) -> model.safetensors,
    /// training_log.safetensors.
    Train(cmd::train::Args),
    /// "What moves the numbers": several runs' reports side by side (Table 1's headline cells,
    /// the claim count, the claims each moves against the first run), as Markdown.
    Variants(cmd::variants::Args),
}

fn main() -> ExitCode {
    sal_model::fast::tune_allocator();
    let cli = Cli::parse();
    logging::init(cli.verbose, cli.quiet);
    let result = match cli.command {
        Command::Attribute(args) => cmd::attribute::run(&args),
        Command::Bench(args) => cmd::bench::run(&args),
        Command::Config(args) => cmd::config::run(&args),
        Command::Data(args) => cmd::data::run(&args),
        Command::Merge(args) => cmd::merge::run(&args),
        Command::Metrics(args) => cmd::metrics::run(&args),
        Command::Report(args) => cmd::report::run(&args),
        Command::Sanity(args) => cmd::sanity::run(&args),
        Command::Stats(args) => cmd::stats::run(&args),
        Command::Train(args) => cmd::train::run(&args),
        Command::Variants(args) => cmd::variants::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
