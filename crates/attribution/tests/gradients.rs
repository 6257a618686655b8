//! The gradient methods agree with central finite differences of the f64 reference logit.

mod common;

use common::reference::RefNet;
use common::{normalise, normalizer, random_pixels, tiny_weights};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_attribution::{registry, Batch, Setup};
use sal_model::arch::{IMAGE_VALUES, PIXELS};

const IMAGES: usize = 3;

#[test]
fn sensitivity_and_gradient_x_input_match_finite_differences() {
    let weights = tiny_weights(31, true);
    let net = RefNet::new(&weights);
    let pixels = random_pixels(131, IMAGES);
    let images = normalise(&pixels);
    let classes: Vec<usize> = images
        .chunks_exact(IMAGE_VALUES)
        .map(|x| {
            let l = net.forward(x).logits;
            (0..l.len()).fold(0, |b, c| if l[c] > l[b] { c } else { b })
        })
        .collect();
    let config = sal_config::AttributeConfig::default();
    let setup = Setup {
        weights: &weights,
        normalizer: normalizer(),
        config: &config,
        training_images: None,
    };
    let batch = Batch::new(&pixels, &images, &classes).unwrap();
    let mut sens = vec![0.0; IMAGES * PIXELS];
    let mut gxi = vec![0.0; IMAGES * PIXELS];
    registry::build("sensitivity", &setup)
        .unwrap()
        .explain(&batch, &mut sens)
        .unwrap();
    registry::build("gradient_x_input", &setup)
        .unwrap()
        .explain(&batch, &mut gxi)
        .unwrap();

    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut sample: Vec<usize> = (0..24).map(|_| rng.random_range(0..PIXELS)).collect();
    sample.extend([0, 31, 32 * 31, PIXELS - 1]); // corners: padding paths
    let h = 1e-5f64;
    for i in 0..IMAGES {
        let x = &images[i * IMAGE_VALUES..(i + 1) * IMAGE_VALUES];
        let scale_s = sens[i * PIXELS..(i + 1) * PIXELS]
            .iter()
            .fold(0.0f32, |m, v| m.max(v.abs()));
        let scale_g = gxi[i * PIXELS..(i + 1) * PIXELS]
            .iter()
            .fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(scale_s > 0.0 && scale_g > 0.0);
        for &p in &sample {
            let mut fd = [0.0f64; 3];
            for (c, d) in fd.iter_mut().enumerate() {
                // The reference takes f32 images; perturb in f64 by evaluating at x +- h exactly
                // representable offsets around the f32 value.
                let mut plus = x.to_vec();
                let mut minus = x.to_vec();
                plus[p * 3 + c] = (f64::from(x[p * 3 + c]) + h) as f32;
                minus[p * 3 + c] = (f64::from(x[p * 3 + c]) - h) as f32;
                let step = f64::from(plus[p * 3 + c]) - f64::from(minus[p * 3 + c]);
                *d = (net.logit(&plus, classes[i]) - net.logit(&minus, classes[i])) / step;
            }
            let want_s = fd.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let want_g: f64 = (0..3).map(|c| fd[c] * f64::from(x[p * 3 + c])).sum();
            let got_s = f64::from(sens[i * PIXELS + p]);
            let got_g = f64::from(gxi[i * PIXELS + p]);
            assert!(
                (got_s - want_s).abs() <= 2e-3 * f64::from(scale_s),
                "image {i} pixel {p}: sensitivity {got_s} vs FD {want_s}"
            );
            assert!(
                (got_g - want_g).abs() <= 2e-3 * f64::from(scale_g),
                "image {i} pixel {p}: gradient x input {got_g} vs FD {want_g}"
            );
        }
    }
}
