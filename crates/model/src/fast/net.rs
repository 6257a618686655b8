//! [`FastNet`]: the eval-mode network on the fast kernels (BatchNorm folded into the convs,
//! ReLU fused into their epilogue, NHWC throughout), and its [`Classifier`] implementation.

use crate::arch::{Architecture, CONV_LAYERS, IMAGE_SIZE, IMAGE_VALUES};
use crate::error::{check_len, ModelError, Result};
use crate::fast::at_least;
use crate::fast::conv::Conv3x3;
use crate::fast::linear::Linear;
use crate::fast::pool::max_pool_map;
use crate::inference::{Classifier, Normalizer};
use crate::weights::Weights;

/// Images per internal chunk: big batches go through the network this many at a time, which
/// keeps the activations in cache better (PERFORMANCE.md: batch 256 beat 1024).
pub const DEFAULT_CHUNK: usize = 256;

/// `rows = max(rows + shift, 0)` per channel (the folded BatchNorm's shift, then ReLU).
///
/// # Shapes
/// `rows`: `[r, c]`; `shift`: `[c]`.
pub(crate) fn shift_relu(rows: &mut [f32], shift: &[f32]) {
    for row in rows.chunks_exact_mut(shift.len()) {
        for (v, s) in row.iter_mut().zip(shift) {
            *v = (*v + s).max(0.0);
        }
    }
}

/// The network in eval mode on the fast CPU kernels.
///
/// Built once from [`Weights`]: every BatchNorm is folded into its conv
/// (`w * scale[o]`, plus a per-channel shift `beta - scale * mean` applied with the ReLU in the
/// conv's epilogue), and the classifier's columns are permuted to the NHWC order of the
/// activations. Buffers are kept between calls and grow with the batch; batches larger than
/// the chunk size go through in chunks. An image's outputs do not depend on the rest of its
/// batch (bitwise: every kernel computes each row with the same arithmetic).
#[derive(Debug, Clone)]
pub struct FastNet {
    pub(crate) arch: Architecture,
    /// The convs with the raw weights (pre-BN outputs, for recording).
    pub(crate) raw: Vec<Conv3x3>,
    /// The convs with BatchNorm's scale folded in.
    pub(crate) folded: Vec<Conv3x3>,
    /// BatchNorm eval scale per layer.
    pub(crate) scale: Vec<Vec<f32>>,
    /// BatchNorm eval shift per layer.
    pub(crate) shift: Vec<Vec<f32>>,
    /// The classifier over NHWC features.
    pub(crate) linear: Linear,
    pub(crate) chunk: usize,
    pub(crate) buffers: Buffers,
}

/// Reused activation buffers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Buffers {
    pub(crate) a: Vec<f32>,
    pub(crate) b: Vec<f32>,
    pub(crate) argmax: Vec<u8>,
    /// Normalised images when the input is u8.
    pub(crate) images: Vec<f32>,
    /// Input-gradient path: ReLU output of every layer, pooled outputs, pool arg-max indices.
    pub(crate) relu: [Vec<f32>; CONV_LAYERS],
    pub(crate) pooled: [Vec<f32>; CONV_LAYERS],
    pub(crate) argmaxes: [Vec<u8>; CONV_LAYERS],
    pub(crate) grad_a: Vec<f32>,
    pub(crate) grad_b: Vec<f32>,
}

/// Checks that BatchNorm vectors of layer `l` have the layer's width.
fn check_bn(weights: &Weights, l: usize) -> Result<()> {
    let c = weights.arch.widths[l];
    let (b, k) = (l / 2 + 1, l % 2 + 1);
    for (name, v) in [
        ("weight", &weights.params.bn_weight[l]),
        ("bias", &weights.params.bn_bias[l]),
        ("running_mean", &weights.running_mean[l]),
        ("running_var", &weights.running_var[l]),
    ] {
        check_len(&format!("block{b}.bn{k}.{name}"), v.len(), c, || {
            format!("[{c}]")
        })?;
    }
    Ok(())
}

impl FastNet {
    /// Builds the eval network from weights (checking every tensor's length).
    pub fn new(weights: &Weights) -> Result<Self> {
        let arch = weights.arch;
        let mut raw = Vec::with_capacity(CONV_LAYERS);
        let mut folded = Vec::with_capacity(CONV_LAYERS);
        let mut scale = Vec::with_capacity(CONV_LAYERS);
        let mut shift = Vec::with_capacity(CONV_LAYERS);
        for l in 0..CONV_LAYERS {
            check_bn(weights, l)?;
            let (s, t) = weights.bn(l).eval_affine(arch.bn_eps);
            let (side, cout, cin) = (arch.spatial(l), arch.widths[l], arch.in_channels(l));
            raw.push(Conv3x3::from_oihw(
                side,
                cout,
                cin,
                &weights.params.conv[l],
            )?);
            folded.push(Conv3x3::from_oihw_scaled(
                side,
                cout,
                cin,
                &weights.params.conv[l],
                &s,
            )?);
            scale.push(s);
            shift.push(t);
        }
        let linear = Linear::from_nchw_classifier(
            arch.classes,
            arch.widths[CONV_LAYERS - 1],
            IMAGE_SIZE / 8,
            &weights.params.classifier,
        )?;
        Ok(FastNet {
            arch,
            raw,
            folded,
            scale,
            shift,
            linear,
            chunk: DEFAULT_CHUNK,
            buffers: Buffers::default(),
        })
    }

