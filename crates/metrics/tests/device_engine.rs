//! The engine on a candle device against the engine on the fast CPU kernels, on the device of
//! `SAL_TEST_DEVICE` (default: candle's CPU; `scripts/gpu-check.sh` runs it with `cuda:0`):
//! identical orders, fill images and saturation counters; p0, q0, drop curves, random drop
//! curves and Delta within 1e-5; faithfulness within what the Deltas' differences allow; with
//! paired and independent uniform draws, and with the imputation fill (whose rows the device
//! engine builds on the host).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_config::MetricsConfig;
use sal_metrics::{DeviceEngine, Engine, ImageInput, ImageResult, Protocol};
use sal_model::arch::{Architecture, CONV_LAYERS};
use sal_model::candle_net::{eval_net, test_device_name};
use sal_model::inference::argmax_rows;
use sal_model::train::init_weights;
use sal_model::{Classifier, FastNet, Normalizer, Weights};
use sal_perturbation::Normalisation;

const VALUES: usize = 3072;
const MEAN: [f32; 3] = [0.491, 0.482, 0.447];
const STD: [f32; 3] = [0.247, 0.243, 0.262];

/// The paper's widths, seeded, with a classifier scaled up (x16) so that perturbations move
/// f by a few 1e-3 within 12 steps.
fn weights(seed: u64) -> Weights {
    let mut w = init_weights(&Architecture::default(), seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
    for l in 0..CONV_LAYERS {
        for c in 0..w.arch.widths[l] {
            w.params.bn_weight[l][c] = rng.random_range(0.5..1.5);
            w.params.bn_bias[l][c] = rng.random_range(-0.2..0.3);
            w.running_mean[l][c] = rng.random_range(-0.1..0.1);
            w.running_var[l][c] = rng.random_range(0.5..1.5);
        }
    }
    for v in w.params.classifier.iter_mut() {
        *v *= 16.0;
    }
    w
}

/// Smooth random u8 images, NCHW.
fn pixels(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n * VALUES);
    for _ in 0..n * 3 {
        let base: f32 = rng.random_range(40.0..200.0);
        let (gr, gc): (f32, f32) = (rng.random_range(-3.0..3.0), rng.random_range(-3.0..3.0));
        for p in 0..1024 {
            let (r, c) = ((p / 32) as f32 - 16.0, (p % 32) as f32 - 16.0);
            let v = base + gr * r + gc * c + rng.random_range(-30.0..30.0);
            out.push(v.clamp(0.0, 255.0) as u8);
        }
    }
    out
}

fn results(
    images: &[u8],
    maps: &[Vec<f32>],
    predicted: &[u8],
    mut run: impl FnMut(&ImageInput<'_>) -> ImageResult,
) -> Vec<ImageResult> {
    (0..predicted.len())
        .map(|i| {
            let own: Vec<&[f32]> = maps.iter().map(|m| &m[i * 1024..(i + 1) * 1024]).collect();
            run(&ImageInput {
                index: 40 + i as u32,
                predicted: predicted[i],
                pixels: &images[i * VALUES..(i + 1) * VALUES],
                maps: &own,
            })
        })
        .collect()
}

fn max_abs_diff<T: Copy + Into<f64>>(a: &[T], b: &[T]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (x.into() - y.into()).abs())
        .fold(0.0, f64::max)
}

#[test]
fn the_device_engine_gives_the_fast_engines_results_with_paired_draws() {
    compare("paired");
}

#[test]
fn the_device_engine_gives_the_fast_engines_results_with_independent_draws() {
    compare("independent");
}

