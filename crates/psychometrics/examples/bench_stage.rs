//! Times the `stats` stage at the paper's scale on synthetic inputs: 10,000 images, 5 methods,
//! 2 fills, curves of L = 100, 10,000 bootstrap resamples (the default `[stats]` section).
//!
//! Run with `cargo run --release -p sal-psychometrics --example bench_stage [images] [resamples]
//! [keep-dir]`; with `keep-dir` the synthetic inputs and the outputs stay in that folder.

use std::time::Instant;

use sal_config::Config;
use sal_psychometrics::synthetic::{Structure, Synthetic};
use sal_psychometrics::{run_with, Options};

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: usize| {
        args.get(i).map_or(default, |a| {
            a.parse()
                .expect("arguments: [images] [resamples] [keep-dir]")
        })
    };
    let (images, resamples) = (number(0, 10_000), number(1, 10_000));
    let temporary = tempfile::tempdir().expect("a temporary folder");
    let dir = args
        .get(2)
        .map_or_else(|| temporary.path().to_owned(), std::path::PathBuf::from);
    let (attribute, metrics, out) = (dir.join("attribute"), dir.join("metrics"), dir.join("out"));
    std::fs::create_dir_all(&attribute).expect("attribute folder");
    std::fs::create_dir_all(&metrics).expect("metrics folder");
    let start = Instant::now();
    Synthetic::paper_like(images, 100, Structure::Random, 0)
        .write(&attribute, &metrics)
        .expect("synthetic inputs");
    println!(
        "synthetic inputs: {images} images in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    let mut config = Config::default();
    config.stats.bootstrap = resamples;
    let outputs = run_with(
        &config,
        &attribute,
        &metrics,
        &out,
        &Options { progress: false },
    )
    .expect("the stage runs");
    println!(
        "stats stage: {images} images, {resamples} resamples, {} threads: {:.1} s",
        rayon::current_num_threads(),
        outputs.seconds
    );
}
