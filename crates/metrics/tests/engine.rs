//! The engine against a model whose f is known in closed form.

mod common;

use common::{Linear, Recording, VALUES};
use sal_config::MetricsConfig;
use sal_metrics::{aopc, Engine, ImageInput, MetricsError, Protocol};
use sal_perturbation::fill::uniform::UniformFill;
use sal_perturbation::fill::FillSetup;
use sal_perturbation::Normalisation;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Normalised value = pixel value / 100 in every channel.
fn normalisation() -> Normalisation {
    Normalisation::from_fn(|_, v| f32::from(v) / 100.0)
}

/// Two classes: logit 0 = the red channel of pixels 0..4 summed, logit 1 = 0, so
/// f = sigmoid(sum of red over pixels 0..4) for class 0.
fn red_sum_model() -> Linear {
    let mut weights = vec![0.0f32; 2 * VALUES];
    for p in 0..4 {
        weights[p * 3] = 1.0;
    }
    Linear {
        weights,
        classes: 2,
    }
}

/// Red = 100 (normalised 1.0) on pixels 0..4, everything else 0: logit 0 = 4.
fn image() -> Vec<u8> {
    let mut pixels = vec![0u8; VALUES];
    pixels[..4].fill(100);
    pixels
}

/// Relevance 4, 3, 2, 1 on pixels 0..4, zero elsewhere.
fn map() -> Vec<f32> {
    let mut m = vec![0.0f32; 1024];
    for p in 0..4 {
        m[p] = (4 - p) as f32;
    }
    m
}

fn metrics_config(fills: &[&str], steps: usize, random: usize, pixels: usize) -> MetricsConfig {
    MetricsConfig {
        steps,
        random_orderings: random,
        faithfulness_pixels: pixels,
        fills: fills.iter().map(|f| (*f).to_owned()).collect(),
        batch_size: 16,
        ..MetricsConfig::default()
    }
}

#[test]
fn hand_computed_morf_curve_and_aopc_with_the_mean_fill() {
    let protocol = Protocol::new(
        &metrics_config(&["mean"], 6, 2, 8),
        vec!["m".into()],
        normalisation(),
    )
    .unwrap();
    let mut model = red_sum_model();
    let mut engine = Engine::new(&mut model, &protocol);
    let (pixels, map) = (image(), map());
    let input = ImageInput {
        index: 7,
        predicted: 0,
        pixels: &pixels,
        maps: &[&map],
    };
    let result = engine.image(&input, &mut |_| {}).unwrap();

    // MoRF removes pixels 0, 1, 2, 3 (logit 4 -> 3 -> 2 -> 1 -> 0), then pixels that are 0 already.
    let morf = &result.curves[..7];
    let expect = [
        0.98201379, 0.95257413, 0.88079708, 0.73105858, 0.5, 0.5, 0.5,
    ];
    for (k, (got, want)) in morf.iter().zip(expect).enumerate() {
        assert!(
            (f64::from(*got) - want).abs() < 1e-6,
            "step {k}: {got} vs {want}"
        );
    }
    // AOPC_6 = (0.02943966 + 0.10121671 + 0.25095521 + 3 * 0.48201379) / 7 = 0.26109328.
    assert!((aopc(morf, 6).unwrap() - 0.26109328).abs() < 1e-6);
    // AOPC_2 = (0.02943966 + 0.10121671) / 3.
    assert!((aopc(morf, 2).unwrap() - 0.04355212).abs() < 1e-6);
    // LeRF first removes zero-relevance pixels, which are 0 already: a flat curve, AOPC 0.
    let lerf = &result.curves[7..14];
    assert!(lerf.iter().all(|&v| v == result.p0), "{lerf:?}");
    assert_eq!(aopc(lerf, 6).unwrap(), 0.0);
    assert_eq!(&result.orders[..4], &[0, 1, 2, 3]);
    assert!(
        result.orders[6..12].iter().all(|&p| p >= 4),
        "LeRF starts with a zero-relevance pixel"
    );
    assert_eq!(result.p0, result.curves[0]);
    assert_eq!(engine.passes() as usize, protocol.passes_per_image());

    // Random orderings: f after k steps = sigmoid(4 - number of pixels 0..4 among the first k).
    for r in 0..2 {
        let order = &protocol.random_orders[r * 1024..r * 1024 + 6];
        for k in 0..=6 {
            let removed = order[..k].iter().filter(|&&p| p < 4).count();
            let want = sigmoid(4.0 - removed as f64);
            let got = f64::from(result.random_curves[r * 7 + k]);
            assert!((got - want).abs() < 1e-6, "random {r} step {k}");
        }
    }
    for k in 0..=6 {
        let mean =
            (f64::from(result.random_curves[k]) + f64::from(result.random_curves[7 + k])) / 2.0;
        assert!((f64::from(result.random_mean[k]) - mean).abs() < 1e-7);
    }
}

