//! `sal bench`: throughput of the fast CPU kernels as ratios to a matmul in the same process.

use anyhow::Context;
use sal_model::fast::bench::{self, BenchOptions};

/// `sal bench [--json] [--repetitions N] [--warmup N]`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Timed runs per case (the median is reported).
    #[arg(long, default_value_t = BenchOptions::default().repetitions)]
    pub repetitions: usize,
    /// Untimed warm-up runs per case.
    #[arg(long, default_value_t = BenchOptions::default().warmup)]
    pub warmup: usize,
}

/// Runs the benchmark and prints it. Missing a target is reported, not an error: the
/// machine may be busy; compare ratios from a quiet run.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let options = BenchOptions {
        repetitions: args.repetitions.max(1),
        warmup: args.warmup,
        ..BenchOptions::default()
    };
    tracing::info!("running the benchmark (a few seconds to a minute, depending on the load)");
    let report = bench::run(&options).context("running the benchmark")?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).context("printing the report as JSON")?
        );
    } else {
        print!("{}", report.table());
        println!(
            "targets: {}",
            if report.all_targets_met() {
                "all met"
            } else {
                "NOT all met"
            }
        );
    }
    Ok(())
}
