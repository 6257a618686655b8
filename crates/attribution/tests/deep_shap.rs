//! Laws of DeepSHAP on tiny random networks, and agreement with the f64 reference.

mod common;

use common::reference::{self, RefNet};
use common::{normalise, normalizer, random_pixels, rel_err, tiny_weights};
use sal_attribution::methods::deep_shap::DeepShap;
use sal_attribution::{registry, Batch, ExtraData, Setup};
use sal_model::arch::{IMAGE_VALUES, PIXELS};

fn predicted(net: &RefNet, images: &[f32]) -> Vec<usize> {
    images
        .chunks_exact(IMAGE_VALUES)
        .map(|x| {
            let l = net.forward(x).logits;
            (0..l.len()).fold(0, |b, c| if l[c] > l[b] { c } else { b })
        })
        .collect()
}

#[test]
fn deep_shap_matches_the_f64_reference() {
    let weights = tiny_weights(21, true);
    let net = RefNet::new(&weights);
    let background = random_pixels(500, 3);
    let pixels = random_pixels(501, 3);
    let images = normalise(&pixels);
    let classes = predicted(&net, &images);
    let mut shap =
        DeepShap::new(&weights, &normalizer(), &background, vec![10, 20, 30], 0).unwrap();
    let mut maps = vec![0.0; 3 * PIXELS];
    sal_attribution::Method::explain(
        &mut shap,
        &Batch::new(&pixels, &images, &classes).unwrap(),
        &mut maps,
    )
    .unwrap();
    let bg = normalise(&background);
    for i in 0..3 {
        let x = &images[i * IMAGE_VALUES..(i + 1) * IMAGE_VALUES];
        let mut want = vec![0.0f64; PIXELS];
        for b in bg.chunks_exact(IMAGE_VALUES) {
            for (w, v) in want
                .iter_mut()
                .zip(reference::deep_shap_pair(&net, x, b, classes[i]))
            {
                *w += v / 3.0;
            }
        }
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for p in 0..PIXELS {
            let got = f64::from(maps[i * PIXELS + p]);
            assert!(
                (got - want[p]).abs() <= 1e-4 * scale,
                "image {i} pixel {p}: {got} vs {}",
                want[p]
            );
        }
    }
}

#[test]
fn deep_shap_sums_to_the_logit_minus_the_mean_background_logit() {
    // Exact in exact arithmetic (see the deep_shap module: shap's max-pool rule hands on
    // g * (y - r) per window, and what its 1e-7 guard drops is zero), so the only error left is
    // f32 rounding, and the 1e-6 / 1e-7 thresholds.
    let mut checked = 0;
    for seed in [22, 23, 24] {
        let weights = tiny_weights(seed, seed == 24);
        let net = RefNet::new(&weights);
        let background = random_pixels(seed * 7, 8);
        let pixels = random_pixels(seed * 11, 5);
        let images = normalise(&pixels);
        let classes = predicted(&net, &images);
        let mut shap =
            DeepShap::new(&weights, &normalizer(), &background, (0..8).collect(), 0).unwrap();
        let mut maps = vec![0.0; 5 * PIXELS];
        sal_attribution::Method::explain(
            &mut shap,
            &Batch::new(&pixels, &images, &classes).unwrap(),
            &mut maps,
        )
        .unwrap();
        let bg = normalise(&background);
        for i in 0..5 {
            let x = &images[i * IMAGE_VALUES..(i + 1) * IMAGE_VALUES];
            let expected: f64 = bg
                .chunks_exact(IMAGE_VALUES)
                .map(|b| net.logit(b, classes[i]))
                .sum::<f64>()
                / 8.0;
            let delta = net.logit(x, classes[i]) - expected;
            let sum: f64 = maps[i * PIXELS..(i + 1) * PIXELS]
                .iter()
                .map(|&v| f64::from(v))
                .sum();
            let logit_scale = net.logit(x, classes[i]).abs().max(expected.abs());
            assert!(
                rel_err(sum, delta, 0.05 * logit_scale) < 1e-3,
                "seed {seed} image {i}: sum {sum} vs delta {delta}"
            );
            assert!(
                (shap.expected_logit(classes[i]) - expected).abs() < 1e-4 * logit_scale.max(1.0)
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 15);
}

#[test]
fn built_from_the_registry_it_draws_and_records_its_background() {
    let weights = tiny_weights(25, false);
    let training = random_pixels(600, 12);
    let config = sal_config::AttributeConfig {
        deep_shap_background: 5,
        seed: 9,
        ..Default::default()
    };
    let setup = Setup {
        weights: &weights,
        normalizer: normalizer(),
        config: &config,
        training_images: Some(&training),
    };
    let method = registry::build("deep_shap", &setup).unwrap();
    let extra = method.extra_tensors();
    assert_eq!(extra.len(), 1);
    assert_eq!(extra[0].name, "deep_shap.background_index");
    assert_eq!(extra[0].shape, vec![5]);
    let want = sal_attribution::select::draw_background(12, 5, 9).unwrap();
    assert_eq!(extra[0].data, ExtraData::U32(want));
    // Without the training split the method cannot be built.
    let setup = Setup {
        training_images: None,
        ..setup
    };
    let err = registry::build("deep_shap", &setup)
        .err()
        .expect("must fail")
        .to_string();
    assert!(err.contains("deep_shap"), "{err}");
}
