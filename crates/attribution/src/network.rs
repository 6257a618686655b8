//! The only file that touches sal-model's fast kernels: the model behind the gradient methods
//! (the fast kernels, or candle on `[attribute] device`), and small helpers over sal-model's
//! recorded forward pass for the propagation methods.
//!
//! Deep Taylor and DeepSHAP use [`FastNet::record`], [`FastNet::backward`] with a custom
//! [`BackwardRule`](sal_model::fast::BackwardRule), [`Conv3x3`] built from transformed weights
//! and the classifier's [`Linear`](sal_model::fast::Linear) directly; nothing here is a conv or
//! a matmul of its own.

use sal_config::AttributeConfig;
use sal_model::candle_net::eval_net;
use sal_model::fast::{FastNet, Recording};
use sal_model::{Classifier, InputGradient, Weights};

use crate::error::Result;

pub use sal_model::fast::Conv3x3;

/// Whether `config` runs the network on the fast CPU kernels (else candle on its device).
pub fn is_fast(config: &AttributeConfig) -> bool {
    config.backend.is_fast_on(&config.device)
}

/// The model the gradient methods differentiate: the fast eval network, or the candle one on
/// the configured device.
pub fn gradient_model(
    weights: &Weights,
    config: &AttributeConfig,
) -> Result<Box<dyn InputGradient + Send>> {
    if is_fast(config) {
        Ok(Box::new(FastNet::new(weights)?))
    } else {
        Ok(Box::new(eval_net(weights, &config.device)?))
    }
}

/// The model that predicts the explained class: as [`gradient_model`].
pub fn classifier(
    weights: &Weights,
    config: &AttributeConfig,
) -> Result<Box<dyn Classifier + Send>> {
    if is_fast(config) {
        Ok(Box::new(FastNet::new(weights)?))
    } else {
        Ok(Box::new(eval_net(weights, &config.device)?))
    }
}

/// The input of conv layer `l` in a recording: the images for layer 0, else the previous
/// block's pool output (after layers 1 and 3) or ReLU output.
///
/// # Shapes
/// `images`: `[n, 32, 32, 3]`; returns `[n, side, side, in_channels(l)]`.
pub fn conv_input<'a>(record: &'a Recording, images: &'a [f32], l: usize) -> &'a [f32] {
    if l == 0 {
        return images;
    }
    let prev = &record.layers[l - 1];
    prev.pool
        .as_ref()
        .map_or(prev.relu.as_slice(), |p| p.out.as_slice())
}

/// Index, within one image's `[side, side, c]` map, of window element `w` (0..4, row-major in
/// the 2x2 window, sal-model's arg-max convention) of pooled output `o` (an index within one
/// image's `[side/2, side/2, c]` map).
pub fn window_element(o: usize, w: u8, side: usize, c: usize) -> usize {
    let half = side / 2;
    let (p, ch) = (o / c, o % c);
    let (y, x) = (p / half, p % half);
    let (dy, dx) = (usize::from(w / 2), usize::from(w % 2));
    ((2 * y + dy) * side + 2 * x + dx) * c + ch
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_elements_are_row_major_in_the_window() {
        // 4x4 map, 2 channels; pooled output (1, 0), channel 1 = o = (1 * 2 + 0) * 2 + 1 = 5.
        assert_eq!(window_element(5, 0, 4, 2), (2 * 4) * 2 + 1);
        assert_eq!(window_element(5, 1, 4, 2), (2 * 4 + 1) * 2 + 1);
        assert_eq!(window_element(5, 2, 4, 2), (3 * 4) * 2 + 1);
        assert_eq!(window_element(5, 3, 4, 2), (3 * 4 + 1) * 2 + 1);
    }
}