#[test]
fn uniform_fill_curves_follow_the_replacement_colours() {
    let config = metrics_config(&["uniform"], 5, 1, 8);
    let protocol = Protocol::new(&config, vec!["m".into()], normalisation()).unwrap();
    let mut model = red_sum_model();
    let mut engine = Engine::new(&mut model, &protocol);
    let (pixels, map) = (image(), map());
    let input = ImageInput {
        index: 3,
        predicted: 0,
        pixels: &pixels,
        maps: &[&map],
    };
    let result = engine.image(&input, &mut |_| {}).unwrap();
    let fill = UniformFill::new(&FillSetup {
        seed: config.seed,
        normalisation: normalisation(),
    });
    let replacement = fill.image(3);
    assert_eq!(
        result.fill_images[0].as_deref(),
        Some(replacement.as_slice())
    );
    // MoRF replaces the red of pixel p (value 1.0) by replacement[red, p] / 100.
    let mut logit = 4.0f64;
    for k in 0..=5 {
        if (1..=4).contains(&k) {
            let p = k - 1;
            logit += f64::from(f32::from(replacement[p]) / 100.0) - 1.0;
        }
        let got = f64::from(result.curves[k]);
        assert!(
            (got - sigmoid(logit)).abs() < 1e-6,
            "step {k}: {got} vs {}",
            sigmoid(logit)
        );
    }
}

/// Pearson by the raw-sums formula, independent of the library's centred sums.
fn pearson_raw(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (sx, sy) = (x.iter().sum::<f64>(), y.iter().sum::<f64>());
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| a * b).sum();
    let (sxx, syy) = (
        x.iter().map(|a| a * a).sum::<f64>(),
        y.iter().map(|b| b * b).sum::<f64>(),
    );
    (n * sxy - sx * sy) / ((n * sxx - sx * sx).sqrt() * (n * syy - sy * sy).sqrt())
}

#[test]
fn faithfulness_is_the_pearson_correlation_of_relevance_and_delta_and_nan_when_undefined() {
    // All 1024 pixels: delta = sigmoid(4) - sigmoid(3) on pixels 0..4, 0 elsewhere.
    let protocol = Protocol::new(
        &metrics_config(&["mean", "uniform"], 3, 1, 1024),
        vec!["m".into(), "flat".into()],
        normalisation(),
    )
    .unwrap();
    let mut model = red_sum_model();
    let mut engine = Engine::new(&mut model, &protocol);
    let (pixels, map) = (image(), map());
    let flat = vec![0.25f32; 1024];
    let input = ImageInput {
        index: 0,
        predicted: 0,
        pixels: &pixels,
        maps: &[&map, &flat],
    };
    let result = engine.image(&input, &mut |_| {}).unwrap();
    let drop = (sigmoid(4.0) - sigmoid(3.0)) as f32;
    for p in 0..1024 {
        let want = if p < 4 { drop } else { 0.0 };
        assert!((result.delta[p] - want).abs() < 1e-6, "delta of pixel {p}");
    }
    let x: Vec<f64> = map.iter().map(|&v| f64::from(v)).collect();
    for f in 0..2 {
        let y: Vec<f64> = result.delta[f * 1024..(f + 1) * 1024]
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        let want = pearson_raw(&x, &y);
        assert!(
            (f64::from(result.faithfulness[f]) - want).abs() < 1e-6,
            "fill {f}: {} vs {want}",
            result.faithfulness[f]
        );
    }
    assert!(
        result.faithfulness[0] > 0.9,
        "relevance and drop agree: {}",
        result.faithfulness[0]
    );
    // A constant map has no variance: F is NaN (never 0).
    assert!(result.faithfulness[2].is_nan() && result.faithfulness[3].is_nan());

    // P pixels that miss 0..4 with the mean fill: delta is all 0, F is NaN for every map.
    let protocol = Protocol::new(
        &metrics_config(&["mean"], 3, 1, 2),
        vec!["m".into()],
        normalisation(),
    )
    .unwrap();
    assert!(
        protocol.faithfulness_pixels.iter().all(|&p| p >= 4),
        "{:?}",
        protocol.faithfulness_pixels
    );
    let mut engine = Engine::new(&mut model, &protocol);
    let result = engine
        .image(
            &ImageInput {
                index: 0,
                predicted: 0,
                pixels: &pixels,
                maps: &[&map],
            },
            &mut |_| {},
        )
        .unwrap();
    assert!(result.delta.iter().all(|&d| d == 0.0));
    assert!(result.faithfulness[0].is_nan());
}

