//! Laws of deep Taylor on tiny random networks, and agreement with the f64 reference.

mod common;

use common::reference::{self, RefNet};
use common::{normalise, normalizer, random_pixels, rel_err, tiny_weights};
use sal_attribution::methods::deep_taylor::DeepTaylor;
use sal_attribution::Batch;
use sal_model::arch::{IMAGE_VALUES, PIXELS};

const IMAGES: usize = 6;

/// Maps and traces of `IMAGES` random images, explaining the reference's predicted class.
fn run(
    seed: u64,
    negative_gamma: bool,
    fold: bool,
) -> (
    Vec<f32>,
    Vec<sal_attribution::methods::deep_taylor::Trace>,
    Vec<usize>,
    RefNet,
) {
    let weights = tiny_weights(seed, negative_gamma);
    let pixels = random_pixels(seed + 100, IMAGES);
    let images = normalise(&pixels);
    let net = RefNet::new(&weights);
    let classes: Vec<usize> = images
        .chunks_exact(IMAGE_VALUES)
        .map(|x| {
            let l = net.forward(x).logits;
            (0..l.len()).fold(0, |b, c| if l[c] > l[b] { c } else { b })
        })
        .collect();
    let (low, high) = normalizer().bounds();
    let mut dt = DeepTaylor::new(&weights, low, high, fold).unwrap();
    let (maps, traces) = dt
        .explain_traced(&Batch::new(&pixels, &images, &classes).unwrap())
        .unwrap();
    (maps, traces, classes, net)
}

fn bounds64() -> ([f64; 3], [f64; 3]) {
    let (l, h) = normalizer().bounds();
    (l.map(f64::from), h.map(f64::from))
}

#[test]
fn deep_taylor_matches_the_f64_reference() {
    for fold in [false, true] {
        let (maps, _, classes, net) = run(1, true, fold);
        let images = normalise(&random_pixels(101, IMAGES));
        let (low, high) = bounds64();
        for i in 0..IMAGES {
            let want = reference::deep_taylor(
                &net,
                &images[i * IMAGE_VALUES..(i + 1) * IMAGE_VALUES],
                classes[i],
                low,
                high,
                fold,
            );
            let scale = want
                .map
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()))
                .max(1e-12);
            for p in 0..PIXELS {
                let got = f64::from(maps[i * PIXELS + p]);
                assert!(
                    (got - want.map[p]).abs() <= 1e-4 * scale,
                    "fold {fold}, image {i}, pixel {p}: {got} vs {}",
                    want.map[p]
                );
            }
        }
    }
}

#[test]
fn deep_taylor_conserves_relevance_layer_by_layer_and_overall() {
    let mut positive = 0;
    for seed in [2, 3, 4] {
        for fold in [false, true] {
            let (maps, traces, _, _) = run(seed, seed == 4, fold);
            for (i, t) in traces.iter().enumerate() {
                if t.top <= 0.0 {
                    continue;
                }
                positive += 1;
                let top = f64::from(t.top);
                let close = |a: f64, b: f64, what: &str| {
                    assert!(
                        rel_err(a, b, 1e-6 * top) < 1e-4,
                        "seed {seed} image {i} {what}: {a} vs {b}"
                    )
                };
                // The classifier's z+ rule hands on the whole top relevance (or drops it all, z = 0).
                close(t.at_features + t.dropped_at_classifier, top, "classifier");
                let mut above = t.at_features;
                let mut dropped = t.dropped_at_classifier;
                for layer in &t.layers {
                    close(layer.at_relu_out, above, "max-pool routing");
                    close(layer.at_conv_out, layer.at_relu_out, "ReLU mask");
                    close(
                        layer.at_conv_in + layer.dropped,
                        layer.at_conv_out,
                        "conv rule",
                    );
                    above = layer.at_conv_in;
                    dropped += layer.dropped;
                }
                let sum: f64 = maps[i * PIXELS..(i + 1) * PIXELS]
                    .iter()
                    .map(|&v| f64::from(v))
                    .sum();
                close(sum, above, "channel sum");
                // Overall: the map sums to the logit minus what units with z = 0 dropped.
                assert!(
                    rel_err(sum + dropped, top, 1e-9) < 1e-3,
                    "seed {seed} image {i}: {sum} + {dropped} vs logit {top}"
                );
                // With BN passed through or folded, only a unit with an all-zero positive
                // receptive field (z = 0) that BN's shift keeps active can hold relevance it
                // cannot hand on; it stays a small part of the logit on these networks.
                assert!(
                    dropped <= 0.05 * top,
                    "seed {seed} image {i}: dropped {dropped} of {top}"
                );
            }
        }
    }
    assert!(
        positive >= 12,
        "too few images with a positive logit ({positive}) to test conservation"
    );
}

