//! The methods with a candle path (sensitivity, gradient x input, deep Taylor with and
//! without folded BatchNorm, DeepSHAP), run through it (`[attribute] backend = "candle"` on the
//! device of `SAL_TEST_DEVICE`, default candle's CPU), against the fast CPU kernels: maps within
//! 1e-4 relative (L2) per image.

mod common;

use common::{normalise, normalizer, random_pixels, tiny_weights};
use sal_attribution::{registry, Batch, Setup};
use sal_config::{AttributeConfig, Backend};
use sal_model::arch::{IMAGE_VALUES, PIXELS};
use sal_model::candle_net::test_device_name;
use sal_model::inference::argmax_rows;
use sal_model::{Classifier, FastNet};

const IMAGES: usize = 4;

fn candle_config() -> AttributeConfig {
    AttributeConfig {
        device: test_device_name(),
        backend: Backend::Candle,
        ..AttributeConfig::default()
    }
}

/// ||a - b|| / ||b|| (in f64).
fn rel_l2(a: &[f32], b: &[f32]) -> f64 {
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        num += (f64::from(x) - f64::from(y)).powi(2);
        den += f64::from(y).powi(2);
    }
    (num / den.max(1e-300)).sqrt()
}

#[test]
fn gradient_methods_and_deep_taylor_on_candle_equal_the_fast_kernels() {
    let weights = tiny_weights(41, true);
    let pixels = random_pixels(141, IMAGES);
    let images = normalise(&pixels);
    let mut logits = vec![0.0; IMAGES * 10];
    FastNet::new(&weights)
        .unwrap()
        .logits(&images, &mut logits)
        .unwrap();
    let classes = argmax_rows(&logits, 10);
    let batch = Batch::new(&pixels, &images, &classes).unwrap();
    let (fast_config, candle_config) = (AttributeConfig::default(), candle_config());
    for method in ["sensitivity", "gradient_x_input", "deep_taylor"] {
        let mut maps = [vec![0.0; IMAGES * PIXELS], vec![0.0; IMAGES * PIXELS]];
        for (config, out) in [&fast_config, &candle_config].into_iter().zip(&mut maps) {
            let setup = Setup {
                weights: &weights,
                normalizer: normalizer(),
                config,
                training_images: None,
            };
            registry::build(method, &setup)
                .unwrap()
                .explain(&batch, out)
                .unwrap();
        }
        for i in 0..IMAGES {
            let r = i * PIXELS..(i + 1) * PIXELS;
            let e = rel_l2(&maps[1][r.clone()], &maps[0][r]);
            assert!(e < 1e-4, "{method}, image {i}: relative L2 error {e}");
        }
    }
    assert_eq!(images.len(), IMAGES * IMAGE_VALUES);
}

#[test]
fn deep_taylor_with_folded_batchnorm_on_candle_equals_the_fast_kernels() {
    let weights = tiny_weights(43, true);
    let pixels = random_pixels(143, IMAGES);
    let images = normalise(&pixels);
    let mut logits = vec![0.0; IMAGES * 10];
    FastNet::new(&weights)
        .unwrap()
        .logits(&images, &mut logits)
        .unwrap();
    let classes = argmax_rows(&logits, 10);
    let batch = Batch::new(&pixels, &images, &classes).unwrap();
    let fast_config = AttributeConfig {
        fold_batchnorm: true,
        ..AttributeConfig::default()
    };
    let candle_config = AttributeConfig {
        fold_batchnorm: true,
        ..candle_config()
    };
    let mut maps = [vec![0.0; IMAGES * PIXELS], vec![0.0; IMAGES * PIXELS]];
    for (config, out) in [&fast_config, &candle_config].into_iter().zip(&mut maps) {
        let setup = Setup {
            weights: &weights,
            normalizer: normalizer(),
            config,
            training_images: None,
        };
        let mut method = registry::build("deep_taylor", &setup).unwrap();
        method.explain(&batch, out).unwrap();
        assert_eq!(
            method.describe()["batchnorm"],
            "folded into the conv weights, shift ignored"
        );
    }
    let nonzero = maps[0].iter().filter(|v| **v != 0.0).count();
    assert!(nonzero > PIXELS, "too few non-zero relevances: {nonzero}");
    for i in 0..IMAGES {
        let r = i * PIXELS..(i + 1) * PIXELS;
        let e = rel_l2(&maps[1][r.clone()], &maps[0][r]);
        assert!(e < 1e-4, "image {i}: relative L2 error {e}");
    }
}

#[test]
fn deep_shap_on_candle_equals_the_fast_kernels() {
    let weights = tiny_weights(42, false);
    let training = random_pixels(142, 12);
    let pixels = random_pixels(143, IMAGES);
    let images = normalise(&pixels);
    let mut logits = vec![0.0; IMAGES * 10];
    FastNet::new(&weights)
        .unwrap()
        .logits(&images, &mut logits)
        .unwrap();
    let classes = argmax_rows(&logits, 10);
    let batch = Batch::new(&pixels, &images, &classes).unwrap();
    let base = AttributeConfig {
        deep_shap_background: 5,
        ..AttributeConfig::default()
    };
    let candle = AttributeConfig {
        deep_shap_background: 5,
        ..candle_config()
    };
    let mut maps = [vec![0.0; IMAGES * PIXELS], vec![0.0; IMAGES * PIXELS]];
    let mut extras = Vec::new();
    for (config, out) in [&base, &candle].into_iter().zip(&mut maps) {
        let setup = Setup {
            weights: &weights,
            normalizer: normalizer(),
            config,
            training_images: Some(&training),
        };
        let mut method = registry::build("deep_shap", &setup).unwrap();
        method.explain(&batch, out).unwrap();
        extras.push((method.extra_tensors(), method.describe()));
    }
    assert_eq!(extras[0], extras[1], "same background, same description");
    for i in 0..IMAGES {
        let r = i * PIXELS..(i + 1) * PIXELS;
        let e = rel_l2(&maps[1][r.clone()], &maps[0][r]);
        assert!(e < 1e-4, "image {i}: relative L2 error {e}");
    }
}
