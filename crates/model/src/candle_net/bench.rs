//! `sal bench --device D`: the candle path's throughput on a device, as ratios to a large
//! matmul on the same device in the same run (the GPU counterpart of [`crate::fast::bench`]).
//!
//! Cases: an f32 matmul of side `matmul_size` (the reference), the eval forward at several
//! batch sizes, forward + input gradient and a training step (batch 128). Every call ends with
//! a device synchronisation, so the times are the device's, not the launch queue's.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::arch::{Architecture, IMAGE_VALUES};
use crate::backend::{BatchStats, TrainBackend};
use crate::candle_net::net::nhwc_to_tensor;
use crate::candle_net::{device_from_name, CandleBackend, CandleNet};
use crate::error::Result;
use crate::fast::bench::{random_images, random_weights, BenchOptions, BenchReport, BenchRow};
use crate::inference::InputGradient;
use crate::weights::Trainable;

/// Eval batch sizes measured on a device (large batches are what a GPU needs).
pub const EVAL_BATCHES: [usize; 3] = [256, 1024, 4096];

/// Median seconds of `f` (synchronised on `device`) after warm-up.
fn time(options: &BenchOptions, device: &Device, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    for _ in 0..options.warmup.max(1) {
        f()?;
        device.synchronize()?;
    }
    let mut times = Vec::with_capacity(options.repetitions.max(1));
    for _ in 0..options.repetitions.max(1) {
        let start = Instant::now();
        f()?;
        device.synchronize()?;
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Runs every case on `device` (see the module doc). Rows have no targets (the GPU
/// targets are absolute: 150,000 metrics passes/s, eval within 2x of the matmul rate).
pub fn run(device_name: &str, options: &BenchOptions) -> Result<BenchReport> {
    let device = device_from_name(device_name)?;
    let arch = Architecture::default();
    let flops = arch.flops_per_image();
    let weights = random_weights(&arch, options.seed);

    let size = options.matmul_size;
    let a = Tensor::rand(-1.0f32, 1.0, (size, size), &device)?;
    let b = Tensor::rand(-1.0f32, 1.0, (size, size), &device)?;
    let t = time(options, &device, || {
        a.matmul(&b)?;
        Ok(())
    })?;
    drop((a, b));
    let matmul_gflops = 2.0 * (size as f64).powi(3) / t / 1e9;
    let mut rows = vec![BenchRow {
        name: format!("matmul {size}x{size}x{size} on {device_name} (reference)"),
        batch: 0,
        seconds: t,
        images_per_second: 0.0,
        gflops: matmul_gflops,
        ratio: 1.0,
        target: None,
        vs_full_forward: None,
    }];
    let mut row = |name: &str, batch: usize, seconds: f64, flops_per_image: f64| {
        let gflops = batch as f64 * flops_per_image / seconds / 1e9;
        rows.push(BenchRow {
            name: name.to_owned(),
            batch,
            seconds,
            images_per_second: batch as f64 / seconds,
            gflops,
            ratio: gflops / matmul_gflops,
            target: None,
            vs_full_forward: None,
        });
    };

    let net = CandleNet::from_weights(&weights, &device, DType::F32)?;
    for batch in EVAL_BATCHES {
        let x = nhwc_to_tensor(&random_images(batch, options.seed + 3), &device, DType::F32)?;
        let t = time(options, &device, || {
            net.forward_eval(&x)?;
            Ok(())
        })?;
        row("eval forward (candle, on device)", batch, t, flops);
    }

    let batch = 128;
    let images = random_images(batch, options.seed + 4);
    let classes: Vec<usize> = (0..batch).map(|i| i % arch.classes).collect();
    let mut grad_net = net.clone();
    let (mut logits, mut gradients) = (
        vec![0.0; batch * arch.classes],
        vec![0.0; batch * IMAGE_VALUES],
    );
    let t = time(options, &device, || {
        grad_net.logits_and_input_gradients(&images, &classes, &mut logits, &mut gradients)
    })?;
    row(
        "forward + input gradient (host in/out)",
        batch,
        t,
        2.0 * flops,
    );

    let labels: Vec<u8> = (0..batch).map(|i| (i % arch.classes) as u8).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed + 5);
    let mask: Vec<f32> = (0..batch * arch.flat_features())
        .map(|_| if rng.random_bool(0.5) { 2.0 } else { 0.0 })
        .collect();
    let mut backend = CandleBackend::new(device.clone(), DType::F32)?;
    let mut grads = Trainable::zeros(&arch);
    let mut stats = BatchStats::zeros(&arch.widths);
    let t = time(options, &device, || {
        backend
            .train_step(&weights, &images, &labels, &mask, &mut grads, &mut stats)
            .map(|_| ())
    })?;
    row("training step (CandleBackend)", batch, t, 3.0 * flops);

    Ok(BenchReport {
        threads: rayon::current_num_threads(),
        load_average: None,
        options: *options,
        rows,
    })
}
