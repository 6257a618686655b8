//! The fast kernels against the f64 reference network, finite differences and their laws.

#[path = "fast_support/reference.rs"]
mod reference;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reference::{cross_entropy, nhwc_index, nhwc_to_nchw, RefNet};
use sal_model::arch::{Architecture, CONV_LAYERS, IMAGE_VALUES, PIXELS};
use sal_model::fast::bench::{random_images, random_weights};
use sal_model::fast::{
    conv3x3_weight_gradient, one_hot, relu_derivative, BackwardRule, Conv3x3, FastBackend, FastNet,
    Gradient, Recording,
};
use sal_model::{
    BatchStats, Classifier, InputGradient, ModelError, TrainBackend, Trainable, Weights,
};

/// Small widths for the laws that do not need the full network.
fn tiny_arch() -> Architecture {
    Architecture::with_widths([4, 4, 8, 8, 8, 8])
}

/// Random weights with less regular BatchNorm statistics than the bench's.
fn weights(arch: &Architecture, seed: u64) -> Weights {
    let mut w = random_weights(arch, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 1000);
    for l in 0..CONV_LAYERS {
        for v in &mut w.params.bn_weight[l] {
            *v = rng.random_range(0.5..1.5) * if rng.random_bool(0.1) { -1.0 } else { 1.0 };
        }
        for v in &mut w.params.bn_bias[l] {
            *v = rng.random_range(-0.3..0.3);
        }
        for v in &mut w.running_mean[l] {
            *v = rng.random_range(-0.5..0.5);
        }
        for v in &mut w.running_var[l] {
            *v = rng.random_range(0.3..2.0);
        }
    }
    w
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[test]
fn eval_forward_equals_the_f64_reference() {
    for (arch, n) in [(tiny_arch(), 3), (Architecture::default(), 2)] {
        let w = weights(&arch, 7);
        let images = random_images(n, 8);
        let mut net = FastNet::new(&w).unwrap();
        let mut logits = vec![0.0; n * arch.classes];
        net.logits(&images, &mut logits).unwrap();
        let expected = RefNet::new(&w).forward(&nhwc_to_nchw(&images), None).logits;
        let scale = max_abs(&expected);
        assert!(scale > 1e-3, "logits should not vanish");
        for (a, b) in logits.iter().zip(&expected) {
            assert!(
                (f64::from(*a) - b).abs() <= 1e-4 * scale,
                "{arch:?}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn u8_images_give_the_logits_of_their_normalised_form() {
    let arch = tiny_arch();
    let mut net = FastNet::new(&weights(&arch, 3)).unwrap();
    let norm = sal_model::Normalizer::new([0.49, 0.48, 0.45], [0.25, 0.24, 0.26]);
    let u8s: Vec<u8> = (0..3 * IMAGE_VALUES)
        .map(|i| ((i * 7919) % 256) as u8)
        .collect();
    let mut x = vec![0.0; u8s.len()];
    norm.nchw_u8_to_nhwc(&u8s, &mut x).unwrap();
    let (mut a, mut b) = (vec![0.0; 30], vec![0.0; 30]);
    net.logits(&x, &mut a).unwrap();
    net.logits_u8(&norm, &u8s, &mut b).unwrap();
    assert_eq!(a, b);
}

#[test]
fn input_gradients_agree_with_finite_differences_of_the_reference() {
    let arch = tiny_arch();
    let w = weights(&arch, 11);
    let n = 2;
    let images = random_images(n, 12);
    let classes = [3usize, 8];
    let mut net = FastNet::new(&w).unwrap();
    let mut logits = vec![0.0; n * arch.classes];
    let mut grads = vec![0.0; n * IMAGE_VALUES];
    net.logits_and_input_gradients(&images, &classes, &mut logits, &mut grads)
        .unwrap();

    let reference = RefNet::new(&w);
    let base = nhwc_to_nchw(&images);
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let h = 1e-5;
    let scale = grads.iter().fold(0.0f32, |m, g| m.max(g.abs())) as f64;
    assert!(scale > 1e-4);
    for _ in 0..60 {
        let (i, c, p) = (
            rng.random_range(0..n),
            rng.random_range(0..3),
            rng.random_range(0..PIXELS),
        );
        let at = i * IMAGE_VALUES + c * PIXELS + p;
        let logit = |delta: f64| {
            let mut x = base.clone();
            x[at] += delta;
            reference.forward(&x, None).logits[i * arch.classes + classes[i]]
        };
        let fd = (logit(h) - logit(-h)) / (2.0 * h);
        let analytic = f64::from(grads[nhwc_index(i, c, p)]);
        assert!(
            (analytic - fd).abs() <= 1e-2 * fd.abs() + 1e-4 * scale,
            "pixel ({i}, {c}, {p}): {analytic} vs {fd}"
        );
    }
}

#[test]
fn eval_is_batch_independent() {
    let arch = Architecture::default();
    let w = weights(&arch, 21);
    let k = arch.classes;
    let mut net = FastNet::new(&w).unwrap();
    let images = random_images(300, 22);
    // Alone, at the front of a small batch, and deep in a batch split into chunks of 256.
    let one = &images[270 * IMAGE_VALUES..271 * IMAGE_VALUES];
    let mut alone = vec![0.0; k];
    net.logits(one, &mut alone).unwrap();
    let mut small = images[..3 * IMAGE_VALUES].to_vec();
    small[..IMAGE_VALUES].copy_from_slice(one);
    let mut small_logits = vec![0.0; 3 * k];
    net.logits(&small, &mut small_logits).unwrap();
    let mut all = vec![0.0; 300 * k];
    net.logits(&images, &mut all).unwrap();
    assert_eq!(alone, small_logits[..k]);
    assert_eq!(alone, all[270 * k..271 * k]);
    let mut other_chunking = FastNet::new(&w).unwrap().with_chunk(7);
    let mut all7 = vec![0.0; 300 * k];
    other_chunking.logits(&images, &mut all7).unwrap();
    assert_eq!(all, all7);

    // Input gradients too.
    let mut g_alone = vec![0.0; IMAGE_VALUES];
    let mut l_alone = vec![0.0; k];
    net.logits_and_input_gradients(one, &[4], &mut l_alone, &mut g_alone)
        .unwrap();
    let mut g_small = vec![0.0; 3 * IMAGE_VALUES];
    net.logits_and_input_gradients(&small, &[4, 1, 2], &mut small_logits, &mut g_small)
        .unwrap();
    assert_eq!(g_alone, g_small[..IMAGE_VALUES]);
    assert_eq!(l_alone, alone);
}

#[test]
fn recorded_backward_with_the_default_rule_is_the_input_gradient() {
    let arch = Architecture::default();
    let w = weights(&arch, 31);
    let n = 3;
    let images = random_images(n, 32);
    let classes = [0usize, 5, 9];
    let mut net = FastNet::new(&w).unwrap();
    let mut logits = vec![0.0; n * arch.classes];
    let mut grads = vec![0.0; n * IMAGE_VALUES];
    net.logits_and_input_gradients(&images, &classes, &mut logits, &mut grads)
        .unwrap();

    let rec = net.record(&images).unwrap();
    assert_eq!(rec.layers.len(), CONV_LAYERS);
    for (a, b) in rec.logits.iter().zip(&logits) {
        assert!(
            (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
            "recorded logits {a} vs {b}"
        );
    }
    for (l, layer) in rec.layers.iter().enumerate() {
        let (scale, shift) = net.bn_affine(l);
        let c = arch.widths[l];
        for j in (0..layer.conv.len()).step_by(97) {
            assert_eq!(layer.bn[j], scale[j % c] * layer.conv[j] + shift[j % c]);
            assert_eq!(layer.relu[j], layer.bn[j].max(0.0));
        }
        assert_eq!(layer.pool.is_some(), Architecture::pool_after(l));
    }
    assert_eq!(rec.features().len(), n * arch.flat_features());

    let mut via_rule = vec![0.0; n * IMAGE_VALUES];
    net.backward(
        &rec,
        &one_hot(&classes, arch.classes),
        &mut Gradient,
        &mut via_rule,
    )
    .unwrap();
    let scale = grads.iter().fold(0.0f32, |m, g| m.max(g.abs()));
    for (a, b) in via_rule.iter().zip(&grads) {
        assert!((a - b).abs() <= 1e-4 * scale, "{a} vs {b}");
    }
}

/// The reference's loss with one parameter changed by `delta`.
fn reference_loss(
    w: &Weights,
    which: &Param,
    delta: f64,
    images: &[f64],
    labels: &[u8],
    mask: &[f64],
) -> f64 {
    let mut r = RefNet::new(w);
    match *which {
        Param::Conv(l, j) => r.conv[l][j] += delta,
        Param::Gamma(l, j) => r.gamma[l][j] += delta,
        Param::Beta(l, j) => r.beta[l][j] += delta,
        Param::Classifier(j) => r.classifier[j] += delta,
    }
    cross_entropy(
        &r.forward(images, Some(mask)).logits,
        labels,
        w.arch.classes,
    )
}

#[derive(Debug)]
enum Param {
    Conv(usize, usize),
    Gamma(usize, usize),
    Beta(usize, usize),
    Classifier(usize),
}

fn train_batch(arch: &Architecture, n: usize, seed: u64) -> (Vec<f32>, Vec<u8>, Vec<f32>) {
    let images = random_images(n, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
    let labels = (0..n)
        .map(|_| rng.random_range(0..arch.classes as u8))
        .collect();
    let mask = (0..n * arch.flat_features())
        .map(|_| if rng.random_bool(0.3) { 0.0 } else { 1.0 / 0.7 })
        .collect();
    (images, labels, mask)
}

#[test]
fn a_training_step_agrees_with_finite_differences_of_the_reference() {
    let arch = tiny_arch();
    let w = weights(&arch, 41);
    let n = 4;
    let (images, labels, mask) = train_batch(&arch, n, 42);
    assert!(mask.contains(&0.0));
    let mut backend = FastBackend::new();
    let mut grads = Trainable::zeros(&arch);
    let mut stats = BatchStats::zeros(&arch.widths);
    let out = backend
        .train_step(&w, &images, &labels, &mask, &mut grads, &mut stats)
        .unwrap();

    let x = nhwc_to_nchw(&images);
    let mask64: Vec<f64> = mask.iter().map(|&m| f64::from(m)).collect();
    let fwd = RefNet::new(&w).forward(&x, Some(&mask64));
    let loss = cross_entropy(&fwd.logits, &labels, arch.classes);
    assert!(
        (out.loss - loss).abs() <= 1e-5 * loss.abs(),
        "loss {} vs {loss}",
        out.loss
    );
    let correct = fwd
        .logits
        .chunks_exact(arch.classes)
        .zip(&labels)
        .filter(|(row, &y)| {
            row.iter()
                .enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |b, (k, &v)| if v > b.1 { (k, v) } else { b },
                )
                .0
                == usize::from(y)
        });
    assert_eq!(out.correct, correct.count());
    for l in 0..CONV_LAYERS {
        for c in 0..arch.widths[l] {
            let (m, v) = (fwd.mean[l][c], fwd.var[l][c]);
            assert!(
                (f64::from(stats.mean[l][c]) - m).abs() <= 1e-5 * (1.0 + m.abs()),
                "mean {l} {c}"
            );
            assert!(
                (f64::from(stats.var[l][c]) - v).abs() <= 1e-4 * v,
                "var {l} {c}: {} vs {v}",
                stats.var[l][c]
            );
        }
    }

    let mut rng = ChaCha8Rng::seed_from_u64(43);
    let mut params = Vec::new();
    for l in 0..CONV_LAYERS {
        for _ in 0..6 {
            params.push(Param::Conv(l, rng.random_range(0..grads.conv[l].len())));
        }
        params.push(Param::Gamma(l, rng.random_range(0..arch.widths[l])));
        params.push(Param::Beta(l, rng.random_range(0..arch.widths[l])));
    }
    for _ in 0..10 {
        params.push(Param::Classifier(
            rng.random_range(0..grads.classifier.len()),
        ));
    }
    let all: Vec<f32> = grads
        .tensors()
        .iter()
        .flat_map(|(_, t, _)| t.to_vec())
        .collect();
    let scale = all.iter().fold(0.0f32, |m, g| m.max(g.abs())) as f64;
    let h = 1e-5;
    for p in &params {
        let fd = (reference_loss(&w, p, h, &x, &labels, &mask64)
            - reference_loss(&w, p, -h, &x, &labels, &mask64))
            / (2.0 * h);
        let analytic = f64::from(match *p {
            Param::Conv(l, j) => grads.conv[l][j],
            Param::Gamma(l, j) => grads.bn_weight[l][j],
            Param::Beta(l, j) => grads.bn_bias[l][j],
            Param::Classifier(j) => grads.classifier[j],
        });
        assert!(
            (analytic - fd).abs() <= 1e-2 * fd.abs() + 1e-4 * scale,
            "{p:?}: {analytic} vs {fd}"
        );
    }
}

#[test]
fn training_steps_are_bitwise_reproducible_for_any_number_of_threads() {
    let arch = Architecture::with_widths([8, 8, 16, 16, 16, 16]);
    let w = weights(&arch, 51);
    let (images, labels, mask) = train_batch(&arch, 6, 52);
    let step = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut backend = FastBackend::new();
            let mut grads = Trainable::zeros(&arch);
            let mut stats = BatchStats::zeros(&arch.widths);
            let out = backend
                .train_step(&w, &images, &labels, &mask, &mut grads, &mut stats)
                .unwrap();
            let mut logits = vec![0.0; 6 * arch.classes];
            backend.eval_logits(&w, &images, &mut logits).unwrap();
            (out, grads, stats, logits)
        })
    };
    let a = step(2);
    let b = step(2);
    let c = step(1);
    assert_eq!(a, b, "two runs on 2 threads");
    assert_eq!(a, c, "1 thread vs 2 threads");
}

#[test]
fn fast_backend_eval_logits_are_the_fast_net_logits() {
    let arch = tiny_arch();
    let (w1, w2) = (weights(&arch, 61), weights(&arch, 62));
    let images = random_images(5, 63);
    let mut backend = FastBackend::new();
    for w in [&w1, &w2, &w1] {
        let mut a = vec![0.0; 50];
        backend.eval_logits(w, &images, &mut a).unwrap();
        let mut b = vec![0.0; 50];
        FastNet::new(w).unwrap().logits(&images, &mut b).unwrap();
        assert_eq!(a, b, "the backend follows weight changes");
    }
}

#[test]
fn conv_kernels_satisfy_the_adjoint_identities_for_any_weights() {
    // <conv_w(x), g> = <x, conv_w^T(g)> = <w, dW(x, g)>, and conv matches the naive sum.
    let (side, cin, cout, n) = (5, 3, 4, 2);
    let mut rng = ChaCha8Rng::seed_from_u64(71);
    let mut rand =
        |len: usize| -> Vec<f32> { (0..len).map(|_| rng.random_range(-1.0..1.0)).collect() };
    let w = rand(cout * cin * 9);
    let x = rand(n * side * side * cin);
    let g = rand(n * side * side * cout);
    let conv = Conv3x3::from_oihw(side, cout, cin, &w).unwrap();
    assert_eq!(conv.oihw(), w);
    let mut y = vec![0.0; g.len()];
    conv.forward(&x, &mut y).unwrap();
    for (i, yy, xx, o) in [(0, 0, 0, 0), (1, 2, 3, 1), (1, 4, 4, 3), (0, 4, 1, 2)] {
        let mut acc = 0.0f64;
        for ky in 0..3 {
            for kx in 0..3 {
                let (sy, sx) = (yy as isize + ky as isize - 1, xx as isize + kx as isize - 1);
                if sy < 0 || sx < 0 || sy >= side as isize || sx >= side as isize {
                    continue;
                }
                for c in 0..cin {
                    acc += f64::from(w[((o * cin + c) * 3 + ky) * 3 + kx])
                        * f64::from(x[((i * side + sy as usize) * side + sx as usize) * cin + c]);
                }
            }
        }
        assert!((f64::from(y[((i * side + yy) * side + xx) * cout + o]) - acc).abs() < 1e-5);
    }
    let mut gx = vec![0.0; x.len()];
    conv.backward_input(&g, &mut gx).unwrap();
    let mut gw = vec![0.0; w.len()];
    conv3x3_weight_gradient(side, cin, cout, &x, &g, &mut gw, &mut Vec::new()).unwrap();
    let dot = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(p, q)| f64::from(*p) * f64::from(*q))
            .sum::<f64>()
    };
    let reference = dot(&y, &g);
    assert!((dot(&x, &gx) - reference).abs() < 1e-4);
    assert!((dot(&w, &gw) - reference).abs() < 1e-4);
    // Scaling output channels scales the output.
    let scale = [2.0, -1.0, 0.5, 0.0];
    let scaled = Conv3x3::from_oihw_scaled(side, cout, cin, &w, &scale).unwrap();
    let mut ys = vec![0.0; y.len()];
    scaled.forward(&x, &mut ys).unwrap();
    for (j, (a, b)) in ys.iter().zip(&y).enumerate() {
        assert!((a - b * scale[j % cout]).abs() < 1e-5);
    }
}