    /// Replaces the weights, keeping the buffers (for a training loop that evaluates often).
    pub fn set_weights(&mut self, weights: &Weights) -> Result<()> {
        let buffers = std::mem::take(&mut self.buffers);
        let chunk = self.chunk;
        *self = FastNet::new(weights)?;
        self.buffers = buffers;
        self.chunk = chunk;
        Ok(())
    }

    /// Sets how many images go through the network at a time (at least 1).
    pub fn with_chunk(mut self, chunk: usize) -> Self {
        self.chunk = chunk.max(1);
        self
    }

    /// The architecture.
    pub fn architecture(&self) -> &Architecture {
        &self.arch
    }

    /// Conv layer `l` with its raw weights (output before BatchNorm).
    pub fn raw_conv(&self, l: usize) -> &Conv3x3 {
        &self.raw[l]
    }

    /// Conv layer `l` with BatchNorm's scale folded in: `bn(conv(x)) = folded(x) + shift`.
    pub fn folded_conv(&self, l: usize) -> &Conv3x3 {
        &self.folded[l]
    }

    /// BatchNorm `l` in eval mode as `(scale, shift)`: `bn(z) = scale * z + shift`.
    ///
    /// # Shapes
    /// both `[widths[l]]`.
    pub fn bn_affine(&self, l: usize) -> (&[f32], &[f32]) {
        (&self.scale[l], &self.shift[l])
    }

    /// The classifier, reading the last pool's output in NHWC order (`[4, 4, widths[5]]`).
    pub fn linear(&self) -> &Linear {
        &self.linear
    }

    /// Number of images in a buffer of normalised NHWC images.
    pub(crate) fn batch_of(images: &[f32]) -> Result<usize> {
        let n = images.len() / IMAGE_VALUES;
        check_len("images", images.len(), n * IMAGE_VALUES, || {
            "[n, 32, 32, 3]".to_owned()
        })?;
        Ok(n)
    }

    /// Logits of u8 images in the dataset layout, normalised chunk by chunk.
    ///
    /// # Shapes
    /// `images`: `[n, 3, 32, 32]` u8 NCHW; `logits`: `[n, classes]`, overwritten.
    pub fn logits_u8(
        &mut self,
        normalizer: &Normalizer,
        images: &[u8],
        logits: &mut [f32],
    ) -> Result<()> {
        let n = images.len() / IMAGE_VALUES;
        check_len("u8 images", images.len(), n * IMAGE_VALUES, || {
            "[n, 3, 32, 32]".to_owned()
        })?;
        let classes = self.arch.classes;
        check_len("logits", logits.len(), n * classes, || {
            format!("[{n}, {classes}]")
        })?;
        let chunk = self.chunk;
        let mut normalised = std::mem::take(&mut self.buffers.images);
        let result = images
            .chunks(chunk * IMAGE_VALUES)
            .zip(logits.chunks_mut(chunk * classes))
            .try_for_each(|(src, dst)| {
                let x = at_least(&mut normalised, src.len());
                normalizer.nchw_u8_to_nhwc(src, x)?;
                self.forward_chunk(x, dst)
            });
        self.buffers.images = normalised;
        result
    }

    /// The eval forward of at most one chunk of images.
    ///
    /// # Shapes
    /// `images`: `[n, 32, 32, 3]`; `logits`: `[n, classes]`.
    fn forward_chunk(&mut self, images: &[f32], logits: &mut [f32]) -> Result<()> {
        let n = images.len() / IMAGE_VALUES;
        let arch = self.arch;
        let Buffers { a, b, argmax, .. } = &mut self.buffers;
        let (mut cur, mut next) = (a, b);
        for l in 0..CONV_LAYERS {
            let (side, c, cin) = (arch.spatial(l), arch.widths[l], arch.in_channels(l));
            let len = n * side * side * c;
            let input: &[f32] = if l == 0 {
                images
            } else {
                &cur[..n * side * side * cin]
            };
            let shift = &self.shift[l];
            let out = at_least(next, len);
            self.folded[l].forward_with(input, out, &mut [], 0, &|_, rows, _| {
                shift_relu(rows, shift)
            })?;
            std::mem::swap(&mut cur, &mut next);
            if Architecture::pool_after(l) {
                let half = side / 2;
                let pooled = at_least(next, n * half * half * c);
                let arg = at_least(argmax, n * half * half * c);
                max_pool_map(&cur[..len], side, c, pooled, arg, &|_, v| v);
                std::mem::swap(&mut cur, &mut next);
            }
        }
        self.linear
            .forward(&cur[..n * self.linear.inputs()], logits)
    }
}

impl Classifier for FastNet {
    fn num_classes(&self) -> usize {
        self.arch.classes
    }

    fn logits(&mut self, images: &[f32], logits: &mut [f32]) -> Result<()> {
        let n = Self::batch_of(images)?;
        let classes = self.arch.classes;
        check_len("logits", logits.len(), n * classes, || {
            format!("[{n}, {classes}]")
        })?;
        if images.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                what: "input images".to_owned(),
            });
        }
        let chunk = self.chunk;
        for (x, out) in images
            .chunks(chunk * IMAGE_VALUES)
            .zip(logits.chunks_mut(chunk * classes))
        {
            self.forward_chunk(x, out)?;
        }
        Ok(())
    }
}
