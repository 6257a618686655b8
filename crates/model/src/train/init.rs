//! Seeded, PyTorch-like initial weights.

use rand::Rng;

use crate::arch::Architecture;
use crate::train::rng::{stream, Purpose};
use crate::weights::{Trainable, Weights};

/// Initial weights as PyTorch's defaults for `Conv2d` and `Linear`: Kaiming-uniform with
/// a = sqrt(5), i.e. uniform on (-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in x 3 x 3 for
/// a conv and the flattened features for the classifier; BatchNorm gamma = 1, beta = 0,
/// running mean 0 and running variance 1.
///
/// Drawn from the [`Purpose::Init`] stream of `seed`, tensor after tensor in the order of
/// [`Trainable::tensors_mut`], each value as `(2u - 1) * bound` with `u` a uniform f32 in [0, 1).
pub fn init_weights(arch: &Architecture, seed: u64) -> Weights {
    let mut rng = stream(seed, Purpose::Init, 0);
    let mut params = Trainable::zeros(arch);
    let flat = arch.flat_features();
    for (l, conv) in params.conv.iter_mut().enumerate() {
        let bound = 1.0 / ((arch.in_channels(l) * 9) as f32).sqrt();
        conv.iter_mut()
            .for_each(|v| *v = (2.0 * rng.random::<f32>() - 1.0) * bound);
    }
    for w in params.bn_weight.iter_mut() {
        w.fill(1.0);
    }
    let bound = 1.0 / (flat as f32).sqrt();
    params
        .classifier
        .iter_mut()
        .for_each(|v| *v = (2.0 * rng.random::<f32>() - 1.0) * bound);
    Weights {
        arch: *arch,
        params,
        running_mean: std::array::from_fn(|l| vec![0.0; arch.widths[l]]),
        running_var: std::array::from_fn(|l| vec![1.0; arch.widths[l]]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_is_seeded_bounded_and_pytorch_shaped() {
        let arch = Architecture::with_widths([4, 4, 8, 8, 16, 16]);
        let a = init_weights(&arch, 7);
        assert_eq!(a, init_weights(&arch, 7));
        assert_ne!(a.params.conv[0], init_weights(&arch, 8).params.conv[0]);
        let bound = 1.0 / 27f32.sqrt();
        assert!(a.params.conv[0].iter().all(|v| v.abs() <= bound));
        assert!(a.params.conv[0].iter().any(|v| v.abs() > 0.8 * bound));
        let bound = 1.0 / 256f32.sqrt();
        assert!(a.params.classifier.iter().all(|v| v.abs() <= bound));
        assert!(a.params.bn_weight.iter().flatten().all(|&v| v == 1.0));
        assert!(a.params.bn_bias.iter().flatten().all(|&v| v == 0.0));
        assert!(a.running_var.iter().flatten().all(|&v| v == 1.0));
    }
}
