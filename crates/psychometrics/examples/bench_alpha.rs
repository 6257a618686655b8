//! Times the bootstrap of Krippendorff's alpha at the paper's scale: 10,000 resamples of
//! 10,000 images (coders) ranking 5 methods (units).
//!
//! Run with `cargo run --release -p sal-psychometrics --example bench_alpha [images] [resamples]`.
//! Prints the seconds of the fast rank-table bootstrap, and, as a reference measured in the same
//! run, the seconds per resample of the general alpha on the same ranks.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_psychometrics::{
    alpha_bootstrap, percentile_interval, Bootstrap, Direction, Level, RankTable,
};

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("arguments: [images] [resamples]"));
    let images = args.next().unwrap_or(10_000);
    let resamples = args.next().unwrap_or(10_000);
    let methods = 5;
    // Scores with a weak common preference (method 0 tends to be best), ties and a few NaNs.
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let scores: Vec<f64> = (0..images * methods)
        .map(|i| {
            if rng.random_bool(0.01) {
                f64::NAN
            } else {
                ((i % methods) as f64 * -0.1 + rng.random::<f64>() * 20.0).round() / 20.0
            }
        })
        .collect();
    let threads = rayon::current_num_threads();

    let start = Instant::now();
    let table = RankTable::from_scores(&scores, images, methods, Direction::Descending)
        .expect("valid scores");
    let point = table.alpha(Level::Ordinal);
    let boot = Bootstrap { resamples, seed: 1 };
    let replicates = table.bootstrap(Level::Ordinal, &boot);
    let ci = percentile_interval(&replicates, 0.999).expect("valid level");
    let fast = start.elapsed().as_secs_f64();
    println!(
        "rank-table bootstrap: {images} images x {methods} methods ({} distinct rankings), {resamples} resamples, \
         {threads} threads: {fast:.3} s (alpha {:.4}, 99.9% CI [{:.4}, {:.4}])",
        table.patterns(),
        point.alpha,
        ci.lo,
        ci.hi
    );

    let reference_resamples = 20;
    let ranks = table.ranks();
    let start = Instant::now();
    let general = alpha_bootstrap(
        &ranks,
        images,
        methods,
        Level::Ordinal,
        &Bootstrap {
            resamples: reference_resamples,
            seed: 1,
        },
    )
    .expect("valid ranks");
    let per = start.elapsed().as_secs_f64() / reference_resamples as f64;
    assert!(
        (general[0] - replicates[0]).abs() < 1e-9,
        "the two implementations disagree"
    );
    println!(
        "reference (general alpha per resample): {:.2} ms/resample, {:.1} s for {resamples}; rank table is {:.0}x faster",
        per * 1e3,
        per * resamples as f64,
        per * resamples as f64 / fast
    );
}
