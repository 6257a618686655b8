//! A straightforward f64 reference of the network's eval forward pass and of the two
//! propagation methods, in NCHW with naive loops. Slow, obviously right, for tiny widths only.
//!
//! Nothing here shares code with the crate: it is the independent side of every comparison.

#![allow(dead_code)]

use sal_model::arch::{Architecture, CONV_LAYERS, IMAGE_SIZE, IMAGE_VALUES, PIXELS};
use sal_model::Weights;

/// A 3-d activation, NCHW without the batch: `[c, s, s]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Act {
    pub c: usize,
    pub s: usize,
    pub v: Vec<f64>,
}

impl Act {
    pub fn zeros(c: usize, s: usize) -> Self {
        Act {
            c,
            s,
            v: vec![0.0; c * s * s],
        }
    }
    pub fn at(&self, c: usize, r: usize, col: usize) -> f64 {
        self.v[(c * self.s + r) * self.s + col]
    }
    pub fn idx(&self, c: usize, r: usize, col: usize) -> usize {
        (c * self.s + r) * self.s + col
    }
    pub fn sum(&self) -> f64 {
        self.v.iter().sum()
    }
}

/// Everything the eval forward pass computes, per layer.
#[derive(Debug, Clone)]
pub struct Forward {
    /// The input, NCHW.
    pub input: Act,
    /// Per conv layer: its input (the image, or the previous block's ReLU/pool output).
    pub conv_in: Vec<Act>,
    /// Per conv layer: the conv output (pre-BN).
    pub conv: Vec<Act>,
    /// Per conv layer: the BN output (pre-ReLU).
    pub bn: Vec<Act>,
    /// Per conv layer: the ReLU output.
    pub relu: Vec<Act>,
    /// Per pooled layer (1, 3, 5): pool output and, per output element, the flat arg-max index
    /// into the ReLU output (first maximum in row-major window order).
    pub pool: Vec<(Act, Vec<usize>)>,
    /// The classifier input, NCHW flatten order.
    pub flat: Vec<f64>,
    pub logits: Vec<f64>,
}

/// The weights in f64, BN as (scale, shift).
pub struct RefNet {
    pub arch: Architecture,
    pub conv: Vec<Vec<f64>>,
    pub scale: Vec<Vec<f64>>,
    pub shift: Vec<Vec<f64>>,
    pub classifier: Vec<f64>,
}

impl RefNet {
    pub fn new(w: &Weights) -> Self {
        let eps = w.arch.bn_eps;
        let mut scale = Vec::new();
        let mut shift = Vec::new();
        for l in 0..CONV_LAYERS {
            let mut s = Vec::new();
            let mut t = Vec::new();
            for c in 0..w.arch.widths[l] {
                let sc = f64::from(w.params.bn_weight[l][c])
                    / (f64::from(w.running_var[l][c]) + eps).sqrt();
                s.push(sc);
                t.push(f64::from(w.params.bn_bias[l][c]) - sc * f64::from(w.running_mean[l][c]));
            }
            scale.push(s);
            shift.push(t);
        }
        RefNet {
            arch: w.arch,
            conv: w
                .params
                .conv
                .iter()
                .map(|v| v.iter().map(|&x| f64::from(x)).collect())
                .collect(),
            scale,
            shift,
            classifier: w.params.classifier.iter().map(|&x| f64::from(x)).collect(),
        }
    }

    /// Conv weight of layer l at (out o, in i, kernel row kr, kernel col kc).
    pub fn w(&self, l: usize, o: usize, i: usize, kr: usize, kc: usize) -> f64 {
        let cin = self.arch.in_channels(l);
        self.conv[l][((o * cin + i) * 3 + kr) * 3 + kc]
    }

