//! The metrics engine's forward passes per second against the bare forward pass, in one process,
//! with full passes and with the incremental forward.
//!
//! `cargo run --release -p sal-metrics --example engine_bench [-- IMAGES ROUNDS [full|incremental]]`
//!
//! The protocol of `configs/quick.toml` on random weights and images ([`sal_metrics::bench`]).
//! Each round times the bare `FastNet::logits` at the engine's mean batch size, then the engine
//! on IMAGES images; the medians over rounds are reported with their ratio (targets: >= 0.85
//! with full passes, >= 2.5 with the incremental forward), and for full passes the share of the
//! engine's wall time spent outside the model's `logits` (perturbation and bookkeeping).

use sal_metrics::bench::{self, EngineBenchOptions};
use sal_model::fast::tune_allocator;

fn main() -> anyhow::Result<()> {
    tune_allocator();
    let mut args = std::env::args().skip(1);
    let images: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let rounds: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let modes: Vec<bool> = match args.next().as_deref() {
        None => vec![false, true],
        Some("full") => vec![false],
        Some("incremental") => vec![true],
        Some(other) => anyhow::bail!("mode {other:?}: expected `full` or `incremental`"),
    };
    for incremental in modes {
        let name = if incremental {
            "incremental"
        } else {
            "full passes"
        };
        let options = EngineBenchOptions {
            images,
            rounds,
            incremental,
        };
        let mut round = 0;
        let result = bench::run(&options, &mut |bare, engine| {
            eprintln!(
                "{name} round {round}: bare forward {bare:.0}/s; engine {engine:.0} passes/s, ratio {:.3}",
                engine / bare
            );
            round += 1;
        })?;
        println!(
            "{name}: {} forward passes per image; bare FastNet::logits at batch {}: {:.0} images/s; \
             engine: {:.0} passes/s ({:.3} images/s); ratio engine / bare: {:.3}",
            result.passes_per_image,
            result.batch,
            result.bare_per_second,
            result.engine_per_second,
            result.engine_per_second / result.passes_per_image as f64,
            result.vs_full_forward()
        );
        if let Some(outside) = result.outside_model {
            println!(
                "{name}: engine time outside the model (perturbation, bookkeeping): {:.2}%",
                100.0 * outside
            );
        }
        if result.state_bytes_per_image > 0 {
            println!(
                "{name}: activations kept per image in flight: {:.1} MiB",
                result.state_bytes_per_image as f64 / (1024.0 * 1024.0)
            );
        }
    }
    Ok(())
}
