//! The candle model: input gradients and training gradients against central finite
//! differences (f64 on the CPU), batch independence of eval mode, and its names and layouts
//! against `model.safetensors`.

use candle_core::{DType, Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_artifact::{Kind, Meta};
use sal_model::candle_net::{CandleBackend, CandleNet};
use sal_model::train::init_weights;
use sal_model::{
    Architecture, BatchStats, Classifier, InputGradient, TrainBackend, Trainable, Weights,
};

const IMAGE: usize = 3 * 32 * 32;

/// Seeded weights with non-trivial BN parameters and running statistics.
fn weights(widths: [usize; 6], seed: u64) -> Weights {
    let mut w = init_weights(&Architecture::with_widths(widths), seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
    for l in 0..6 {
        for c in 0..widths[l] {
            w.params.bn_weight[l][c] = rng.random_range(0.5..1.5);
            w.params.bn_bias[l][c] = rng.random_range(-0.2..0.2);
            w.running_mean[l][c] = rng.random_range(-0.3..0.3);
            w.running_var[l][c] = rng.random_range(0.2..1.0);
        }
    }
    w
}

/// Smooth-ish random images (NCHW, f64): a low-frequency pattern plus noise.
fn images(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n * IMAGE);
    for _ in 0..n {
        let (a, b, c) = (
            rng.random_range(0.05..0.3),
            rng.random_range(0.05..0.3),
            rng.random_range(-1.0..1.0),
        );
        for ch in 0..3 {
            for p in 0..1024 {
                let (r, col) = ((p / 32) as f64, (p % 32) as f64);
                out.push((a * r + b * col + ch as f64).sin() * c + rng.random_range(-0.5..0.5));
            }
        }
    }
    out
}

fn nchw_to_nhwc(x: &[f64]) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    for (src, dst) in x.chunks_exact(IMAGE).zip(out.chunks_exact_mut(IMAGE)) {
        for c in 0..3 {
            for p in 0..1024 {
                dst[p * 3 + c] = src[c * 1024 + p] as f32;
            }
        }
    }
    out
}

#[test]
fn input_gradients_match_central_finite_differences_in_f64() {
    let w = weights([8, 8, 12, 12, 16, 16], 1);
    let net = CandleNet::from_weights(&w, &Device::Cpu, DType::F64).unwrap();
    let n = 2;
    let x0 = images(n, 2);
    let x = Tensor::from_slice(&x0, (n, 3, 32, 32), &Device::Cpu).unwrap();
    let logits = net.forward_eval(&x).unwrap().to_vec2::<f64>().unwrap();
    let classes: Vec<usize> = logits
        .iter()
        .map(|row| (0..10).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap())
        .collect();
    let (_, grad) = net.input_gradients(&x, &classes).unwrap();
    let grad = grad.flatten_all().unwrap().to_vec1::<f64>().unwrap();

    // Per image: the 8 largest-magnitude coordinates and 8 random ones.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut coords = Vec::new();
    for i in 0..n {
        let g = &grad[i * IMAGE..(i + 1) * IMAGE];
        let mut order: Vec<usize> = (0..IMAGE).collect();
        order.sort_by(|&a, &b| g[b].abs().total_cmp(&g[a].abs()));
        coords.extend(order[..8].iter().map(|&k| i * IMAGE + k));
        coords.extend((0..8).map(|_| i * IMAGE + rng.random_range(0..IMAGE)));
    }
    // All perturbed inputs in one batch: image 2k = +h, 2k+1 = -h on coordinate k.
    let h = 1e-5;
    let mut batch = Vec::with_capacity(2 * coords.len() * IMAGE);
    for &k in &coords {
        let i = k / IMAGE;
        for sign in [1.0, -1.0] {
            let mut img = x0[i * IMAGE..(i + 1) * IMAGE].to_vec();
            img[k - i * IMAGE] += sign * h;
            batch.extend(img);
        }
    }
    let bt = Tensor::from_vec(batch, (2 * coords.len(), 3, 32, 32), &Device::Cpu).unwrap();
    let out = net.forward_eval(&bt).unwrap().to_vec2::<f64>().unwrap();
    let max_abs = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    assert!(max_abs > 1e-3, "degenerate network: max |grad| = {max_abs}");
    for (j, &k) in coords.iter().enumerate() {
        let class = classes[k / IMAGE];
        let numeric = (out[2 * j][class] - out[2 * j + 1][class]) / (2.0 * h);
        let rel = (numeric - grad[k]).abs() / grad[k].abs().max(0.01 * max_abs);
        assert!(
            rel < 1e-2,
            "coordinate {k}: numeric {numeric}, analytic {}, rel. error {rel}",
            grad[k]
        );
    }
}