    /// 3x3 conv, padding 1, stride 1, with the weights given by `w(o, i, kr, kc)`.
    pub fn conv_with(
        &self,
        l: usize,
        x: &Act,
        w: impl Fn(usize, usize, usize, usize) -> f64,
    ) -> Act {
        let cout = self.arch.widths[l];
        let s = x.s;
        let mut out = Act::zeros(cout, s);
        for o in 0..cout {
            for r in 0..s {
                for c in 0..s {
                    let mut acc = 0.0;
                    for i in 0..x.c {
                        for kr in 0..3 {
                            for kc in 0..3 {
                                let (rr, cc) =
                                    (r as isize + kr as isize - 1, c as isize + kc as isize - 1);
                                if rr < 0 || cc < 0 || rr >= s as isize || cc >= s as isize {
                                    continue;
                                }
                                acc += w(o, i, kr, kc) * x.at(i, rr as usize, cc as usize);
                            }
                        }
                    }
                    out.v[(o * s + r) * s + c] = acc;
                }
            }
        }
        out
    }

    /// The transpose of [`RefNet::conv_with`]: d(sum_j g_j conv_j) / d x.
    pub fn conv_transpose_with(
        &self,
        l: usize,
        g: &Act,
        cin: usize,
        w: impl Fn(usize, usize, usize, usize) -> f64,
    ) -> Act {
        let s = g.s;
        let mut out = Act::zeros(cin, s);
        for o in 0..g.c {
            for r in 0..s {
                for c in 0..s {
                    let go = g.at(o, r, c);
                    if go == 0.0 {
                        continue;
                    }
                    for i in 0..cin {
                        for kr in 0..3 {
                            for kc in 0..3 {
                                let (rr, cc) =
                                    (r as isize + kr as isize - 1, c as isize + kc as isize - 1);
                                if rr < 0 || cc < 0 || rr >= s as isize || cc >= s as isize {
                                    continue;
                                }
                                out.v[(i * s + rr as usize) * s + cc as usize] +=
                                    w(o, i, kr, kc) * go;
                            }
                        }
                    }
                }
            }
        }
        let _ = l;
        out
    }

    /// The eval forward pass of one image.
    ///
    /// `image`: normalised NHWC `[32, 32, 3]`.
    pub fn forward(&self, image: &[f32]) -> Forward {
        assert_eq!(image.len(), IMAGE_VALUES);
        let mut input = Act::zeros(3, IMAGE_SIZE);
        for p in 0..PIXELS {
            for c in 0..3 {
                input.v[c * PIXELS + p] = f64::from(image[p * 3 + c]);
            }
        }
        let mut f = Forward {
            input: input.clone(),
            conv_in: vec![],
            conv: vec![],
            bn: vec![],
            relu: vec![],
            pool: vec![],
            flat: vec![],
            logits: vec![],
        };
        let mut x = input;
        for l in 0..CONV_LAYERS {
            f.conv_in.push(x.clone());
            let z = self.conv_with(l, &x, |o, i, kr, kc| self.w(l, o, i, kr, kc));
            let mut a = z.clone();
            for c in 0..a.c {
                for k in 0..a.s * a.s {
                    a.v[c * a.s * a.s + k] =
                        self.scale[l][c] * z.v[c * a.s * a.s + k] + self.shift[l][c];
                }
            }
            let h = Act {
                c: a.c,
                s: a.s,
                v: a.v.iter().map(|&v| v.max(0.0)).collect(),
            };
            f.conv.push(z);
            f.bn.push(a);
            f.relu.push(h.clone());
            x = h;
            if Architecture::pool_after(l) {
                let (p, idx) = max_pool(&x);
                f.pool.push((p.clone(), idx));
                x = p;
            }
        }
        f.flat = x.v.clone();
        let k = f.flat.len();
        f.logits = (0..self.arch.classes)
            .map(|c| (0..k).map(|i| self.classifier[c * k + i] * f.flat[i]).sum())
            .collect();
        f
    }

    /// The logit of class `class` (f64 forward).
    pub fn logit(&self, image: &[f32], class: usize) -> f64 {
        self.forward(image).logits[class]
    }
}

/// 2x2 max-pool, stride 2; arg-max = first maximum in (0,0), (0,1), (1,0), (1,1) order.
pub fn max_pool(x: &Act) -> (Act, Vec<usize>) {
    let s = x.s / 2;
    let mut out = Act::zeros(x.c, s);
    let mut idx = vec![0; x.c * s * s];
    for c in 0..x.c {
        for r in 0..s {
            for col in 0..s {
                let mut best = x.idx(c, 2 * r, 2 * col);
                for (dr, dc) in [(0, 1), (1, 0), (1, 1)] {
                    let j = x.idx(c, 2 * r + dr, 2 * col + dc);
                    if x.v[j] > x.v[best] {
                        best = j;
                    }
                }
                let o = out.idx(c, r, col);
                out.v[o] = x.v[best];
                idx[o] = best;
            }
        }
    }
    (out, idx)
}

