//! A straightforward f64 implementation of the paper's network (NCHW, naive loops, BatchNorm
//! not folded), the reference the fast kernels are tested against. It also documents the
//! maths:
//!
//! - conv: `z[i, o, y, x] = sum_{c, ky, kx} w[o, c, ky, kx] * a[i, c, y + ky - 1, x + kx - 1]`
//!   (zero outside the image);
//! - BatchNorm: `gamma * (z - mu) / sqrt(var + eps) + beta`, with (mu, var) the running
//!   statistics in eval mode, or the batch mean and biased variance over (i, y, x) in training;
//! - ReLU, then after layers 1, 3, 5 a 2x2 max-pool;
//! - flatten `[n, c, 4, 4]` in NCHW order, multiply by the dropout mask (training), then
//!   `logits = W feat`; loss = mean over the batch of `logsumexp(logits) - logits[label]`.

use sal_model::arch::{Architecture, CONV_LAYERS, IMAGE_VALUES, IN_CHANNELS, PIXELS};
use sal_model::Weights;

/// The network's parameters in f64.
#[derive(Debug, Clone)]
pub struct RefNet {
    pub arch: Architecture,
    pub conv: Vec<Vec<f64>>,
    pub gamma: Vec<Vec<f64>>,
    pub beta: Vec<Vec<f64>>,
    pub running_mean: Vec<Vec<f64>>,
    pub running_var: Vec<Vec<f64>>,
    pub classifier: Vec<f64>,
}

/// What a reference forward returns.
#[derive(Debug, Clone)]
pub struct RefForward {
    /// `[n, classes]`.
    pub logits: Vec<f64>,
    /// Batch mean and biased variance of every BN input (training mode; empty in eval mode).
    pub mean: Vec<Vec<f64>>,
    pub var: Vec<Vec<f64>>,
}

fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

/// Normalised NHWC f32 images to NCHW f64.
pub fn nhwc_to_nchw(images: &[f32]) -> Vec<f64> {
    let n = images.len() / IMAGE_VALUES;
    let mut out = vec![0.0; images.len()];
    for i in 0..n {
        for p in 0..PIXELS {
            for c in 0..IN_CHANNELS {
                out[i * IMAGE_VALUES + c * PIXELS + p] =
                    f64::from(images[i * IMAGE_VALUES + p * IN_CHANNELS + c]);
            }
        }
    }
    out
}

/// Index of (image i, channel c, pixel p) of an NHWC image buffer.
pub fn nhwc_index(i: usize, c: usize, p: usize) -> usize {
    i * IMAGE_VALUES + p * IN_CHANNELS + c
}

impl RefNet {
    pub fn new(w: &Weights) -> Self {
        RefNet {
            arch: w.arch,
            conv: w.params.conv.iter().map(|v| to_f64(v)).collect(),
            gamma: w.params.bn_weight.iter().map(|v| to_f64(v)).collect(),
            beta: w.params.bn_bias.iter().map(|v| to_f64(v)).collect(),
            running_mean: w.running_mean.iter().map(|v| to_f64(v)).collect(),
            running_var: w.running_var.iter().map(|v| to_f64(v)).collect(),
            classifier: to_f64(&w.params.classifier),
        }
    }

    /// Eval (`mask` None: running statistics, no dropout) or training (`mask` Some: batch
    /// statistics, features times the NCHW-ordered mask) forward of NCHW f64 images.
    pub fn forward(&self, images: &[f64], mask: Option<&[f64]>) -> RefForward {
        let arch = &self.arch;
        let n = images.len() / IMAGE_VALUES;
        let mut a = images.to_vec();
        let (mut means, mut vars) = (Vec::new(), Vec::new());
        for l in 0..CONV_LAYERS {
            let (s, cin, cout) = (arch.spatial(l), arch.in_channels(l), arch.widths[l]);
            let w = &self.conv[l];
            let mut z = vec![0.0; n * cout * s * s];
            for i in 0..n {
                for o in 0..cout {
                    for y in 0..s {
                        for x in 0..s {
                            let mut acc = 0.0;
                            for c in 0..cin {
                                for ky in 0..3 {
                                    for kx in 0..3 {
                                        let (yy, xx) = (
                                            y as isize + ky as isize - 1,
                                            x as isize + kx as isize - 1,
                                        );
                                        if yy < 0 || xx < 0 || yy >= s as isize || xx >= s as isize
                                        {
                                            continue;
                                        }
                                        acc += w[((o * cin + c) * 3 + ky) * 3 + kx]
                                            * a[((i * cin + c) * s + yy as usize) * s
                                                + xx as usize];
                                    }
                                }
                            }
                            z[((i * cout + o) * s + y) * s + x] = acc;
                        }
                    }
                }
            }
            let (mu, var) = if mask.is_some() {
                let m = (n * s * s) as f64;
                let mut mu = vec![0.0; cout];
                let mut var = vec![0.0; cout];
                for o in 0..cout {
                    let vals = (0..n)
                        .flat_map(|i| z[(i * cout + o) * s * s..(i * cout + o + 1) * s * s].iter());
                    mu[o] = vals.clone().sum::<f64>() / m;
                    var[o] = vals.map(|v| (v - mu[o]).powi(2)).sum::<f64>() / m;
                }
                means.push(mu.clone());
                vars.push(var.clone());
                (mu, var)
            } else {
                (self.running_mean[l].clone(), self.running_var[l].clone())
            };
            for i in 0..n {
                for o in 0..cout {
                    let k = self.gamma[l][o] / (var[o] + arch.bn_eps).sqrt();
                    for v in &mut z[(i * cout + o) * s * s..(i * cout + o + 1) * s * s] {
                        *v = ((*v - mu[o]) * k + self.beta[l][o]).max(0.0);
                    }
                }
            }
            a = if Architecture::pool_after(l) {
                let h = s / 2;
                let mut p = vec![0.0; n * cout * h * h];
                for ic in 0..n * cout {
                    for y in 0..h {
                        for x in 0..h {
                            let at = |yy: usize, xx: usize| z[(ic * s + yy) * s + xx];
                            p[(ic * h + y) * h + x] = at(2 * y, 2 * x)
                                .max(at(2 * y, 2 * x + 1))
                                .max(at(2 * y + 1, 2 * x))
                                .max(at(2 * y + 1, 2 * x + 1));
                        }
                    }
                }
                p
            } else {
                z
            };
        }
        debug_assert_eq!(a.len(), n * arch.flat_features());
        let f = arch.flat_features();
        if let Some(mask) = mask {
            for (v, m) in a.iter_mut().zip(mask) {
                *v *= m;
            }
        }
        let mut logits = vec![0.0; n * arch.classes];
        for i in 0..n {
            for k in 0..arch.classes {
                logits[i * arch.classes + k] = (0..f)
                    .map(|j| self.classifier[k * f + j] * a[i * f + j])
                    .sum();
            }
        }
        RefForward {
            logits,
            mean: means,
            var: vars,
        }
    }
}

/// Mean softmax cross-entropy of `[n, classes]` logits.
pub fn cross_entropy(logits: &[f64], labels: &[u8], classes: usize) -> f64 {
    let n = labels.len();
    let mut loss = 0.0;
    for (row, &y) in logits.chunks_exact(classes).zip(labels) {
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lse = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
        loss += lse - row[usize::from(y)];
    }
    loss / n as f64
}