#[test]
fn bad_inputs_are_refused_with_clear_errors() {
    let arch = tiny_arch();
    let w = weights(&arch, 81);
    let mut net = FastNet::new(&w).unwrap();
    let images = random_images(2, 82);
    let mut logits = vec![0.0; 20];
    assert!(matches!(
        net.logits(&images[1..], &mut logits),
        Err(ModelError::BadLength { .. })
    ));
    assert!(matches!(
        net.logits(&images, &mut logits[1..]),
        Err(ModelError::BadLength { .. })
    ));
    let mut grads = vec![0.0; images.len()];
    assert!(matches!(
        net.logits_and_input_gradients(&images, &[1, 10], &mut logits, &mut grads),
        Err(ModelError::BadClass {
            class: 10,
            classes: 10
        })
    ));
    let mut nan = images.clone();
    nan[5] = f32::NAN;
    assert!(matches!(
        net.logits(&nan, &mut logits),
        Err(ModelError::NonFinite { .. })
    ));
    let mut broken = w.clone();
    broken.params.conv[2].pop();
    let err = FastNet::new(&broken).unwrap_err().to_string();
    assert!(
        err.contains("conv weights") && err.contains("[8, 4, 3, 3]"),
        "{err}"
    );
    let mut backend = FastBackend::new();
    let (imgs, mut labels, mask) = train_batch(&arch, 2, 83);
    labels[1] = 10;
    let mut g = Trainable::zeros(&arch);
    let mut s = BatchStats::zeros(&arch.widths);
    assert!(matches!(
        backend.train_step(&w, &imgs, &labels, &mask, &mut g, &mut s),
        Err(ModelError::BadClass { .. })
    ));
    labels[1] = 0;
    assert!(matches!(
        backend.train_step(&w, &imgs, &labels, &mask[1..], &mut g, &mut s),
        Err(ModelError::BadLength { .. })
    ));
}

