//! Fixtures shared by the integration tests: tiny random networks and images.

#![allow(dead_code)]

pub mod reference;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_model::arch::{Architecture, CONV_LAYERS, IMAGE_VALUES};
use sal_model::{Normalizer, Trainable, Weights};

/// Tiny widths: every law is a property of the layer types, not of the width.
pub const TINY: [usize; CONV_LAYERS] = [4, 5, 6, 6, 8, 8];

/// A random network with BN shifts of both signs. `negative_gamma` makes some BN scales
/// negative (to show where folding BN changes deep Taylor).
pub fn tiny_weights(seed: u64, negative_gamma: bool) -> Weights {
    let arch = Architecture::with_widths(TINY);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut params = Trainable::zeros(&arch);
    for l in 0..CONV_LAYERS {
        let bound = (6.0 / (9.0 * arch.in_channels(l) as f32)).sqrt();
        for w in params.conv[l].iter_mut() {
            *w = rng.random_range(-bound..bound);
        }
        for c in 0..arch.widths[l] {
            let g: f32 = rng.random_range(0.5..1.5);
            params.bn_weight[l][c] = if negative_gamma && c % 3 == 1 { -g } else { g };
            params.bn_bias[l][c] = rng.random_range(-0.2..0.3);
        }
    }
    let bound = (6.0 / arch.flat_features() as f32).sqrt();
    for w in params.classifier.iter_mut() {
        *w = rng.random_range(-bound..bound);
    }
    let running_mean = std::array::from_fn(|l| {
        (0..arch.widths[l])
            .map(|_| rng.random_range(-0.1..0.1))
            .collect()
    });
    let running_var = std::array::from_fn(|l| {
        (0..arch.widths[l])
            .map(|_| rng.random_range(0.5..1.5))
            .collect()
    });
    Weights {
        arch,
        params,
        running_mean,
        running_var,
    }
}

/// CIFAR-10-like channel statistics.
pub fn normalizer() -> Normalizer {
    Normalizer::new([0.491, 0.482, 0.447], [0.247, 0.243, 0.262])
}

/// `n` random u8 images, NCHW `[n, 3, 32, 32]`, smooth enough to look like images (a random
/// gradient plus noise) so that activations are not all dead or all alive.
pub fn random_pixels(seed: u64, n: usize) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n * IMAGE_VALUES);
    for _ in 0..n {
        for _c in 0..3 {
            let base: f32 = rng.random_range(40.0..200.0);
            let (gr, gc): (f32, f32) = (rng.random_range(-3.0..3.0), rng.random_range(-3.0..3.0));
            for r in 0..32 {
                for col in 0..32 {
                    let noise: f32 = rng.random_range(-30.0..30.0);
                    let v = base + gr * (r as f32 - 16.0) + gc * (col as f32 - 16.0) + noise;
                    out.push(v.clamp(0.0, 255.0) as u8);
                }
            }
        }
    }
    out
}

/// Normalised NHWC images of `pixels`.
pub fn normalise(pixels: &[u8]) -> Vec<f32> {
    let mut out = vec![0.0; pixels.len()];
    normalizer().nchw_u8_to_nhwc(pixels, &mut out).unwrap();
    out
}

/// Relative error |a - b| / max(|b|, floor).
pub fn rel_err(a: f64, b: f64, floor: f64) -> f64 {
    (a - b).abs() / b.abs().max(floor)
}