#[test]
fn eval_mode_is_batch_independent_and_the_traits_agree() {
    let w = weights([4, 4, 8, 8, 8, 8], 4);
    let mut net = CandleNet::from_weights(&w, &Device::Cpu, DType::F32).unwrap();
    let x = nchw_to_nhwc(&images(5, 5));
    let mut all = vec![0.0; 50];
    net.logits(&x, &mut all).unwrap();
    for i in 0..5 {
        let mut one = vec![0.0; 10];
        net.logits(&x[i * IMAGE..(i + 1) * IMAGE], &mut one)
            .unwrap();
        for c in 0..10 {
            assert!(
                (one[c] - all[i * 10 + c]).abs() <= 1e-5 * (1.0 + one[c].abs()),
                "image {i} class {c}"
            );
        }
    }
    // A different batch mate does not change an image's logits either.
    let mut pair = x[..IMAGE].to_vec();
    pair.extend_from_slice(&x[4 * IMAGE..]);
    let mut two = vec![0.0; 20];
    net.logits(&pair, &mut two).unwrap();
    for c in 0..10 {
        assert!((two[c] - all[c]).abs() <= 1e-5 * (1.0 + all[c].abs()));
    }
    // InputGradient's logits are Classifier's logits; its gradient is NHWC.
    let classes = [3, 1, 4, 1, 5];
    let (mut logits, mut grads) = (vec![0.0; 50], vec![0.0; 5 * IMAGE]);
    net.logits_and_input_gradients(&x, &classes, &mut logits, &mut grads)
        .unwrap();
    assert!(logits.iter().zip(&all).all(|(a, b)| (a - b).abs() < 1e-5));
    let xt = sal_model::candle_net::net::nhwc_to_tensor(&x, &Device::Cpu, DType::F32).unwrap();
    let (_, g) = net.input_gradients(&xt, &classes).unwrap();
    let g = g.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    for (i, c, r, col) in [(0, 0, 0, 1), (2, 2, 31, 5), (4, 1, 7, 30)] {
        assert_eq!(
            grads[i * IMAGE + (r * 32 + col) * 3 + c],
            g[i * IMAGE + c * 1024 + r * 32 + col]
        );
    }
}

#[test]
fn the_net_reads_model_safetensors_by_its_contract_names() {
    let w = weights([2, 3, 4, 5, 6, 7], 6);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    w.save(
        &path,
        Meta::new(Kind::Model, "train", serde_json::json!({})),
    )
    .unwrap();
    let tensors = candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
    let vb = candle_nn::VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
    let net = CandleNet::new(w.arch, vb).unwrap();
    assert_eq!(net.to_weights().unwrap(), w);
    assert_eq!(
        CandleNet::from_weights(&w, &Device::Cpu, DType::F64)
            .unwrap()
            .to_weights()
            .unwrap(),
        w
    );
}

/// Training loss of the f64 candle backend at `w` (fixed images, labels, dropout mask).
fn train_loss(
    backend: &mut CandleBackend,
    w: &Weights,
    x: &[f32],
    labels: &[u8],
    mask: &[f32],
) -> f64 {
    let mut grads = Trainable::zeros(&w.arch);
    let mut stats = BatchStats::zeros(&w.arch.widths);
    backend
        .train_step(w, x, labels, mask, &mut grads, &mut stats)
        .unwrap()
        .loss
}

