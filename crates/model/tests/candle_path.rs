//! The candle path (the GPU path of `attribute` and `metrics`) against the fast CPU kernels, on
//! the device of `SAL_TEST_DEVICE` (default: candle's CPU; `scripts/gpu-check.sh` runs these
//! same tests with `cuda:0`): eval logits and probabilities within 1e-5, input gradients within
//! 1e-4 relative (L2) on every image without a near tie in a max-pool window (where the two
//! paths may legitimately route a gradient differently), and perturbed batches built on the
//! device equal to those built on the host.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_model::arch::{Architecture, CONV_LAYERS, IMAGE_VALUES, PIXELS};
use sal_model::candle_net::perturbed::{ordering_ranks, single_ranks};
use sal_model::candle_net::{test_device, CandleNet, PerturbedImage, PerturbedRow, RankTables};
use sal_model::inference::softmax_rows;
use sal_model::train::init_weights;
use sal_model::{Classifier, FastNet, InputGradient, Weights};

/// The paper's widths with seeded weights, BN statistics of both signs and a classifier
/// scaled up (x16) so that logits reach several units, as a trained model's (x4 gave at most 1).
fn weights(seed: u64) -> Weights {
    let mut w = init_weights(&Architecture::default(), seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
    for l in 0..CONV_LAYERS {
        for c in 0..w.arch.widths[l] {
            w.params.bn_weight[l][c] = rng.random_range(0.5..1.5);
            w.params.bn_bias[l][c] = rng.random_range(-0.2..0.3);
            w.running_mean[l][c] = rng.random_range(-0.1..0.1);
            w.running_var[l][c] = rng.random_range(0.5..1.5);
        }
    }
    for v in w.params.classifier.iter_mut() {
        *v *= 16.0;
    }
    w
}

/// Normalised NHWC images: a smooth random pattern plus noise, within the normalised range.
fn images(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n * IMAGE_VALUES);
    for _ in 0..n {
        let (a, b) = (rng.random_range(0.05..0.3), rng.random_range(0.05..0.3));
        for p in 0..PIXELS {
            for c in 0..3 {
                let (r, col) = ((p / 32) as f32, (p % 32) as f32);
                let v = (a * r + b * col + c as f32).sin() + rng.random_range(-0.5..0.5);
                out.push(v);
            }
        }
    }
    out
}

fn candle(weights: &Weights) -> CandleNet {
    CandleNet::from_weights(weights, &test_device(), candle_core::DType::F32).unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// ||a - b|| / ||b|| (in f64).
fn rel_l2(a: &[f32], b: &[f32]) -> f64 {
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        num += (f64::from(x) - f64::from(y)).powi(2);
        den += f64::from(y).powi(2);
    }
    (num / den.max(1e-300)).sqrt()
}

#[test]
fn eval_logits_and_probabilities_equal_the_fast_kernels() {
    let w = weights(11);
    let x = images(6, 12);
    let (mut fast, mut net) = (FastNet::new(&w).unwrap(), candle(&w));
    let mut expected = vec![0.0; 6 * 10];
    let mut found = vec![0.0; 6 * 10];
    fast.logits(&x, &mut expected).unwrap();
    net.logits(&x, &mut found).unwrap();
    let spread = expected.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(spread > 2.0, "logits too small to test anything: {spread}");
    let d = max_abs_diff(&found, &expected);
    assert!(d < 1e-5, "logits differ by {d}");
    softmax_rows(&mut expected, 10);
    softmax_rows(&mut found, 10);
    let d = max_abs_diff(&found, &expected);
    assert!(d < 1e-5, "probabilities differ by {d}");
}

/// Per image, whether some 2x2 max-pool window's largest positive value is within float noise
/// of the window's second (a near tie): the two paths' activations differ in their last bits
/// (different summation orders, which differ between AVX2 and AVX-512 kernels), so they may
/// route that window's gradient to different pixels, and both are right.
/// A window's top two values closer than this share of the image's largest activation of that
/// layer are a near tie (the two paths' activations differ by about 1e-7 of it).
const NEAR_TIE: f32 = 1e-6;

fn near_tie_images(net: &CandleNet, x: &[f32], n: usize) -> Vec<bool> {
    let t = sal_model::candle_net::net::nhwc_to_tensor(x, net.device(), net.dtype()).unwrap();
    let record = net.record_eval(&t).unwrap();
    let mut near = vec![false; n];
    for layer in record.layers.iter().filter(|l| l.pooled.is_some()) {
        let (_, c, side, _) = layer.relu.dims4().unwrap();
        let v: Vec<f32> = layer.relu.flatten_all().unwrap().to_vec1().unwrap();
        let plane = side * side;
        for (i, flag) in near.iter_mut().enumerate() {
            let image = &v[i * c * plane..(i + 1) * c * plane];
            let scale = image.iter().fold(0.0f32, |m, &a| m.max(a.abs()));
            for ch in image.chunks_exact(plane) {
                for (r, col) in (0..side / 2).flat_map(|r| (0..side / 2).map(move |c| (r, c))) {
                    let mut w = [0usize, 1, side, side + 1].map(|o| ch[2 * r * side + 2 * col + o]);
                    w.sort_by(|a, b| b.total_cmp(a));
                    if w[0] > 0.0 && w[0] - w[1] <= NEAR_TIE * scale {
                        *flag = true;
                    }
                }
            }
        }
    }
    near
}

