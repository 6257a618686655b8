//! `sal bench`: throughput of the fast kernels as a ratio to a large matmul in the same process.
//!
//! A 2048 x 2048 x 2048 f32 matmul with the gemm call the kernels use (here on all threads)
//! gives the machine's practical peak at the moment of the run; the eval forward (batch 128 and
//! 256), forward + input gradient (batch 128) and a training step (batch 128) are reported as
//! images/s, GFLOP/s (77.3 MFLOP per image forward, x2 with the input gradient, x3 for a
//! training step) and the ratio of their GFLOP/s to the matmul's. Ratios from one run are
//! comparable across machines and loads; absolute numbers are not. Every case is warmed up,
//! then timed several times; the median counts. Weights are random (fixed seed) with plausible
//! BatchNorm statistics: the work does not depend on the values.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::arch::{Architecture, CONV_LAYERS, IMAGE_VALUES};
use crate::backend::{BatchStats, TrainBackend};
use crate::error::Result;
use crate::fast::{matmul, FastBackend, FastNet, Layout};
use crate::inference::{Classifier, InputGradient};
use crate::weights::{Trainable, Weights};

/// What to measure and how often.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BenchOptions {
    /// Untimed runs before the timed ones.
    pub warmup: usize,
    /// Timed runs per case (the median is reported).
    pub repetitions: usize,
    /// Side of the square reference matmul.
    pub matmul_size: usize,
    /// Seed of the random weights and images.
    pub seed: u64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            warmup: 2,
            repetitions: 7,
            matmul_size: 2048,
            seed: 0,
        }
    }
}

/// One measured case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchRow {
    /// What was measured.
    pub name: String,
    /// Images per call (0 for the matmul).
    pub batch: usize,
    /// Median seconds per call.
    pub seconds: f64,
    /// Images per second (0 for the matmul).
    pub images_per_second: f64,
    /// Useful FLOPs per second / 1e9.
    pub gflops: f64,
    /// `gflops` / the matmul's GFLOP/s.
    pub ratio: f64,
    /// The ratio the case should reach (issue 3), if any.
    pub target: Option<f64>,
    /// For work that replaces full forward passes (the metrics engine): its forward passes per
    /// second / the bare full forward's at the same batch size, measured in the same run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_full_forward: Option<f64>,
}

/// The result of [`run`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// Rayon threads used.
    pub threads: usize,
    /// The 1-minute load average when the run ended (Linux), a hint of how noisy it was.
    pub load_average: Option<f64>,
    /// Options of the run.
    pub options: BenchOptions,
    /// The matmul first, then the network cases (`sal bench` adds the metrics engine's).
    pub rows: Vec<BenchRow>,
}

impl BenchReport {
    /// Whether every case with a target reached it.
    pub fn all_targets_met(&self) -> bool {
        self.rows
            .iter()
            .all(|r| r.target.is_none_or(|t| r.ratio >= t))
    }

    /// A plain-text table.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:<34} {:>5} {:>10} {:>9} {:>7} {:>7}\n",
            "case", "batch", "images/s", "GFLOP/s", "ratio", "target"
        );
        for r in &self.rows {
            let batch = if r.batch == 0 {
                "-".to_owned()
            } else {
                r.batch.to_string()
            };
            let ips = if r.batch == 0 {
                "-".to_owned()
            } else {
                format!("{:.0}", r.images_per_second)
            };
            let target = r.target.map_or("-".to_owned(), |t| format!(">={t:.2}"));
            s.push_str(&format!(
                "{:<34} {:>5} {:>10} {:>9.1} {:>7.2} {:>7}",
                r.name, batch, ips, r.gflops, r.ratio, target
            ));
            if let Some(v) = r.vs_full_forward {
                s.push_str(&format!("  {v:.2}x the full forward"));
            }
            s.push('\n');
        }
        let load = self
            .load_average
            .map_or("unknown".to_owned(), |l| format!("{l:.2}"));
        s.push_str(&format!(
            "threads: {}, load average (1 min): {load}\n",
            self.threads
        ));
        s
    }
}

