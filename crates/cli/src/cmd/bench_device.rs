//! `sal bench --device D`: the candle path on a device, plus the metrics engine's forward
//! passes per second on that device with the paper's protocol.

use std::time::Instant;

use anyhow::Context;
use sal_config::MetricsConfig;
use sal_metrics::{DeviceEngine, ImageInput, Protocol};
use sal_model::arch::{Architecture, IMAGE_VALUES};
use sal_model::candle_net::{bench, eval_net};
use sal_model::fast::bench::{random_weights, BenchOptions, BenchReport, BenchRow};
use sal_model::inference::argmax_rows;
use sal_model::{Classifier, Normalizer};
use sal_perturbation::Normalisation;

/// The candle cases of [`bench::run`] and a metrics-engine row: `images` random images, 5
/// random maps each, the paper's `[metrics]` protocol (L = R = P = 100, both fills) with
/// forward batches of `batch_size`.
pub fn run(
    device: &str,
    options: &BenchOptions,
    images: usize,
    batch_size: usize,
) -> anyhow::Result<BenchReport> {
    let mut report =
        bench::run(device, options).with_context(|| format!("benchmarking {device}"))?;
    let matmul_gflops = report.rows[0].gflops;
    let arch = Architecture::default();
    let weights = random_weights(&arch, options.seed);
    let mut net = eval_net(&weights, device)?;
    let config = MetricsConfig {
        batch_size,
        ..MetricsConfig::default()
    };
    let normalizer = Normalizer::new([0.49, 0.48, 0.45], [0.25, 0.24, 0.26]);
    let normalisation = Normalisation::from_fn(|c, v| normalizer.value(c, v));
    let methods: Vec<String> = (0..5).map(|m| format!("m{m}")).collect();
    let protocol = Protocol::new(&config, methods, normalisation)?;

    let pixels: Vec<u8> = (0..images * IMAGE_VALUES)
        .map(|i| (i * 7919 % 251) as u8)
        .collect();
    let maps: Vec<f32> = (0..images * 5 * 1024)
        .map(|i| ((i * 104_729) % 2003) as f32 / 1000.0 - 1.0)
        .collect();
    let mut normalised = vec![0.0; pixels.len()];
    normalizer.nchw_u8_to_nhwc(&pixels, &mut normalised)?;
    let mut logits = vec![0.0; images * arch.classes];
    net.logits(&normalised, &mut logits)?;
    let predicted: Vec<u8> = argmax_rows(&logits, arch.classes)
        .into_iter()
        .map(|c| c as u8)
        .collect();
    let mut engine = DeviceEngine::new(&net, &protocol)?;
    let run_image = |i: usize, engine: &mut DeviceEngine<'_>| -> anyhow::Result<()> {
        let own: Vec<&[f32]> = (0..5)
            .map(|m| &maps[(i * 5 + m) * 1024..(i * 5 + m + 1) * 1024])
            .collect();
        engine.image(
            &ImageInput {
                index: i as u32,
                predicted: predicted[i],
                pixels: &pixels[i * IMAGE_VALUES..(i + 1) * IMAGE_VALUES],
                maps: &own,
            },
            &mut |_| {},
        )?;
        Ok(())
    };
    run_image(0, &mut engine)?; // warm-up
    let before = engine.passes();
    let start = Instant::now();
    for i in 0..images {
        run_image(i, &mut engine)?;
    }
    let seconds = start.elapsed().as_secs_f64();
    let passes = engine.passes() - before;
    let per_second = passes as f64 / seconds;
    let gflops = per_second * arch.flops_per_image() / 1e9;
    report.rows.push(BenchRow {
        name: format!("metrics engine, paper protocol ({images} images)"),
        batch: batch_size,
        seconds: seconds / passes as f64 * batch_size as f64,
        images_per_second: per_second,
        gflops,
        ratio: gflops / matmul_gflops,
        target: None,
        vs_full_forward: None,
    });
    Ok(report)
}
