//! The metrics engine's forward passes per second against the bare forward pass, in one process.
//!
//! `cargo run --release -p sal-metrics --example engine_bench [-- IMAGES ROUNDS]`
//!
//! Random model weights (the work does not depend on them), random images, 5 synthetic maps per
//! image, the protocol of `configs/quick.toml` (L = 100, R = 10, P = 100, fills mean and
//! uniform, batch 256: 4,201 forward passes per image). Each round times the bare
//! `FastNet::logits` on batches of the engine's mean batch size and of 256, then the engine on
//! IMAGES images; the medians over rounds are reported with their ratio (the engine's target
//! is >= 0.85 of the bare forward at the same batch size), and the share of the engine's wall
//! time spent outside the model's `logits` (perturbation and bookkeeping), which other load on
//! the machine disturbs less than the ratio.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_config::MetricsConfig;
use sal_metrics::{Engine, ImageInput, Protocol};
use sal_model::arch::{Architecture, IMAGE_VALUES};
use sal_model::fast::bench::{random_images, random_weights};
use sal_model::fast::{tune_allocator, FastNet};
use sal_model::inference::argmax_rows;
use sal_model::{Classifier, Normalizer};
use sal_perturbation::Normalisation;

/// A classifier that measures the time spent inside the model.
struct Timed<'a> {
    net: &'a mut FastNet,
    seconds: f64,
}

impl Classifier for Timed<'_> {
    fn num_classes(&self) -> usize {
        self.net.num_classes()
    }

    fn logits(&mut self, images: &[f32], logits: &mut [f32]) -> sal_model::error::Result<()> {
        let start = Instant::now();
        let result = self.net.logits(images, logits);
        self.seconds += start.elapsed().as_secs_f64();
        result
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    tune_allocator();
    let mut args = std::env::args().skip(1);
    let images: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let rounds: usize = args.next().map_or(Ok(3), |a| a.parse())?;

    let weights = random_weights(&Architecture::default(), 0);
    let mut net = FastNet::new(&weights)?;
    let config = MetricsConfig {
        random_orderings: 10,
        ..MetricsConfig::default()
    };
    let normalizer = Normalizer::new([0.49, 0.48, 0.45], [0.25, 0.24, 0.26]);
    let normalisation = Normalisation::from_fn(|c, v| normalizer.value(c, v));
    let methods: Vec<String> = (0..5).map(|m| format!("m{m}")).collect();
    let protocol = Protocol::new(&config, methods, normalisation)?;
    let passes = protocol.passes_per_image();
    let batches = passes.div_ceil(config.batch_size);
    let engine_batch = passes / batches;

    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let pixels: Vec<u8> = (0..images * IMAGE_VALUES).map(|_| rng.random()).collect();
    let maps: Vec<f32> = (0..images * 5 * 1024)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let mut normalised = vec![0.0; pixels.len()];
    normalizer.nchw_u8_to_nhwc(&pixels, &mut normalised)?;
    let mut logits = vec![0.0; images * 10];
    net.logits(&normalised, &mut logits)?;
    let predicted: Vec<u8> = argmax_rows(&logits, 10)
        .into_iter()
        .map(|c| c as u8)
        .collect();

    let bare = |net: &mut FastNet, batch: usize| -> anyhow::Result<f64> {
        let x = random_images(batch, 2);
        let mut out = vec![0.0; batch * 10];
        net.logits(&x, &mut out)?; // warm-up
        let reps = (2048 / batch).max(4);
        let start = Instant::now();
        for _ in 0..reps {
            net.logits(&x, &mut out)?;
        }
        Ok((reps * batch) as f64 / start.elapsed().as_secs_f64())
    };

    let (mut bare_same, mut bare_256, mut engine_rate, mut outside) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        bare_same.push(bare(&mut net, engine_batch)?);
        bare_256.push(bare(&mut net, 256)?);
        let mut timed = Timed {
            net: &mut net,
            seconds: 0.0,
        };
        let mut engine = Engine::new(&mut timed, &protocol);
        let start = Instant::now();
        for i in 0..images {
            let image_maps: Vec<&[f32]> = (0..5)
                .map(|m| &maps[(i * 5 + m) * 1024..(i * 5 + m + 1) * 1024])
                .collect();
            let input = ImageInput {
                index: i as u32,
                predicted: predicted[i],
                pixels: &pixels[i * IMAGE_VALUES..(i + 1) * IMAGE_VALUES],
                maps: &image_maps,
            };
            engine.image(&input, &mut |_| {})?;
        }
        let total = start.elapsed().as_secs_f64();
        let rate = engine.passes() as f64 / total;
        drop(engine);
        engine_rate.push(rate);
        outside.push(1.0 - timed.seconds / total);
        eprintln!(
            "round {round}: bare forward batch {engine_batch}: {:.0}/s, batch 256: {:.0}/s; engine: {rate:.0} passes/s, {:.2}% of its time outside the model",
            bare_same[round],
            bare_256[round],
            100.0 * outside[round]
        );
    }
    let (same, b256, eng) = (median(bare_same), median(bare_256), median(engine_rate));
    println!("forward passes per image: {passes} in {batches} batches of ~{engine_batch}");
    println!("bare FastNet::logits, batch {engine_batch}: {same:.0} images/s (median of {rounds})");
    println!("bare FastNet::logits, batch 256: {b256:.0} images/s");
    println!(
        "metrics engine: {eng:.0} forward passes/s ({:.3} images/s)",
        eng / passes as f64
    );
    println!(
        "engine time outside the model (perturbation, bookkeeping): {:.2}% (median)",
        100.0 * median(outside)
    );
    println!(
        "ratio engine / bare (same batch): {:.3}; engine / bare (256): {:.3}",
        eng / same,
        eng / b256
    );
    Ok(())
}