#[test]
fn input_gradients_equal_the_fast_kernels() {
    let w = weights(21);
    let n = 12;
    let x = images(n, 22);
    let classes: Vec<usize> = (0..n).map(|i| (i * 3 + 3) % 10).collect();
    let (mut fast, mut net) = (FastNet::new(&w).unwrap(), candle(&w));
    let (mut l0, mut l1) = (vec![0.0; n * 10], vec![0.0; n * 10]);
    let (mut g0, mut g1) = (vec![0.0; n * IMAGE_VALUES], vec![0.0; n * IMAGE_VALUES]);
    fast.logits_and_input_gradients(&x, &classes, &mut l0, &mut g0)
        .unwrap();
    net.logits_and_input_gradients(&x, &classes, &mut l1, &mut g1)
        .unwrap();
    assert!(max_abs_diff(&l1, &l0) < 1e-5);
    // Where a max-pool window holds a near tie either path's choice is right; every other
    // image must agree to rounding, and most images must be checked.
    let near = near_tie_images(&net, &x, n);
    assert!(
        near.iter().filter(|&&t| !t).count() >= n / 2,
        "near ties in {near:?}"
    );
    for i in (0..n).filter(|&i| !near[i]) {
        let r = i * IMAGE_VALUES..(i + 1) * IMAGE_VALUES;
        let e = rel_l2(&g1[r.clone()], &g0[r]);
        assert!(e < 1e-4, "image {i}: gradient relative L2 error {e}");
    }
}

#[test]
fn perturbed_batches_built_on_the_device_equal_batches_built_on_the_host() {
    let w = weights(31);
    let base = images(1, 32);
    let fills = [vec![0.0f32; IMAGE_VALUES], images(1, 33)];
    let mut rng = ChaCha8Rng::seed_from_u64(34);
    let mut ordering: Vec<u16> = (0..PIXELS as u16).collect();
    for i in (1..PIXELS).rev() {
        ordering.swap(i, rng.random_range(0..=i));
    }
    let steps = 40;
    let mut ranks = vec![0u32; 3 * PIXELS];
    ordering_ranks(&ordering, steps, &mut ranks[..PIXELS]);
    single_ranks(517, &mut ranks[PIXELS..2 * PIXELS]);
    single_ranks(0, &mut ranks[2 * PIXELS..]);

    // Rows: the image, steps 1..=40 of the ordering under both fills, both single pixels.
    let mut rows = vec![PerturbedRow {
        table: 0,
        count: 0,
        fill: 1,
    }];
    let mut host = base.clone();
    for fill in 0..2u32 {
        for k in 1..=steps as u32 {
            rows.push(PerturbedRow {
                table: 0,
                count: k,
                fill,
            });
            let mut x = base.clone();
            for &p in &ordering[..k as usize] {
                let p = usize::from(p) * 3;
                x[p..p + 3].copy_from_slice(&fills[fill as usize][p..p + 3]);
            }
            host.extend_from_slice(&x);
        }
        for (table, pixel) in [(1u32, 517usize), (2, 0)] {
            rows.push(PerturbedRow {
                table,
                count: 1,
                fill,
            });
            let mut x = base.clone();
            x[pixel * 3..pixel * 3 + 3]
                .copy_from_slice(&fills[fill as usize][pixel * 3..pixel * 3 + 3]);
            host.extend_from_slice(&x);
        }
    }

    let net = candle(&w);
    let device = test_device();
    let image = PerturbedImage::new(
        &base,
        &[&fills[0], &fills[1]],
        RankTables::new(&ranks, &device).unwrap(),
        &device,
    )
    .unwrap();
    let found = net.perturbed_logits(&image, &rows).unwrap();
    // The same network on host-built rows: any difference is the batch construction.
    let mut same_net = candle(&w);
    let mut expected = vec![0.0; rows.len() * 10];
    same_net.logits(&host, &mut expected).unwrap();
    let d = max_abs_diff(&found, &expected);
    assert!(
        d < 1e-5,
        "device-built rows differ from host-built ones by {d}"
    );
    // And the fast kernels on the host-built rows.
    let mut fast = vec![0.0; rows.len() * 10];
    FastNet::new(&w).unwrap().logits(&host, &mut fast).unwrap();
    let d = max_abs_diff(&found, &fast);
    assert!(
        d < 1e-5,
        "device-built rows differ from the fast kernels by {d}"
    );

    let bad = [PerturbedRow {
        table: 3,
        count: 1,
        fill: 0,
    }];
    let err = net.perturbed_logits(&image, &bad).unwrap_err().to_string();
    assert!(err.contains("3 rank tables"), "{err}");
}