#[test]
fn uniform_colour_of_a_pixel_is_the_same_for_every_method_order_and_row() {
    let config = metrics_config(&["uniform"], 40, 3, 30);
    let protocol = Protocol::new(&config, vec!["a".into(), "b".into()], normalisation()).unwrap();
    let mut model = Recording {
        inner: Linear::random(3, 1),
        rows: Vec::new(),
        batches: Vec::new(),
    };
    let pixels: Vec<u8> = (0..VALUES).map(|i| (i * 7 % 251) as u8).collect();
    let base: Vec<f32> = {
        let mut b = vec![0.0; VALUES];
        normalisation().nchw_to_nhwc(&pixels, &mut b).unwrap();
        b
    };
    let predicted = model.inner.predict(&base)[0];
    let a: Vec<f32> = (0..1024).map(|p| ((p * 31) % 97) as f32).collect();
    let b: Vec<f32> = (0..1024).map(|p| -(((p * 17) % 13) as f32)).collect();
    {
        let mut engine = Engine::new(&mut model, &protocol);
        engine
            .image(
                &ImageInput {
                    index: 42,
                    predicted,
                    pixels: &pixels,
                    maps: &[&a, &b],
                },
                &mut |_| {},
            )
            .unwrap();
    }
    let fill = UniformFill::new(&FillSetup {
        seed: config.seed,
        normalisation: normalisation(),
    });
    let mut replacement = vec![0.0; VALUES];
    normalisation()
        .nchw_to_nhwc(&fill.image(42), &mut replacement)
        .unwrap();
    assert_eq!(model.rows.len(), protocol.passes_per_image());
    assert!(model.batches.iter().all(|&b| b <= config.batch_size));
    let mut changed_total = 0;
    for row in &model.rows {
        for i in 0..VALUES {
            if row[i] != base[i] {
                assert_eq!(
                    row[i], replacement[i],
                    "value {i}: every perturbation of a pixel uses the image's one colour"
                );
                changed_total += 1;
            }
        }
    }
    // 4 method curves + 3 random ones of sum k = 1..40, plus 30 single pixels, 3 channels each
    // (minus the rare channel whose random colour equals the original).
    let expected = (4 + 3) * (40 * 41 / 2) * 3 + 30 * 3;
    assert!(
        changed_total > expected * 95 / 100 && changed_total <= expected,
        "{changed_total} vs {expected}"
    );
}

#[test]
fn results_do_not_depend_on_the_batch_size() {
    let maps_a: Vec<f32> = (0..1024).map(|p| ((p * 13) % 29) as f32 - 14.0).collect();
    let pixels: Vec<u8> = (0..VALUES).map(|i| (i * 11 % 256) as u8).collect();
    let mut reference = None;
    for batch_size in [1, 7, 64, 10_000] {
        let config = MetricsConfig {
            batch_size,
            ..metrics_config(&["mean", "uniform"], 9, 2, 5)
        };
        let protocol = Protocol::new(&config, vec!["a".into()], normalisation()).unwrap();
        let mut model = Linear::random(4, 2);
        let mut base = vec![0.0; VALUES];
        normalisation().nchw_to_nhwc(&pixels, &mut base).unwrap();
        let predicted = model.predict(&base)[0];
        let mut engine = Engine::new(&mut model, &protocol);
        let mut reported = 0;
        let result = engine
            .image(
                &ImageInput {
                    index: 5,
                    predicted,
                    pixels: &pixels,
                    maps: &[&maps_a],
                },
                &mut |rows| reported += rows,
            )
            .unwrap();
        assert_eq!(reported as usize, protocol.passes_per_image());
        match &reference {
            None => reference = Some(result),
            Some(r) => assert_eq!(&result, r, "batch size {batch_size}"),
        }
    }
}

#[test]
fn a_class_other_than_the_models_prediction_is_refused() {
    let protocol = Protocol::new(
        &metrics_config(&["mean"], 3, 1, 4),
        vec!["m".into()],
        normalisation(),
    )
    .unwrap();
    let mut model = red_sum_model();
    let mut engine = Engine::new(&mut model, &protocol);
    let (pixels, map) = (image(), map());
    let err = engine
        .image(
            &ImageInput {
                index: 17,
                predicted: 1,
                pixels: &pixels,
                maps: &[&map],
            },
            &mut |_| {},
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            MetricsError::PredictionMismatch {
                image_index: 17,
                saliency: 1,
                model: 0
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("test image 17"));
    let err = Protocol::new(
        &metrics_config(&["mean", "blur"], 3, 1, 4),
        vec![],
        normalisation(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("blur") && err.to_string().contains("uniform"),
        "{err}"
    );
}