/// A rule that records its calls, defers to the gradient, and doubles the signal at the ReLU
/// of layer 3.
#[derive(Default)]
struct DoubleAtLayer3 {
    calls: Vec<(char, usize)>,
}

impl BackwardRule for DoubleAtLayer3 {
    fn relu(
        &mut self,
        layer: usize,
        record: &Recording,
        grad: &mut [f32],
    ) -> sal_model::error::Result<()> {
        self.calls.push(('r', layer));
        relu_derivative(&record.layers[layer].bn, grad);
        if layer == 3 {
            grad.iter_mut().for_each(|g| *g *= 2.0);
        }
        Ok(())
    }

    fn pool(
        &mut self,
        layer: usize,
        record: &Recording,
        grad_out: &[f32],
        grad_in: &mut [f32],
    ) -> sal_model::error::Result<()> {
        self.calls.push(('p', layer));
        Gradient.pool(layer, record, grad_out, grad_in)
    }
}

#[test]
fn backward_rules_are_applied_at_every_relu_and_pool_in_order() {
    let arch = tiny_arch();
    let w = weights(&arch, 91);
    let net = FastNet::new(&w).unwrap();
    let images = random_images(2, 92);
    let rec = net.record(&images).unwrap();
    let seeds = one_hot(&[2, 7], arch.classes);
    let mut plain = vec![0.0; images.len()];
    net.backward(&rec, &seeds, &mut Gradient, &mut plain)
        .unwrap();
    let mut rule = DoubleAtLayer3::default();
    let mut doubled = vec![0.0; images.len()];
    net.backward(&rec, &seeds, &mut rule, &mut doubled).unwrap();
    let order: Vec<(char, usize)> = vec![
        ('p', 5),
        ('r', 5),
        ('r', 4),
        ('p', 3),
        ('r', 3),
        ('r', 2),
        ('p', 1),
        ('r', 1),
        ('r', 0),
    ];
    assert_eq!(rule.calls, order);
    assert!(plain.iter().any(|&g| g != 0.0));
    for (d, p) in doubled.iter().zip(&plain) {
        assert!(
            (d - 2.0 * p).abs() <= 1e-6 * (1.0 + p.abs()),
            "{d} vs 2 x {p}"
        );
    }
    // A recording of another batch size is refused.
    let mut short = vec![0.0; IMAGE_VALUES];
    assert!(net
        .backward(&rec, &seeds, &mut Gradient, &mut short)
        .is_err());
}
