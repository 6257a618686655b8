//! The paper's CNN for CIFAR-10, and everything that runs it.
//!
//! Three blocks of [3x3 conv (no bias), BatchNorm, ReLU] x 2 then 2x2 max-pool; widths
//! 32,32 / 64,64 / 128,128 by default; flatten (2048) -> dropout -> linear 2048 -> 10 (no bias)
//! -> softmax.
//!
//! Key design decision: **[`Weights`] (plain `Vec<f32>` per tensor, PyTorch/candle layouts,
//! named as in `model.safetensors`) is the one currency** between the parts: the candle model
//! (reference implementation and GPU path), the fast CPU kernels (NHWC, own im2col + one large
//! matmul per conv, BN folded for inference), the training loop and the artifact file. Every
//! consumer of the model (attribution, metrics) talks to it through the inference traits in
//! [`inference`], whose images are normalised NHWC f32.

pub mod arch;
pub mod backend;
pub mod candle_net;
pub mod error;
pub mod fast;
pub mod inference;
pub mod train;
pub mod weights;

pub use arch::Architecture;
pub use backend::{BatchStats, StepOutput, TrainBackend};
pub use error::ModelError;
pub use fast::{FastBackend, FastNet};
pub use inference::{Classifier, InputGradient, Normalizer};
pub use weights::{BatchNorm, Trainable, Weights};
