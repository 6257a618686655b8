//! The incremental engine against full passes: every number of the quick protocol for 16 real
//! CIFAR-10 test images and the trained golden model.

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_config::MetricsConfig;
use sal_metrics::{Engine, ImageInput, ImageResult, Protocol};
use sal_model::arch::IMAGE_VALUES;
use sal_model::fast::FastNet;
use sal_model::inference::argmax_rows;
use sal_model::{Classifier, Normalizer, Weights};
use sal_perturbation::Normalisation;

const IMAGES: usize = 16;

/// The real test batch: `SAL_CIFAR10_DIR`, else the shared copy beside the checkout. Panics
/// with instructions when neither holds it: this test must fail, never skip, without it.
fn test_batch() -> PathBuf {
    let dir = match std::env::var_os("SAL_CIFAR10_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cifar-10-batches-bin")
        }
    };
    let path = dir.join("test_batch.bin");
    assert!(
        path.is_file(),
        "this test needs the real CIFAR-10 test batch, and {} is missing: set SAL_CIFAR10_DIR \
         to the folder holding test_batch.bin",
        path.display()
    );
    path
}

/// The largest absolute difference between two sequences of values (NaN = NaN).
fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .filter(|(x, y)| !(x.is_nan() && y.is_nan()))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn the_incremental_engine_gives_the_full_passes_numbers_on_real_images() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../test-fixtures/golden/train/model.safetensors");
    let (weights, _) = Weights::load(&model).unwrap();
    let mut net = FastNet::new(&weights).unwrap();
    let records = std::fs::read(test_batch()).unwrap();
    // Records of 1 label byte + 3072 pixel bytes (NCHW).
    let pixels: Vec<u8> = records
        .chunks_exact(1 + IMAGE_VALUES)
        .take(IMAGES)
        .flat_map(|r| r[1..].iter().copied())
        .collect();
    // The training split's channel statistics, rounded (the law holds for any normalisation).
    let normalizer = Normalizer::new([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]);
    let normalisation = Normalisation::from_fn(|c, v| normalizer.value(c, v));
    let mut normalised = vec![0.0; pixels.len()];
    normalizer
        .nchw_u8_to_nhwc(&pixels, &mut normalised)
        .unwrap();
    let mut logits = vec![0.0; IMAGES * 10];
    net.logits(&normalised, &mut logits).unwrap();
    let predicted = argmax_rows(&logits, 10);

    // The quick protocol (configs/quick.toml): L = 100, R = 10, P = 100, both fills.
    let config = MetricsConfig {
        random_orderings: 10,
        ..MetricsConfig::default()
    };
    let methods: Vec<String> = (0..5).map(|m| format!("m{m}")).collect();
    let protocol = Protocol::new(&config, methods, normalisation).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let maps: Vec<f32> = (0..IMAGES * 5 * 1024)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();

    let run = |net: &mut FastNet, incremental: bool| -> Vec<ImageResult> {
        let reference = net.clone();
        let mut engine = Engine::new(net, &protocol);
        if incremental {
            engine = engine.with_incremental(&reference);
            assert!(engine.state_bytes_per_image() > 0);
        }
        (0..IMAGES)
            .map(|i| {
                let image_maps: Vec<&[f32]> = (0..5)
                    .map(|m| &maps[(i * 5 + m) * 1024..(i * 5 + m + 1) * 1024])
                    .collect();
                let input = ImageInput {
                    index: i as u32,
                    predicted: predicted[i] as u8,
                    pixels: &pixels[i * IMAGE_VALUES..(i + 1) * IMAGE_VALUES],
                    maps: &image_maps,
                };
                engine.image(&input, &mut |_| {}).unwrap()
            })
            .collect()
    };
    let full = run(&mut net, false);
    let fast = run(&mut net, true);
    let (mut worst, mut bits_differ) = (0.0f64, 0usize);
    for (f, g) in full.iter().zip(&fast) {
        assert_eq!((f.index, f.predicted), (g.index, g.predicted));
        assert_eq!(f.orders, g.orders);
        assert_eq!(f.fill_images, g.fill_images);
        assert_eq!(f.saturation, g.saturation);
        let widen = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
        let (ff, gf) = (widen(&f.faithfulness), widen(&g.faithfulness));
        for (what, a, b) in [
            (
                "p0",
                std::slice::from_ref(&f.p0),
                std::slice::from_ref(&g.p0),
            ),
            (
                "q0",
                std::slice::from_ref(&f.q0),
                std::slice::from_ref(&g.q0),
            ),
            ("drops", &f.drops[..], &g.drops[..]),
            ("random drops", &f.random_drops[..], &g.random_drops[..]),
            ("random mean", &f.random_mean[..], &g.random_mean[..]),
            ("delta", &f.delta[..], &g.delta[..]),
            ("faithfulness", &ff[..], &gf[..]),
        ] {
            let d = max_diff(a, b);
            assert!(d <= 1e-6, "image {}: {what} differ by {d}", f.index);
            worst = worst.max(d);
            bits_differ += a
                .iter()
                .zip(b)
                .filter(|(x, y)| x.to_bits() != y.to_bits() && !(x.is_nan() && y.is_nan()))
                .count();
        }
    }
    // The fast path computes every recomputed value with the full pass's arithmetic.
    assert_eq!(bits_differ, 0, "bitwise equal (largest difference {worst})");
}