/// Per-layer relevance of the reference deep Taylor, for the conservation checks.
#[derive(Debug, Clone)]
pub struct TaylorTrace {
    /// Relevance at the top (max(logit, 0)).
    pub top: f64,
    /// Relevance at each conv output (= BN output = ReLU input, passed unchanged), by layer.
    pub at_conv_out: Vec<Act>,
    /// Relevance at each conv input, by layer (layer 0: the image, NCHW).
    pub at_conv_in: Vec<Act>,
    /// The map: sum over channels of the input relevance, `[32 * 32]`.
    pub map: Vec<f64>,
}

/// Reference deep Taylor: z+ on the classifier and on convs 1..5, z^B on conv 0 with per-channel
/// bounds `low`, `high`; ReLU and max-pool pass relevance along the gradient; BN passes it
/// unchanged (`fold = false`) or is folded into the conv weights (`fold = true`, bias ignored).
pub fn deep_taylor(
    net: &RefNet,
    image: &[f32],
    class: usize,
    low: [f64; 3],
    high: [f64; 3],
    fold: bool,
) -> TaylorTrace {
    let f = net.forward(image);
    let top = f.logits[class].max(0.0);
    // Classifier: z+ with the flattened features (>= 0).
    let k = f.flat.len();
    let wc = |i: usize| net.classifier[class * k + i];
    let z: f64 = (0..k).map(|i| f.flat[i] * wc(i).max(0.0)).sum();
    let mut r_flat: Vec<f64> = (0..k)
        .map(|i| {
            if z > 0.0 {
                f.flat[i] * wc(i).max(0.0) * top / z
            } else {
                0.0
            }
        })
        .collect();
    let last = CONV_LAYERS - 1;
    let mut r = Act {
        c: net.arch.widths[last],
        s: IMAGE_SIZE >> 3,
        v: std::mem::take(&mut r_flat),
    };
    let mut at_conv_out = vec![Act::zeros(0, 0); CONV_LAYERS];
    let mut at_conv_in = vec![Act::zeros(0, 0); CONV_LAYERS];
    for l in (0..CONV_LAYERS).rev() {
        if Architecture::pool_after(l) {
            let (_, idx) = &f.pool[l / 2];
            let mut up = Act::zeros(r.c, r.s * 2);
            for (o, &j) in idx.iter().enumerate() {
                up.v[j] += r.v[o];
            }
            r = up;
        }
        // ReLU: gradient mapping.
        for (v, a) in r.v.iter_mut().zip(&f.bn[l].v) {
            if *a <= 0.0 {
                *v = 0.0;
            }
        }
        at_conv_out[l] = r.clone();
        let x = &f.conv_in[l];
        let weight = |o: usize, i: usize, kr: usize, kc: usize| {
            let w = net.w(l, o, i, kr, kc);
            if fold {
                w * net.scale[l][o]
            } else {
                w
            }
        };
        let rin = if l > 0 {
            let wp = |o, i, kr, kc| weight(o, i, kr, kc).max(0.0);
            let z = net.conv_with(l, x, wp);
            let s = Act {
                c: r.c,
                s: r.s,
                v: r.v
                    .iter()
                    .zip(&z.v)
                    .map(|(r, z)| if *z > 0.0 { r / z } else { 0.0 })
                    .collect(),
            };
            let c = net.conv_transpose_with(l, &s, x.c, wp);
            Act {
                c: x.c,
                s: x.s,
                v: x.v.iter().zip(&c.v).map(|(x, c)| x * c).collect(),
            }
        } else {
            let lo = Act {
                c: 3,
                s: x.s,
                v: (0..x.v.len()).map(|j| low[j / PIXELS]).collect(),
            };
            let hi = Act {
                c: 3,
                s: x.s,
                v: (0..x.v.len()).map(|j| high[j / PIXELS]).collect(),
            };
            let wp = |o, i, kr, kc| weight(o, i, kr, kc).max(0.0);
            let wn = |o, i, kr, kc| weight(o, i, kr, kc).min(0.0);
            let za = net.conv_with(l, x, weight);
            let zb = net.conv_with(l, &lo, wp);
            let zc = net.conv_with(l, &hi, wn);
            let s: Vec<f64> = (0..r.v.len())
                .map(|j| {
                    let z = za.v[j] - zb.v[j] - zc.v[j];
                    if z != 0.0 {
                        r.v[j] / z
                    } else {
                        0.0
                    }
                })
                .collect();
            let s = Act {
                c: r.c,
                s: r.s,
                v: s,
            };
            let ca = net.conv_transpose_with(l, &s, 3, weight);
            let cb = net.conv_transpose_with(l, &s, 3, wp);
            let cc = net.conv_transpose_with(l, &s, 3, wn);
            Act {
                c: 3,
                s: x.s,
                v: (0..x.v.len())
                    .map(|j| x.v[j] * ca.v[j] - lo.v[j] * cb.v[j] - hi.v[j] * cc.v[j])
                    .collect(),
            }
        };
        at_conv_in[l] = rin.clone();
        r = rin;
    }
    let map = (0..PIXELS)
        .map(|p| (0..3).map(|c| r.v[c * PIXELS + p]).sum())
        .collect();
    TaylorTrace {
        top,
        at_conv_out,
        at_conv_in,
        map,
    }
}

