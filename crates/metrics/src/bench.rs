//! The engine's forward passes per second against the bare forward pass at the same batch size,
//! measured in one process (for `sal bench` and the `engine_bench` example).
//!
//! Random model weights (the work does not depend on them), random images, 5 random maps per
//! image, the protocol of `configs/quick.toml` (L = 100, R = 10, P = 100, fills mean and
//! uniform, batch 256: 4,201 forward passes per image). Each round times the bare
//! `FastNet::logits` on batches of the engine's mean batch size, then the engine on a few
//! images; the medians over rounds count. The ratio of the two is what load on the machine
//! disturbs least.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_config::MetricsConfig;
use sal_model::arch::{Architecture, IMAGE_VALUES};
use sal_model::fast::bench::{random_images, random_weights};
use sal_model::fast::FastNet;
use sal_model::inference::argmax_rows;
use sal_model::{Classifier, Normalizer};
use sal_perturbation::Normalisation;

use crate::engine::{Engine, ImageInput};
use crate::error::Result;
use crate::protocol::Protocol;

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineBenchOptions {
    /// Images per engine run.
    pub images: usize,
    /// Rounds (the medians count).
    pub rounds: usize,
    /// Run the engine with the incremental forward.
    pub incremental: bool,
}

/// One measurement (medians over the rounds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineBench {
    /// Forward passes per image of the protocol.
    pub passes_per_image: usize,
    /// The engine's mean batch size, at which the bare forward was timed.
    pub batch: usize,
    /// Bare `FastNet::logits` at `batch`, images per second.
    pub bare_per_second: f64,
    /// The engine, forward passes per second.
    pub engine_per_second: f64,
    /// Share of the engine's wall time spent outside the model's `logits` (full passes only).
    pub outside_model: Option<f64>,
    /// Activations the engine keeps per image in flight, bytes.
    pub state_bytes_per_image: usize,
}

impl EngineBench {
    /// Engine passes per second / bare forward passes per second.
    pub fn vs_full_forward(&self) -> f64 {
        self.engine_per_second / self.bare_per_second
    }
}

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

/// Measures the engine against the bare forward (see the module doc); `report` is called after
/// each round with its (bare, engine) rates.
pub fn run(options: &EngineBenchOptions, report: &mut dyn FnMut(f64, f64)) -> Result<EngineBench> {
    let (images, rounds) = (options.images.max(1), options.rounds.max(1));
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
    let batch = passes / passes.div_ceil(config.batch_size);

    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let pixels: Vec<u8> = (0..images * IMAGE_VALUES).map(|_| rng.random()).collect();
    let maps: Vec<f32> = (0..images * 5 * 1024)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let mut normalised = vec![0.0; pixels.len()];
    normalizer.nchw_u8_to_nhwc(&pixels, &mut normalised)?;
    let mut logits = vec![0.0; images * 10];
    net.logits(&normalised, &mut logits)?;
    let predicted = argmax_rows(&logits, 10);

    let x = random_images(batch, 2);
    let mut out = vec![0.0; batch * 10];
    net.logits(&x, &mut out)?; // warm-up
    let reference = net.clone();
    let (mut bare, mut engine_rate, mut outside) = (Vec::new(), Vec::new(), Vec::new());
    let mut state_bytes = 0;
    for _ in 0..rounds {
        let reps = (2048 / batch).max(4);
        let start = Instant::now();
        for _ in 0..reps {
            net.logits(&x, &mut out)?;
        }
        bare.push((reps * batch) as f64 / start.elapsed().as_secs_f64());

        let mut timed = Timed {
            net: &mut net,
            seconds: 0.0,
        };
        let mut engine = Engine::new(&mut timed, &protocol);
        if options.incremental {
            engine = engine.with_incremental(&reference);
        }
        state_bytes = engine.state_bytes_per_image();
        let start = Instant::now();
        for i in 0..images {
            let image_maps: Vec<&[f32]> = (0..5)
                .map(|m| &maps[(i * 5 + m) * 1024..(i * 5 + m + 1) * 1024])
                .collect();
            let input = ImageInput {
                index: i as u32,
                predicted: predicted[i] as u8,
                pixels: &pixels[i * IMAGE_VALUES..(i + 1) * IMAGE_VALUES],
                maps: &image_maps,
            };
            engine.image(&input, &mut |_| {})?;
        }
        let total = start.elapsed().as_secs_f64();
        engine_rate.push(engine.passes() as f64 / total);
        drop(engine);
        outside.push(1.0 - timed.seconds / total);
        report(bare[bare.len() - 1], engine_rate[engine_rate.len() - 1]);
    }
    Ok(EngineBench {
        passes_per_image: passes,
        batch,
        bare_per_second: median(bare),
        engine_per_second: median(engine_rate),
        outside_model: (!options.incremental).then(|| median(outside)),
        state_bytes_per_image: state_bytes,
    })
}
