//! `sal bench`: throughput of the fast CPU kernels as ratios to a matmul in the same process;
//! with `--device D`, of the candle path on that device (see [`super::bench_device`]).

use anyhow::Context;
use sal_metrics::bench::{self as engine_bench, EngineBenchOptions};
use sal_model::arch::Architecture;
use sal_model::fast::bench::{self, BenchOptions, BenchReport, BenchRow};

/// `sal bench [--json] [--repetitions N] [--warmup N] [--device D [--engine-images N] [--engine-batch N]]`
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
    /// Measure the candle path on this device (`cpu`, `cuda:N`, `metal`) instead of the fast
    /// CPU kernels, with a metrics-engine row.
    #[arg(long, value_name = "D")]
    pub device: Option<String>,
    /// Side of the reference matmul [default: 2048 on the CPU, 8192 with --device].
    #[arg(long, value_name = "N")]
    pub matmul_size: Option<usize>,
    /// With --device: images the metrics engine runs (paper protocol, 22,201 passes each).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub engine_images: usize,
    /// With --device: the metrics engine's forward batch size.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub engine_batch: usize,
}

/// Runs the benchmark and prints it. Missing a target is reported, not an error: the
/// machine may be busy; compare ratios from a quiet run.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let default_size = if args.device.is_some() { 8192 } else { 2048 };
    let options = BenchOptions {
        repetitions: args.repetitions.max(1),
        warmup: args.warmup,
        matmul_size: args.matmul_size.unwrap_or(default_size),
        ..BenchOptions::default()
    };
    tracing::info!("running the benchmark (a few seconds to a minute, depending on the load)");
    let report = match &args.device {
        None => {
            let mut report = bench::run(&options).context("running the benchmark")?;
            report.rows.push(incremental_engine_row(&report)?);
            report
        }
        Some(device) => super::bench_device::run(
            device,
            &options,
            args.engine_images.max(1),
            args.engine_batch.max(1),
        )?,
    };
    let cpu = match &args.device {
        None => cpu_description(),
        Some(device) => format!("{} (host); device {device}", cpu_description()),
    };
    if args.json {
        let mut value = serde_json::to_value(&report).context("printing the report as JSON")?;
        value["cpu"] = serde_json::Value::String(cpu);
        println!(
            "{}",
            serde_json::to_string_pretty(&value).context("printing the report as JSON")?
        );
    } else {
        print!("{}", report.table());
        println!("cpu: {cpu}");
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

/// The CPU's model name (Linux) and the widest vector instructions the kernels can use: the
/// GFLOP/s of the matmul roughly double from AVX2 to AVX-512, so numbers are comparable only
/// between machines with the same line.
fn cpu_description() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    format!("{model}, {}", simd_level())
}

#[cfg(target_arch = "x86_64")]
fn simd_level() -> &'static str {
    if is_x86_feature_detected!("avx512f") {
        "AVX-512"
    } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        "AVX2 + FMA (no AVX-512)"
    } else {
        "SSE only (no AVX2)"
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn simd_level() -> &'static str {
    std::env::consts::ARCH
}

/// The metrics engine with the incremental forward on the quick protocol (2 images, 3 rounds):
/// `images_per_second` counts its forward passes, `vs_full_forward` divides them by the bare
/// full forward's at the engine's batch size in the same rounds, and GFLOP/s count the work of
/// the full passes it stands for.
fn incremental_engine_row(report: &BenchReport) -> anyhow::Result<BenchRow> {
    let options = EngineBenchOptions {
        images: 2,
        rounds: 3,
        incremental: true,
    };
    let result = engine_bench::run(&options, &mut |_, _| {})
        .context("running the metrics engine benchmark")?;
    let matmul_gflops = report.rows.first().map_or(f64::NAN, |r| r.gflops);
    let gflops = result.engine_per_second * Architecture::default().flops_per_image() / 1e9;
    Ok(BenchRow {
        name: "metrics engine, incremental (quick)".to_owned(),
        batch: result.batch,
        seconds: result.batch as f64 / result.engine_per_second,
        images_per_second: result.engine_per_second,
        gflops,
        ratio: gflops / matmul_gflops,
        target: None,
        vs_full_forward: Some(result.vs_full_forward()),
    })
}