/// Reference DeepSHAP for one (image, background) pair: the DeepLIFT rescale multipliers
/// propagated to the input, times (x - b), summed over channels. Max-pool: shap's rule (see the
/// crate's deep_shap module for the source).
///
/// Returns the map `[32 * 32]`.
pub fn deep_shap_pair(net: &RefNet, image: &[f32], background: &[f32], class: usize) -> Vec<f64> {
    let fx = net.forward(image);
    let fr = net.forward(background);
    let k = fx.flat.len();
    let last = CONV_LAYERS - 1;
    let mut m = Act {
        c: net.arch.widths[last],
        s: IMAGE_SIZE >> 3,
        v: (0..k).map(|i| net.classifier[class * k + i]).collect(),
    };
    for l in (0..CONV_LAYERS).rev() {
        if Architecture::pool_after(l) {
            let (px, ix) = &fx.pool[l / 2];
            let (pr, ir) = &fr.pool[l / 2];
            let hx = &fx.relu[l];
            let hr = &fr.relu[l];
            let mut contrib = Act::zeros(m.c, m.s * 2);
            for o in 0..m.v.len() {
                let (y, r) = (px.v[o], pr.v[o]);
                let cross = y.max(r);
                contrib.v[ix[o]] += m.v[o] * (cross - r);
                contrib.v[ir[o]] += m.v[o] * (y - cross);
            }
            m = Act {
                c: contrib.c,
                s: contrib.s,
                v: (0..contrib.v.len())
                    .map(|j| {
                        let d = hx.v[j] - hr.v[j];
                        if d.abs() < 1e-7 {
                            0.0
                        } else {
                            contrib.v[j] / d
                        }
                    })
                    .collect(),
            };
        }
        // ReLU rescale.
        for j in 0..m.v.len() {
            let (a, b) = (fx.bn[l].v[j], fr.bn[l].v[j]);
            let d = a - b;
            let mult = if d.abs() < 1e-6 {
                if a > 0.0 {
                    1.0
                } else {
                    0.0
                }
            } else {
                (a.max(0.0) - b.max(0.0)) / d
            };
            m.v[j] *= mult;
        }
        // BN: linear.
        let hw = m.s * m.s;
        for c in 0..m.c {
            for j in 0..hw {
                m.v[c * hw + j] *= net.scale[l][c];
            }
        }
        // Conv: linear.
        m = net.conv_transpose_with(l, &m, net.arch.in_channels(l), |o, i, kr, kc| {
            net.w(l, o, i, kr, kc)
        });
    }
    (0..PIXELS)
        .map(|p| {
            (0..3)
                .map(|c| {
                    m.v[c * PIXELS + p] * (fx.input.v[c * PIXELS + p] - fr.input.v[c * PIXELS + p])
                })
                .sum()
        })
        .collect()
}
