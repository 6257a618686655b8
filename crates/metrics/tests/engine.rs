//! The engine against a model whose f is known in closed form.

mod common;

use common::{Linear, Recording, VALUES};
use sal_config::MetricsConfig;
use sal_metrics::{aopc, Engine, ImageInput, MetricsError, Protocol};
use sal_perturbation::fill::uniform::UniformFill;
use sal_perturbation::fill::FillSetup;
use sal_perturbation::{Draw, Draws, Normalisation};

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
    let morf = &result.drops[..7];
    let f = [
        0.98201379, 0.95257413, 0.88079708, 0.73105858, 0.5, 0.5, 0.5,
    ];
    for (k, (got, want)) in morf.iter().zip(f).enumerate() {
        assert!(
            (got - (f[0] - want)).abs() < 1e-6,
            "step {k}: {got} vs {}",
            f[0] - want
        );
    }
    assert!((result.p0 - f[0]).abs() < 1e-7 && (result.q0 - (1.0 - f[0])).abs() < 1e-7);
    // AOPC_6 = (0.02943966 + 0.10121671 + 0.25095521 + 3 * 0.48201379) / 7 = 0.26109328.
    assert!((aopc(morf, 6).unwrap() - 0.26109328).abs() < 1e-6);
    // AOPC_2 = (0.02943966 + 0.10121671) / 3.
    assert!((aopc(morf, 2).unwrap() - 0.04355212).abs() < 1e-6);
    // LeRF first removes zero-relevance pixels, which are 0 already: a flat curve, AOPC 0.
    let lerf = &result.drops[7..14];
    assert!(lerf.iter().all(|&v| v == 0.0), "{lerf:?}");
    assert_eq!(aopc(lerf, 6).unwrap(), 0.0);
    assert_eq!(&result.orders[..4], &[0, 1, 2, 3]);
    assert!(
        result.orders[6..12].iter().all(|&p| p >= 4),
        "LeRF starts with a zero-relevance pixel"
    );
    assert_eq!(result.drops[0], 0.0);
    assert_eq!(engine.passes() as usize, protocol.passes_per_image());

    // Random orderings: f after k steps = sigmoid(4 - number of pixels 0..4 among the first k).
    for r in 0..2 {
        let order = &protocol.random_orders[r * 1024..r * 1024 + 6];
        for k in 0..=6 {
            let removed = order[..k].iter().filter(|&&p| p < 4).count();
            let want = sigmoid(4.0) - sigmoid(4.0 - removed as f64);
            let got = result.random_drops[r * 7 + k];
            assert!((got - want).abs() < 1e-6, "random {r} step {k}");
        }
    }
    for k in 0..=6 {
        let mean = (result.random_drops[k] + result.random_drops[7 + k]) / 2.0;
        assert!((result.random_mean[k] - mean).abs() < 1e-15);
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
        draws: Draws::Paired,
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
        let got = result.drops[k];
        let want = sigmoid(4.0) - sigmoid(logit);
        assert!((got - want).abs() < 1e-6, "step {k}: {got} vs {want}");
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
    let drop = sigmoid(4.0) - sigmoid(3.0);
    for p in 0..1024 {
        let want = if p < 4 { drop } else { 0.0 };
        assert!((result.delta[p] - want).abs() < 1e-6, "delta of pixel {p}");
    }
    let x: Vec<f64> = map.iter().map(|&v| f64::from(v)).collect();
    for f in 0..2 {
        let y = &result.delta[f * 1024..(f + 1) * 1024];
        let want = pearson_raw(&x, y);
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
        draws: Draws::Paired,
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
            ..metrics_config(&["mean", "imputation", "uniform"], 9, 2, 5)
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

/// Softmax probability of class `c` of `logits`, in f64, the plain way.
fn softmax_f64(logits: &[f64], c: usize) -> f64 {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = logits.iter().map(|z| (z - max).exp()).sum();
    (logits[c] - max).exp() / total
}

/// The logits of the [`Linear`] model for one normalised NHWC image, in f64.
fn linear_logits(model: &Linear, image: &[f32]) -> Vec<f64> {
    model
        .weights
        .chunks_exact(VALUES)
        .map(|w| {
            w.iter()
                .zip(image)
                .map(|(&a, &b)| f64::from(a) * f64::from(b))
                .sum()
        })
        .collect()
}

#[test]
fn uniform_fill_deltas_equal_a_direct_computation_from_the_fill_image() {
    // Every pixel a faithfulness pixel; Delta_p = f(x) - f(x with pixel p set to the uniform
    // image's colour), computed here from the u8 fill image, the normalisation and the
    // model's weights, without the engine's perturbation code.
    let config = metrics_config(&["uniform"], 2, 1, 1024);
    let protocol = Protocol::new(&config, vec!["m".into()], normalisation()).unwrap();
    let mut model = Linear::random(3, 5);
    let pixels: Vec<u8> = (0..VALUES).map(|i| (i * 13 % 256) as u8).collect();
    let mut base = vec![0.0; VALUES];
    normalisation().nchw_to_nhwc(&pixels, &mut base).unwrap();
    let predicted = model.predict(&base)[0];
    let map: Vec<f32> = (0..1024).map(|p| (p % 17) as f32).collect();
    let result = Engine::new(&mut model.clone(), &protocol)
        .image(
            &ImageInput {
                index: 21,
                predicted,
                pixels: &pixels,
                maps: &[&map],
            },
            &mut |_| {},
        )
        .unwrap();
    let colours = UniformFill::new(&FillSetup {
        seed: config.seed,
        normalisation: normalisation(),
        draws: Draws::Paired,
    })
    .image(21);
    let c = usize::from(predicted);
    let f0 = softmax_f64(&linear_logits(&model, &base), c);
    let mut largest = 0.0f64;
    for p in 0..1024 {
        let mut image = base.clone();
        for ch in 0..3 {
            // NCHW u8 colour of pixel p, channel ch -> NHWC value p * 3 + ch.
            image[p * 3 + ch] = f32::from(colours[ch * 1024 + p]) / 100.0;
        }
        let want = f0 - softmax_f64(&linear_logits(&model, &image), c);
        largest = largest.max(want.abs());
        assert!(
            (result.delta[p] - want).abs() < 1e-6,
            "pixel {p}: {} vs {want}",
            result.delta[p]
        );
    }
    assert!(largest > 1e-3, "the check is not vacuous: {largest}");
}

#[test]
fn a_margin_of_40_gives_finite_nonzero_deltas_where_f32_gave_zero() {
    // logit 0 = 10 x (red of pixels 0..4) = 40, logit 1 = 0: f = 1 - 4.2e-18, exactly 1.0 in
    // f32 and f64. Removing one of those pixels gives margin 30: Delta = q' - q with
    // q = 1 / (1 + e^margin).
    let mut model = red_sum_model();
    for w in &mut model.weights {
        *w *= 10.0;
    }
    // L = 2: MoRF reaches margins 30 and 20, where f32's f is still exactly 1.
    let protocol = Protocol::new(
        &metrics_config(&["mean"], 2, 1, 1024),
        vec!["m".into()],
        normalisation(),
    )
    .unwrap();
    let (pixels, map) = (image(), map());
    let result = Engine::new(&mut model, &protocol)
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
    let q = |margin: f64| 1.0 / (1.0 + margin.exp());
    assert_eq!(result.p0, 1.0);
    assert!(
        ((result.q0 - q(40.0)) / q(40.0)).abs() < 1e-12,
        "{}",
        result.q0
    );
    for p in 0..1024 {
        let want = if p < 4 { q(30.0) - q(40.0) } else { 0.0 };
        let got = result.delta[p];
        assert!(got.is_finite());
        if p < 4 {
            assert!(
                got > 0.0 && ((got - want) / want).abs() < 1e-9,
                "pixel {p}: {got}"
            );
        } else {
            assert_eq!(got, 0.0, "pixel {p}");
        }
    }
    // MoRF: margins 40, 30, 20.
    for (k, margin) in [40.0, 30.0, 20.0].iter().enumerate() {
        let want = q(*margin) - q(40.0);
        assert!(((result.drops[k] - want) / want.max(1e-300)).abs() < 1e-9 || want == 0.0);
    }
    assert!(result.faithfulness[0] > 0.5 && result.faithfulness[0].is_finite());
    // The f32 way: every Delta 0 (so F undefined) and p0 == 1; the f64 way: only the 1020
    // pixels that do not touch the model.
    let columns = sal_metrics::saturation::columns(&protocol.layout());
    let count = |name: &str| result.saturation[columns.iter().position(|c| c == name).unwrap()];
    assert_eq!(count("f32.p0_one"), 1);
    assert_eq!(count("f64.p0_one"), 0);
    assert_eq!(count("f32.delta_zero.mean"), 1024);
    assert_eq!(count("f64.delta_zero.mean"), 1020);
    assert_eq!(count("f32.faithfulness_nan.m.mean"), 1);
    assert_eq!(count("f64.faithfulness_nan.m.mean"), 0);
    assert_eq!(count("f32.curve_flat.m.morf.mean"), 1);
    assert_eq!(count("f64.curve_flat.m.morf.mean"), 0);
    assert_eq!(
        count("f64.curve_flat.m.lerf.mean"),
        1,
        "LeRF removes zero pixels first"
    );
}

#[test]
fn independent_uniform_draws_give_each_curve_its_own_colours_and_each_method_its_deltas() {
    let config = MetricsConfig {
        uniform_draws: "independent".into(),
        ..metrics_config(&["mean", "uniform"], 6, 2, 10)
    };
    let protocol = Protocol::new(&config, vec!["a".into(), "b".into()], normalisation()).unwrap();
    // 1 + 2 fills x (2 x 2 + 2) x 6 + 10 (mean, shared) + 2 x 10 (uniform, per method).
    assert_eq!(protocol.passes_per_image(), 1 + 2 * 6 * 6 + 10 + 20);
    assert_eq!(protocol.layout().delta_per_method, ["uniform"]);
    let mut model = Recording {
        inner: Linear::random(3, 2),
        rows: Vec::new(),
        batches: Vec::new(),
    };
    let pixels: Vec<u8> = (0..VALUES).map(|i| (i * 7 % 251) as u8).collect();
    let mut base = vec![0.0; VALUES];
    normalisation().nchw_to_nhwc(&pixels, &mut base).unwrap();
    let predicted = model.inner.predict(&base)[0];
    let a: Vec<f32> = (0..1024).map(|p| ((p * 31) % 97) as f32).collect();
    let b: Vec<f32> = (0..1024).map(|p| -(((p * 17) % 13) as f32)).collect();
    let result = Engine::new(&mut model, &protocol)
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
    assert_eq!(result.delta.len(), 10 + 2 * 10);
    assert_eq!(
        result.fill_images,
        vec![None, None],
        "independent draws are not stored"
    );
    let fill = UniformFill::new(&FillSetup {
        seed: config.seed,
        normalisation: normalisation(),
        draws: Draws::Independent,
    });
    let colour = |draw: Draw| {
        let mut out = vec![0.0; VALUES];
        normalisation()
            .nchw_to_nhwc(&fill.image_of_draw(42, draw), &mut out)
            .unwrap();
        out
    };
    // Rows: base, then the mean fill's 6 curves and 10 singles (37 rows), then the uniform
    // fill: curve (a, morf) is rows 38..44, perturbed with draw Curve(0); its first step
    // changes exactly the first pixel of a's MoRF order.
    let uniform_first = 1 + 6 * 6 + 10;
    let p = usize::from(result.orders[0]);
    let curve0 = colour(Draw::Curve(0));
    let row = &model.rows[uniform_first];
    assert_eq!(&row[p * 3..p * 3 + 3], &curve0[p * 3..p * 3 + 3]);
    // Curve (a, lerf) uses Draw::Curve(1): its first pixel takes that draw's colour.
    let q = usize::from(result.orders[6]);
    let curve1 = colour(Draw::Curve(1));
    let row = &model.rows[uniform_first + 6];
    assert_eq!(&row[q * 3..q * 3 + 3], &curve1[q * 3..q * 3 + 3]);
    // Method b's faithfulness rows (the last 10) use Draw::Faithfulness(1), and its Deltas are
    // computed from them: different from method a's.
    let single_b = colour(Draw::Faithfulness(1));
    let last = model.rows.len() - 10;
    let pixel = protocol.faithfulness_pixels[0] as usize;
    assert_eq!(
        &model.rows[last][pixel * 3..pixel * 3 + 3],
        &single_b[pixel * 3..pixel * 3 + 3]
    );
    assert_ne!(&result.delta[10..20], &result.delta[20..30]);
}