#[test]
fn training_gradients_and_batch_statistics_are_right() {
    let widths = [3, 4, 4, 5, 5, 6];
    let w = weights(widths, 7);
    let n = 4;
    let x = nchw_to_nhwc(&images(n, 8));
    let labels = [0u8, 3, 9, 3];
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let flat = w.arch.flat_features();
    let mask: Vec<f32> = (0..n * flat)
        .map(|_| if rng.random::<bool>() { 2.0 } else { 0.0 })
        .collect();
    let mut backend = CandleBackend::new(Device::Cpu, DType::F64).unwrap();
    let mut grads = Trainable::zeros(&w.arch);
    let mut stats = BatchStats::zeros(&widths);
    let out = backend
        .train_step(&w, &x, &labels, &mask, &mut grads, &mut stats)
        .unwrap();
    assert!(out.loss > 0.0 && out.correct <= n);

    // Layer 0's batch statistics by a direct convolution.
    let conv = &w.params.conv[0];
    for o in 0..widths[0] {
        let mut values = Vec::new();
        for i in 0..n {
            for r in 0..32i64 {
                for c in 0..32i64 {
                    let mut z = 0.0f64;
                    for ci in 0..3 {
                        for (dr, dc) in (0..3).flat_map(|a| (0..3).map(move |b| (a, b))) {
                            let (rr, cc) = (r + dr - 1, c + dc - 1);
                            if (0..32).contains(&rr) && (0..32).contains(&cc) {
                                let px = x[i * IMAGE + ((rr * 32 + cc) as usize) * 3 + ci];
                                z += f64::from(
                                    conv[((o * 3 + ci) * 3 + dr as usize) * 3 + dc as usize],
                                ) * f64::from(px);
                            }
                        }
                    }
                    values.push(z);
                }
            }
        }
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
        assert!(
            (f64::from(stats.mean[0][o]) - mean).abs() < 1e-5,
            "mean of channel {o}"
        );
        assert!(
            (f64::from(stats.var[0][o]) - var).abs() < 1e-5 * (1.0 + var),
            "biased var of channel {o}"
        );
    }

    // Gradients against central differences on a sample of every tensor's entries.
    let analytic: Vec<Vec<f32>> = grads
        .tensors()
        .into_iter()
        .map(|(_, g, _)| g.to_vec())
        .collect();
    let names: Vec<String> = grads
        .tensors()
        .into_iter()
        .map(|(name, _, _)| name)
        .collect();
    let mut checked = 0;
    for (t, name) in names.iter().enumerate() {
        let len = analytic[t].len();
        let max_abs = analytic[t].iter().fold(0.0f32, |m, g| m.max(g.abs()));
        for k in [0, len / 3, len / 2, len - 1] {
            let (mut plus, mut minus) = (w.clone(), w.clone());
            // Small: with such narrow layers, larger steps cross ReLU and max-pool kinks
            // (at h = 1e-3 the central difference is off by up to 40% on some entries).
            let h = 1e-5f32;
            let v = plus.params.tensors_mut()[t].1[k];
            plus.params.tensors_mut()[t].1[k] = v + h;
            minus.params.tensors_mut()[t].1[k] = v - h;
            let step = f64::from(v + h) - f64::from(v - h);
            let numeric = (train_loss(&mut backend, &plus, &x, &labels, &mask)
                - train_loss(&mut backend, &minus, &x, &labels, &mask))
                / step;
            let a = f64::from(analytic[t][k]);
            let rel = (numeric - a).abs() / a.abs().max(0.01 * f64::from(max_abs)).max(1e-6);
            assert!(rel < 1e-2, "{name}[{k}]: numeric {numeric}, analytic {a}");
            checked += 1;
        }
    }
    assert_eq!(checked, 19 * 4);
}

#[test]
fn f32_and_f64_training_steps_agree() {
    let w = weights([3, 3, 4, 4, 5, 5], 10);
    let n = 3;
    let x = nchw_to_nhwc(&images(n, 11));
    let labels = [1u8, 2, 3];
    let mask = vec![1.0f32; n * w.arch.flat_features()];
    let run = |dtype| {
        let mut backend = CandleBackend::new(Device::Cpu, dtype).unwrap();
        let mut grads = Trainable::zeros(&w.arch);
        let mut stats = BatchStats::zeros(&w.arch.widths);
        let out = backend
            .train_step(&w, &x, &labels, &mask, &mut grads, &mut stats)
            .unwrap();
        (out, grads)
    };
    let (o32, g32) = run(DType::F32);
    let (o64, g64) = run(DType::F64);
    assert!((o32.loss - o64.loss).abs() < 1e-4);
    assert_eq!(o32.correct, o64.correct);
    for ((name, a, _), (_, b, _)) in g32.tensors().into_iter().zip(g64.tensors()) {
        let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            a.iter()
                .zip(b)
                .all(|(p, q)| (p - q).abs() <= 1e-3 * scale + 1e-6),
            "{name}"
        );
    }
}
