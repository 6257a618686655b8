//! `deep_shap`: DeepSHAP (Lundberg and Lee 2017) as shap's `DeepExplainer` computes it.
//!
//! For a background set {b_1..b_K} of training images, every (x, b_k) pair is explained with
//! DeepLIFT multipliers m_k (the "rescale" rule) propagated like a gradient from the explained
//! logit down to the input; the attribution is `phi = mean_k m_k * (x - b_k)`, summed over the
//! three channels. By construction (the multipliers of every layer satisfy
//! `sum_i m_i * (x_i - b_i) = y(x) - y(b)` for each of its outputs) the map sums to
//! `logit(x) - mean_k logit(b_k)`, the law the tests check.
//!
//! The rules, per layer type, as in shap 0.3x–0.4x (`shap/explainers/_deep/deep_pytorch.py`,
//! `op_handler`; the TensorFlow version `deep_tf.py` has the same rules):
//!
//! - **conv, linear, BatchNorm (eval mode)**: linear maps, so the multiplier is the ordinary
//!   gradient (`linear_1d`): transposed conv, transposed matmul, times the BN scale (the BN
//!   shift cancels in x - b).
//! - **ReLU: the rescale rule** (`nonlinear_1d`): `m_in = m_out * (relu(a_x) - relu(a_b)) / (a_x - a_b)`,
//!   and where `|a_x - a_b| < 1e-6`, the ordinary gradient `m_out * [a_x > 0]`.
//! - **2x2 max-pool: shap's `maxpool` rule.** For each window with outputs y = max over x's
//!   window and r = max over b's window, and c = max(y, r), the output multiplier g is handed to
//!   two places: `g * (c - r)` to the arg-max of x's window and `g * (y - c)` to the arg-max of
//!   b's window (these are "contributions", and they sum to `g * (y - r)`); each input unit's
//!   multiplier is its contribution divided by its own `x_i - b_i`, or 0 where
//!   `|x_i - b_i| < 1e-7`. (shap does it with `max_unpool` of `grad * [c - r; y - c]` over the
//!   stacked [x; b] batch, each half unpooled with its own indices, then `(xmax_pos +
//!   rmax_pos) / delta_in`.) The dropped case loses nothing in exact arithmetic: if x's arg-max i
//!   has x_i = b_i then r >= b_i = y, so c = r and its contribution c - r is 0; symmetrically
//!   for b's arg-max. So summation-to-delta stays exact up to float rounding and the 1e-6/1e-7
//!   thresholds.
//!
//! shap computes the K pairs as one batch of 2K images through autograd. Here the background's
//! forward pass is recorded once when the method is built, and the K pairs of an image go
//! through sal-model's eval backward (`FastNet::backward`) as one batch of K, with the rules
//! above as its ReLU and max-pool steps; BatchNorm's scale is part of the folded convs there.

use rayon::prelude::*;
use sal_artifact::names::saliency as sn;
use sal_model::arch::{IMAGE_SIZE, IMAGE_VALUES, IN_CHANNELS, PIXELS};
use sal_model::fast::{one_hot, BackwardRule, FastNet, Recording};
use sal_model::{ModelError, Normalizer, Weights};

use crate::candle::deep_shap::CandleDeepShap;
use crate::error::{AttributionError, Result};
use crate::method::{Batch, ExtraData, ExtraTensor, Method, Setup};
use crate::network::{self, window_element};
use crate::registry::MethodInfo;
use crate::select;

/// Registration.
pub const INFO: MethodInfo = MethodInfo {
    name: "deep_shap",
    summary: "DeepSHAP: DeepLIFT rescale multipliers averaged over K training images (shap DeepExplainer rules)",
    needs_training_images: true,
    build,
};

/// Below this |a_x - a_b| the ReLU multiplier is the gradient (shap `nonlinear_1d`).
pub const RELU_THRESHOLD: f32 = 1e-6;
/// Below this |x_i - b_i| a max-pool input gets multiplier 0 (shap `maxpool`).
pub const POOL_THRESHOLD: f32 = 1e-7;