fn compare(uniform_draws: &str) {
    let w = weights(5);
    let n = 3;
    let images = pixels(n, 6);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // A continuous map and one with many ties (the tie-break keys must agree too).
    let maps = vec![
        (0..n * 1024)
            .map(|_| rng.random_range(-1.0f32..1.0))
            .collect::<Vec<_>>(),
        (0..n * 1024)
            .map(|_| f32::from(rng.random_range(0u8..3)))
            .collect(),
    ];
    let config = MetricsConfig {
        steps: 12,
        random_orderings: 3,
        faithfulness_pixels: 10,
        fills: vec!["mean".into(), "uniform".into(), "imputation".into()],
        uniform_draws: uniform_draws.into(),
        batch_size: 50,
        ..MetricsConfig::default()
    };
    let normaliser = Normalizer::new(MEAN, STD);
    let normalisation = Normalisation::from_fn(|c, v| normaliser.value(c, v));
    let protocol = Protocol::new(&config, vec!["a".into(), "b".into()], normalisation).unwrap();

    let mut fast = FastNet::new(&w).unwrap();
    let mut x = vec![0.0; n * VALUES];
    normaliser.nchw_u8_to_nhwc(&images, &mut x).unwrap();
    let mut logits = vec![0.0; n * 10];
    fast.logits(&x, &mut logits).unwrap();
    let predicted: Vec<u8> = argmax_rows(&logits, 10).iter().map(|&c| c as u8).collect();

    let mut engine = Engine::new(&mut fast, &protocol);
    let expected = results(&images, &maps, &predicted, |input| {
        engine.image(input, &mut |_| {}).unwrap()
    });
    let net = eval_net(&w, &test_device_name()).unwrap();
    let mut device = DeviceEngine::new(&net, &protocol).unwrap();
    let mut passes = 0;
    let found = results(&images, &maps, &predicted, |input| {
        device.image(input, &mut |rows| passes += rows).unwrap()
    });
    assert_eq!(passes as usize, n * protocol.passes_per_image());
    assert_eq!(device.passes(), passes);

    let d_count = if uniform_draws == "independent" { 2 } else { 1 };
    for (f, e) in found.iter().zip(&expected) {
        assert_eq!((f.index, f.predicted), (e.index, e.predicted));
        assert_eq!(f.orders, e.orders, "image {}: orders", e.index);
        assert_eq!(f.fill_images, e.fill_images);
        assert_eq!(e.delta.len(), (1 + 2 * d_count) * 10, "Deltas per fill");
        assert!((f.p0 - e.p0).abs() < 1e-5, "image {}: p0", e.index);
        assert!((f.q0 - e.q0).abs() < 1e-5, "image {}: q0", e.index);
        for (what, a, b) in [
            ("drops", &f.drops, &e.drops),
            ("random drops", &f.random_drops, &e.random_drops),
            ("random mean", &f.random_mean, &e.random_mean),
            ("delta", &f.delta, &e.delta),
        ] {
            let d = max_abs_diff(a, b);
            assert!(d < 1e-5, "image {}: {what} differ by {d}", e.index);
        }
        // Faithfulness is a Pearson correlation with P tiny Deltas (single-pixel drops of
        // about 1e-4 here), so last-bit differences of the Deltas move it by far more than
        // they move the Deltas: it must stay within the bound those differences allow,
        // |r' - r| <= 2 |Delta' - Delta| / |Delta - mean(Delta)| (Pearson is the cosine of the
        // centred vectors), plus f32 rounding.
        let mut block = 0;
        for fill in 0..3 {
            let blocks = if fill >= 1 { d_count } else { 1 };
            for m in 0..2 {
                let b = block + if blocks == 1 { 0 } else { m };
                let (x, y) = (
                    &f.delta[b * 10..(b + 1) * 10],
                    &e.delta[b * 10..(b + 1) * 10],
                );
                let mean = y.iter().sum::<f64>() / 10.0;
                let spread = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>().sqrt();
                let moved = x
                    .iter()
                    .zip(y)
                    .map(|(a, b)| (a - b).powi(2))
                    .sum::<f64>()
                    .sqrt();
                let bound = 2.0 * moved / spread + 1e-6;
                let k = m * 3 + fill;
                let (r, r_expected) = (f.faithfulness[k], e.faithfulness[k]);
                let d = f64::from((r - r_expected).abs());
                assert!(
                    d <= bound || (r.is_nan() && r_expected.is_nan()),
                    "image {}, method {m}, fill {fill}: faithfulness {r} vs {r_expected} (bound {bound:e})",
                    e.index
                );
            }
            block += blocks;
        }
        assert_eq!(f.saturation, e.saturation, "image {}: saturation", e.index);
        // The curves must actually move, or the comparison proves nothing.
        let spread = e.drops.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(spread > 1e-3, "image {}: flat curves", e.index);
    }
}