#[test]
fn the_map_sums_to_the_logit_when_nothing_is_dropped() {
    let mut checked = 0;
    for seed in [5, 6, 7] {
        let (maps, traces, _, _) = run(seed, false, false);
        for (i, t) in traces.iter().enumerate() {
            let dropped: f64 =
                t.dropped_at_classifier + t.layers.iter().map(|l| l.dropped).sum::<f64>();
            if t.top <= 0.0 || dropped != 0.0 {
                continue;
            }
            checked += 1;
            let sum: f64 = maps[i * PIXELS..(i + 1) * PIXELS]
                .iter()
                .map(|&v| f64::from(v))
                .sum();
            assert!(
                rel_err(sum, f64::from(t.top), 1e-9) < 1e-3,
                "seed {seed} image {i}: {sum} vs {}",
                t.top
            );
        }
    }
    assert!(
        checked >= 6,
        "only {checked} images without dropped relevance"
    );
}

#[test]
fn relevance_is_non_negative_at_every_layer_and_at_the_input() {
    for (seed, neg) in [(8, false), (9, true)] {
        let (maps, traces, _, _) = run(seed, neg, false);
        for (i, t) in traces.iter().enumerate() {
            let tol = -1e-6 * f64::from(t.top).max(1e-6);
            for layer in &t.layers {
                assert!(
                    f64::from(layer.min_out) >= tol,
                    "seed {seed} image {i} layer {}: {}",
                    layer.layer,
                    layer.min_out
                );
                assert!(
                    f64::from(layer.min_in) >= tol,
                    "seed {seed} image {i} layer {} input: {}",
                    layer.layer,
                    layer.min_in
                );
            }
            assert!(maps[i * PIXELS..(i + 1) * PIXELS]
                .iter()
                .all(|&v| f64::from(v) >= tol));
        }
    }
}

#[test]
fn folding_batchnorm_only_matters_for_negative_bn_scales() {
    let (a, ..) = run(10, false, false);
    let (b, ..) = run(10, false, true);
    let scale = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(
        a.iter().zip(&b).all(|(x, y)| (x - y).abs() <= 1e-4 * scale),
        "all BN scales > 0: folding must not change the maps"
    );
    let (c, ..) = run(10, true, false);
    let (d, ..) = run(10, true, true);
    let diff = c
        .iter()
        .zip(&d)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(
        diff > 1e-3 * scale,
        "negative BN scales: folding should change the maps (max diff {diff})"
    );
}

#[test]
fn a_non_positive_logit_gives_an_all_zero_map() {
    let weights = tiny_weights(11, false);
    let pixels = random_pixels(111, 4);
    let images = normalise(&pixels);
    let net = RefNet::new(&weights);
    // Explain each image's smallest logit, which is negative for these images.
    let classes: Vec<usize> = images
        .chunks_exact(IMAGE_VALUES)
        .map(|x| {
            let l = net.forward(x).logits;
            (0..l.len()).fold(0, |b, c| if l[c] < l[b] { c } else { b })
        })
        .collect();
    for (i, x) in images.chunks_exact(IMAGE_VALUES).enumerate() {
        assert!(net.logit(x, classes[i]) < 0.0);
    }
    let (low, high) = normalizer().bounds();
    let mut dt = DeepTaylor::new(&weights, low, high, false).unwrap();
    let (maps, traces) = dt
        .explain_traced(&Batch::new(&pixels, &images, &classes).unwrap())
        .unwrap();
    assert!(maps.iter().all(|&v| v == 0.0));
    assert!(traces.iter().all(|t| t.top == 0.0));
}