fn build(setup: &Setup<'_>) -> Result<Box<dyn Method>> {
    let train = setup.training_images.ok_or_else(|| {
        AttributionError::Config(
            "deep_shap needs the training split for its background, and none was given".to_owned(),
        )
    })?;
    let pool = train.len() / IMAGE_VALUES;
    let index =
        select::draw_background(pool, setup.config.deep_shap_background, setup.config.seed)?;
    let mut pixels = Vec::with_capacity(index.len() * IMAGE_VALUES);
    for &i in &index {
        let i = i as usize;
        pixels.extend_from_slice(&train[i * IMAGE_VALUES..(i + 1) * IMAGE_VALUES]);
    }
    if !network::is_fast(setup.config) {
        let mut background = vec![0.0; pixels.len()];
        setup.normalizer.nchw_u8_to_nhwc(&pixels, &mut background)?;
        return Ok(Box::new(CandleDeepShap::new(
            setup.weights,
            &setup.config.device,
            &background,
            index,
            setup.config.seed,
        )?));
    }
    Ok(Box::new(DeepShap::new(
        setup.weights,
        &setup.normalizer,
        &pixels,
        index,
        setup.config.seed,
    )?))
}

/// The DeepSHAP method with its background.
pub struct DeepShap {
    net: FastNet,
    index: Vec<u32>,
    seed: u64,
    /// `[K, 32, 32, 3]` normalised background images.
    background: Vec<f32>,
    /// The background's recorded forward pass (conv outputs dropped: unused).
    recording: Recording,
    /// `[K, classes]` one-hot seeds, rebuilt per explained class.
    seeds: Vec<f32>,
    /// `[K, 32, 32, 3]` multipliers at the input, reused.
    multipliers: Vec<f32>,
}

impl DeepShap {
    /// DeepSHAP against the given background images (training-split indices `index`, recorded
    /// in the artifact; `seed` only for the metadata).
    ///
    /// # Shapes
    /// `pixels`: u8 `[K, 3, 32, 32]`; `index`: `[K]`.
    pub fn new(
        weights: &Weights,
        normalizer: &Normalizer,
        pixels: &[u8],
        index: Vec<u32>,
        seed: u64,
    ) -> Result<Self> {
        let k = index.len();
        crate::error::check_len(
            "DeepSHAP background",
            pixels.len(),
            k * IMAGE_VALUES,
            || format!("[{k}, 3, 32, 32] u8"),
        )?;
        if k == 0 {
            return Err(AttributionError::Config(
                "deep_shap_background = 0".to_owned(),
            ));
        }
        let net = FastNet::new(weights)?;
        let mut background = vec![0.0; pixels.len()];
        normalizer.nchw_u8_to_nhwc(pixels, &mut background)?;
        let mut recording = net.record(&background)?;
        for layer in &mut recording.layers {
            layer.conv = Vec::new();
        }
        Ok(DeepShap {
            net,
            index,
            seed,
            background,
            recording,
            seeds: Vec::new(),
            multipliers: vec![0.0; k * IMAGE_VALUES],
        })
    }

    /// Number of background images K.
    pub fn background_len(&self) -> usize {
        self.index.len()
    }

    /// Mean over the background of the logit of `class` (shap's "expected value").
    pub fn expected_logit(&self, class: usize) -> f64 {
        let classes = self.net.architecture().classes;
        let k = self.index.len();
        (0..k)
            .map(|b| f64::from(self.recording.logits[b * classes + class]))
            .sum::<f64>()
            / k as f64
    }
}

/// DeepLIFT's rescale rule at the ReLUs and shap's max-pool rule, for the K pairs of one image
/// (the image is image `i` of `image`'s recording; the pairs' backward pass runs on the
/// background's recording, image k of which is pair k's reference).
struct Rescale<'a> {
    image: &'a Recording,
    i: usize,
}

