//! The fast CPU path: NHWC kernels for the paper's CNN, the inference API on them, and the
//! default training backend.
//!
//! Key design decision: **every conv is im2col of a tile of 256 output positions into a
//! per-thread buffer, then one single-threaded gemm per tile, tiles in parallel on rayon.** The
//! im2col block stays in cache (a whole-batch im2col of layer 2 is 150 MB at batch 128), no
//! kernel allocates per call, and since each row always goes through the same arithmetic, the
//! results are bitwise independent of the batch composition and of the number of threads. In
//! a probe on this 2-core machine (batch 128, quiet) this ran the 32->32, 64->64 and 128->128
//! convs 1.8x, 1.5x and 1.2x faster than im2col of the whole batch followed by one
//! multi-threaded gemm per layer (the 3->32 first layer: about the same).
//!
//! - [`FastNet`]: eval mode (BatchNorm folded into the convs, ReLU fused), implementing
//!   [`Classifier`](crate::Classifier) and [`InputGradient`](crate::InputGradient).
//! - [`FastNet::record`] and [`FastNet::backward`] with a [`BackwardRule`]: layer-level access
//!   for attribution methods (DeepSHAP, deep Taylor), plus the kernels themselves:
//!   [`Conv3x3`] (forward, backward to the input, any weights), [`Linear`], [`max_pool2x2`].
//! - [`IncrementalNet`]: the logits of passes that each change one pixel of an earlier pass,
//!   recomputing only the positions that pixel reaches (the metrics engine's forward).
//! - [`FastBackend`]: training steps ([`TrainBackend`](crate::TrainBackend)).
//! - [`bench`](mod@bench): `sal bench`, throughput as a ratio to a large matmul in the same process.
//!
//! All activations are NHWC; the classifier reads the last pool's output in NHWC order, its
//! weight columns permuted once from the NCHW flatten order of `model.safetensors`.

mod alloc;
mod backend;
pub mod bench;
mod conv;
mod grad;
mod im2col;
mod incremental;
mod incremental_conv;
mod incremental_layout;
mod linear;
mod matmul;
mod net;
mod pool;
mod record;

pub use alloc::tune_allocator;
pub use backend::FastBackend;
pub use conv::{conv3x3_weight_gradient, Conv3x3, TILE_ROWS};
pub use im2col::im2col_rows;
pub use incremental::{EditChain, IncrementalNet, DEFAULT_SLOTS};
pub use linear::{nchw_feature_index, nchw_to_nhwc_features, nhwc_to_nchw_features, Linear};
pub use matmul::{matmul, Layout};
pub use net::{FastNet, DEFAULT_CHUNK};
pub use pool::{max_pool2x2, max_pool2x2_backward};
pub use record::{
    one_hot, relu_derivative, BackwardRule, Gradient, LayerRecord, PoolRecord, Recording,
};

/// Grows `v` to at least `len` values and returns its first `len`.
pub(crate) fn at_least<T: Clone + Default>(v: &mut Vec<T>, len: usize) -> &mut [T] {
    if v.len() < len {
        v.resize(len, T::default());
    }
    &mut v[..len]
}
