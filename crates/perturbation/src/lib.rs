//! Pixel perturbations for the saliency metrics of `sal`, with no model inside.
//!
//! A metric perturbs the pixels of a test image one at a time, in an order given by a saliency
//! map (MoRF, LeRF) or drawn at random, replacing each with a fill value, and runs the model on
//! every intermediate image. This crate decides the orders and the fill values and writes the
//! perturbed images; `sal-metrics` runs the model.
//!
//! Key design decision: **every random choice is a pure function of (seed, purpose, test-set
//! index)** through [`seeded_rng`]: the tie-breaking keys and the uniform fill of an image depend
//! on its index in the CIFAR-10 test set, never on its position in a run, and the random
//! orderings and faithfulness pixels are drawn once for all images. So a chunked, resumed or
//! sharded run perturbs every image exactly as an uninterrupted run does. By default every method
//! and order gives a pixel of an image the same colour (paired comparisons); `[metrics]
//! uniform_draws = "independent"` gives each curve its own colours ([`Draw`]). The
//! `imputation` fill (ROAD's noisy linear imputation, [`imputation`]) imputes the perturbed
//! pixels from the kept ones instead of replacing them ([`Perturbation`]).
//!
//! Images are normalised NHWC f32 `[32, 32, 3]` (pixel `p = row * 32 + col` occupies values
//! `3p..3p+3`); dataset images are u8 NCHW `[3, 32, 32]`.

pub mod error;
pub mod fill;
pub mod imputation;
pub mod layout;
pub mod order;
pub mod random;
pub mod seed;
pub mod steps;

pub use error::{PerturbationError, Result};
pub use fill::{Draw, Draws, Fill, FillInfo, FillSetup, ImageRef, Perturbation, Prepared, FILLS};
pub use layout::{Normalisation, CHANNELS, IMAGE_VALUES, PIXELS};
pub use order::{rank_pixels, tie_keys, Order};
pub use random::{faithfulness_pixels, random_orderings};
pub use seed::seeded_rng;
pub use steps::{write_single, write_steps};