impl BackwardRule for Rescale<'_> {
    fn relu(
        &mut self,
        layer: usize,
        background: &Recording,
        grad: &mut [f32],
    ) -> std::result::Result<(), ModelError> {
        let per = grad.len() / background.n.max(1);
        let ax = &self.image.layers[layer].bn[self.i * per..(self.i + 1) * per];
        grad.par_chunks_mut(per)
            .zip(background.layers[layer].bn.par_chunks(per))
            .for_each(|(g, ar)| {
                for ((g, &a), &r) in g.iter_mut().zip(ax).zip(ar) {
                    let d = a - r;
                    let multiplier = if d.abs() < RELU_THRESHOLD {
                        if a > 0.0 {
                            1.0
                        } else {
                            0.0
                        }
                    } else {
                        (a.max(0.0) - r.max(0.0)) / d
                    };
                    *g *= multiplier;
                }
            });
        Ok(())
    }

    fn pool(
        &mut self,
        layer: usize,
        background: &Recording,
        grad_out: &[f32],
        grad_in: &mut [f32],
    ) -> std::result::Result<(), ModelError> {
        let k = background.n.max(1);
        let (per_out, per_in) = (grad_out.len() / k, grad_in.len() / k);
        let side = IMAGE_SIZE >> (layer / 2);
        let c = per_in / (side * side).max(1);
        let missing = || ModelError::BadRecording {
            message: format!("layer {layer} has no recorded pool"),
        };
        let xl = &self.image.layers[layer];
        let xpool = xl.pool.as_ref().ok_or_else(missing)?;
        let bl = &background.layers[layer];
        let bpool = bl.pool.as_ref().ok_or_else(missing)?;
        let (i, hx) = (self.i, &xl.relu[self.i * per_in..(self.i + 1) * per_in]);
        let (px, argx) = (
            &xpool.out[i * per_out..(i + 1) * per_out],
            &xpool.argmax[i * per_out..(i + 1) * per_out],
        );
        grad_in
            .par_chunks_mut(per_in)
            .enumerate()
            .for_each(|(b, gi)| {
                gi.fill(0.0);
                let g = &grad_out[b * per_out..(b + 1) * per_out];
                let (pr, argr) = (
                    &bpool.out[b * per_out..(b + 1) * per_out],
                    &bpool.argmax[b * per_out..(b + 1) * per_out],
                );
                for o in 0..per_out {
                    let (y, r) = (px[o], pr[o]);
                    let cross = y.max(r);
                    gi[window_element(o, argx[o], side, c)] += g[o] * (cross - r);
                    gi[window_element(o, argr[o], side, c)] += g[o] * (y - cross);
                }
                let hr = &bl.relu[b * per_in..(b + 1) * per_in];
                for ((v, &xv), &rv) in gi.iter_mut().zip(hx).zip(hr) {
                    let d = xv - rv;
                    *v = if d.abs() < POOL_THRESHOLD {
                        0.0
                    } else {
                        *v / d
                    };
                }
            });
        Ok(())
    }
}

impl Method for DeepShap {
    fn name(&self) -> &'static str {
        INFO.name
    }

    fn explain(&mut self, batch: &Batch<'_>, maps: &mut [f32]) -> Result<()> {
        batch.check_maps(maps)?;
        let classes = self.net.architecture().classes;
        let k = self.index.len();
        let image_record = self.net.record(batch.images)?;
        for i in 0..batch.len() {
            let class = batch.classes[i];
            if class >= classes {
                return Err(ModelError::BadClass { class, classes }.into());
            }
            self.seeds = one_hot(&vec![class; k], classes);
            let mut rule = Rescale {
                image: &image_record,
                i,
            };
            self.net.backward(
                &self.recording,
                &self.seeds,
                &mut rule,
                &mut self.multipliers,
            )?;
            // phi = mean_k m_k (x - b_k), summed over channels.
            let x = &batch.images[i * IMAGE_VALUES..(i + 1) * IMAGE_VALUES];
            let (m, bg) = (&self.multipliers, &self.background);
            let map = &mut maps[i * PIXELS..(i + 1) * PIXELS];
            map.par_iter_mut().enumerate().for_each(|(p, out)| {
                let mut acc = 0.0f64;
                for b in 0..k {
                    for ch in 0..IN_CHANNELS {
                        let at = p * IN_CHANNELS + ch;
                        acc += f64::from(m[b * IMAGE_VALUES + at])
                            * f64::from(x[at] - bg[b * IMAGE_VALUES + at]);
                    }
                }
                *out = (acc / k as f64) as f32;
            });
        }
        Ok(())
    }

    fn extra_tensors(&self) -> Vec<ExtraTensor> {
        vec![ExtraTensor {
            name: sn::DEEP_SHAP_BACKGROUND_INDEX.to_owned(),
            shape: vec![self.index.len()],
            data: ExtraData::U32(self.index.clone()),
        }]
    }

    fn describe(&self) -> serde_json::Value {
        describe(self.index.len(), self.seed)
    }
}

/// The method's settings as stored in the artifact metadata (the same on every backend).
pub fn describe(background: usize, seed: u64) -> serde_json::Value {
    serde_json::json!({
        "background": {"size": background, "seed": seed, "split": "train", "tensor": sn::DEEP_SHAP_BACKGROUND_INDEX},
        "relu": format!("DeepLIFT rescale; gradient where |a_x - a_b| < {RELU_THRESHOLD:e}"),
        "linear": "conv, BatchNorm (eval) and classifier as linear maps (gradient)",
        "max_pool": format!("shap DeepExplainer maxpool rule; multiplier 0 where |x - b| < {POOL_THRESHOLD:e}"),
        "reduce": "mean over the background, sum over channels",
    })
}