/// Random weights for `arch` from `seed`: He-uniform convs and classifier, BatchNorm scale near
/// 1, shift near 0, running mean near 0 and running variance near 1.
pub fn random_weights(arch: &Architecture, seed: u64) -> Weights {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut params = Trainable::zeros(arch);
    for l in 0..CONV_LAYERS {
        let bound = (6.0 / (9.0 * arch.in_channels(l) as f32)).sqrt();
        params.conv[l]
            .iter_mut()
            .for_each(|w| *w = rng.random_range(-bound..bound));
        params.bn_weight[l]
            .iter_mut()
            .for_each(|w| *w = rng.random_range(0.8..1.2));
        params.bn_bias[l]
            .iter_mut()
            .for_each(|w| *w = rng.random_range(-0.1..0.1));
    }
    let bound = (6.0 / arch.flat_features() as f32).sqrt();
    params
        .classifier
        .iter_mut()
        .for_each(|w| *w = rng.random_range(-bound..bound));
    let running_mean = std::array::from_fn(|l| {
        (0..arch.widths[l])
            .map(|_| rng.random_range(-0.2..0.2))
            .collect()
    });
    let running_var = std::array::from_fn(|l| {
        (0..arch.widths[l])
            .map(|_| rng.random_range(0.5..1.5))
            .collect()
    });
    Weights {
        arch: *arch,
        params,
        running_mean,
        running_var,
    }
}

/// `n` random normalised images (uniform on -2..2), NHWC.
///
/// # Shapes
/// returns `[n, 32, 32, 3]`.
pub fn random_images(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n * IMAGE_VALUES)
        .map(|_| rng.random_range(-2.0..2.0))
        .collect()
}

/// Median seconds of `f` over `options.repetitions` runs after `options.warmup` runs.
fn time(options: &BenchOptions, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    for _ in 0..options.warmup {
        f()?;
    }
    let mut times = Vec::with_capacity(options.repetitions.max(1));
    for _ in 0..options.repetitions.max(1) {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// The 1-minute load average from `/proc/loadavg`, where there is one.
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Runs every case on the paper's architecture (see the module doc).
pub fn run(options: &BenchOptions) -> Result<BenchReport> {
    let arch = Architecture::default();
    let flops = arch.flops_per_image();
    let weights = random_weights(&arch, options.seed);

    let size = options.matmul_size;
    let a = random_images(size * size / IMAGE_VALUES + 1, options.seed + 1);
    let b = random_images(size * size / IMAGE_VALUES + 1, options.seed + 2);
    let mut c = vec![0.0f32; size * size];
    let t = time(options, || {
        matmul(
            size,
            size,
            size,
            &a,
            Layout::Normal,
            &b,
            Layout::Normal,
            &mut c,
            false,
            true,
        );
        Ok(())
    })?;
    drop((a, b, c));
    let matmul_gflops = 2.0 * (size as f64).powi(3) / t / 1e9;
    let mut rows = vec![BenchRow {
        name: format!("matmul {size}x{size}x{size} (reference)"),
        batch: 0,
        seconds: t,
        images_per_second: 0.0,
        gflops: matmul_gflops,
        ratio: 1.0,
        target: None,
        vs_full_forward: None,
    }];
    let mut row = |name: &str, batch: usize, seconds: f64, flops_per_image: f64, target: f64| {
        let gflops = batch as f64 * flops_per_image / seconds / 1e9;
        rows.push(BenchRow {
            name: name.to_owned(),
            batch,
            seconds,
            images_per_second: batch as f64 / seconds,
            gflops,
            ratio: gflops / matmul_gflops,
            target: Some(target),
            vs_full_forward: None,
        });
    };

    let mut net = FastNet::new(&weights)?;
    for batch in [128, 256] {
        let images = random_images(batch, options.seed + 3);
        let mut logits = vec![0.0; batch * arch.classes];
        let t = time(options, || net.logits(&images, &mut logits))?;
        row("eval forward", batch, t, flops, 0.50);
    }

    let batch = 128;
    let images = random_images(batch, options.seed + 4);
    let classes: Vec<usize> = (0..batch).map(|i| i % arch.classes).collect();
    let mut logits = vec![0.0; batch * arch.classes];
    let mut gradients = vec![0.0; batch * IMAGE_VALUES];
    let t = time(options, || {
        net.logits_and_input_gradients(&images, &classes, &mut logits, &mut gradients)
    })?;
    row("eval forward + input gradient", batch, t, 2.0 * flops, 0.35);

    let labels: Vec<u8> = (0..batch).map(|i| (i % arch.classes) as u8).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed + 5);
    let mask: Vec<f32> = (0..batch * arch.flat_features())
        .map(|_| if rng.random_bool(0.5) { 2.0 } else { 0.0 })
        .collect();
    let mut backend = FastBackend::new();
    let mut grads = Trainable::zeros(&arch);
    let mut stats = BatchStats::zeros(&arch.widths);
    let t = time(options, || {
        backend
            .train_step(&weights, &images, &labels, &mask, &mut grads, &mut stats)
            .map(|_| ())
    })?;
    row("training step (FastBackend)", batch, t, 3.0 * flops, 0.40);

    Ok(BenchReport {
        threads: rayon::current_num_threads(),
        load_average: load_average(),
        options: *options,
        rows,
    })
}
