//! DeepSHAP of the predicted class's softmax **probability** instead of its pre-softmax logit.
//!
//! `cargo run --release -p sal-attribution --example deep_shap_probability -- --data DIR
//! --train DIR --attribute DIR --out FILE [--images N]`
//!
//! sal's `deep_shap` explains the logit z_c of the predicted class c. shap's `DeepExplainer`
//! given a Keras model whose last layer is a softmax explains p_c = softmax(z)_c instead, the
//! softmax being one more nonlinearity with its own DeepLIFT multipliers. For the pair (x, b_k)
//! these are the path integrals along the straight line in logit space
//!
//! `w^k_j = int_0^1 p_c(z(t)) (delta_cj - p_j(z(t))) dt`, `z(t) = z(b_k) + t (z(x) - z(b_k))`,
//!
//! (composite two-point Gauss-Legendre rule, 512 panels, f64), so that
//! `sum_j w^k_j (z_j(x) - z_j(b_k)) = p_c(x) - p_c(b_k)`. DeepSHAP's backward is linear in its seed at the logits, so the probability map is
//!
//! `phi_prob(x) = mean_k sum_j w^k_j phi_k^(j)(x)`,
//!
//! where `phi_k^(j)` is the K = 1 DeepSHAP map of logit j against background image b_k (one
//! public `DeepShap` per background image, one `explain` per class). It sums to
//! `p_c(x) - mean_k p_c(b_k)`. The program checks (1) that `mean_k phi_k^(c)` reproduces the
//! artifact's `deep_shap` maps, (2) that summation law, (3) the integral's own summation error,
//! prints the share of negative values and the mean per-image Spearman correlation of the logit
//! and probability maps, and writes the probability maps as raw little-endian f32 `[N, 32, 32]`
//! (pixel index row * 32 + col, the artifact's image order).
//!
//! (sal-attribution has no `anyhow` among its dependencies, so errors are boxed.)

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;
use sal_artifact::names::{dataset as dn, saliency as sn};
use sal_artifact::{Artifact, Kind};
use sal_attribution::methods::deep_shap::DeepShap;
use sal_attribution::{Batch, Method};
use sal_model::arch::{IMAGE_VALUES, PIXELS};
use sal_model::fast::tune_allocator;
use sal_model::{Classifier, FastNet, Normalizer, Weights};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Panels of the composite two-point Gauss-Legendre rule for the softmax multipliers' integral
/// (1024 evaluations of the softmax per pair).
const PANELS: usize = 512;
/// Test images per `explain` call (bounds the recording's memory).
const CHUNK: usize = 50;

/// `--data`, `--train`, `--attribute`, `--out` and the optional `--images` of the command line.
fn parse_args() -> Result<([PathBuf; 4], Option<usize>)> {
    let mut given = std::collections::HashMap::new();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        given.insert(
            flag.clone(),
            args.next().ok_or(format!("{flag} needs a value"))?,
        );
    }
    let images = given.remove("--images").map(|v| v.parse()).transpose()?;
    let mut path = |name: &str| {
        given
            .remove(name)
            .map(PathBuf::from)
            .ok_or(format!("{name} is required"))
    };
    let paths = [
        path("--data")?,
        path("--train")?,
        path("--attribute")?,
        path("--out")?,
    ];
    match given.keys().next() {
        Some(other) => Err(format!("unknown argument {other:?}").into()),
        None => Ok((paths, images)),
    }
}

/// Softmax in f64 (max-subtracted). `z`: `[classes]`; returns `[classes]`.
fn softmax(z: &[f64]) -> Vec<f64> {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|z| (z - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|e| e / sum).collect()
}

/// The softmax multipliers `w_j` of `p_c` for the pair (x, b), from their logits.
///
/// # Shapes
/// `zx`, `zb`: `[classes]`; returns `[classes]`.
fn softmax_multipliers(zx: &[f64], zb: &[f64], c: usize) -> Vec<f64> {
    let classes = zx.len();
    let (mut z, mut w) = (vec![0.0; classes], vec![0.0; classes]);
    let offset = 0.5 / 3f64.sqrt(); // Gauss-Legendre nodes at the panel's centre -+ h / (2 sqrt 3)
    for node in 0..2 * PANELS {
        let side = if node % 2 == 0 { -offset } else { offset };
        let t = ((node / 2) as f64 + 0.5 + side) / PANELS as f64;
        for j in 0..classes {
            z[j] = zb[j] + t * (zx[j] - zb[j]);
        }
        let p = softmax(&z);
        for j in 0..classes {
            w[j] += p[c] * (f64::from(u8::from(j == c)) - p[j]);
        }
    }
    w.iter_mut().for_each(|w| *w /= (2 * PANELS) as f64);
    w
}

/// Ranks (1-based, ties averaged).
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut e = i + 1;
        while e < order.len() && v[order[e]] == v[order[i]] {
            e += 1;
        }
        let mean_rank = (i + e + 1) as f64 / 2.0; // mean of i+1 ..= e
        order[i..e].iter().for_each(|&o| r[o] = mean_rank);
        i = e;
    }
    r
}

/// Spearman rank correlation (Pearson correlation of the ranks).
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

fn main() -> Result<()> {
    tune_allocator();
    let ([data, train_dir, attribute, out], images_arg) = parse_args()?;
    let started = Instant::now();

    let saliency = Artifact::open(&attribute.join(Kind::Saliency.file_name()), Kind::Saliency)?;
    let (shape, index) = saliency.read_dims::<u32>(sn::IMAGE_INDEX, &[None])?;
    let n = images_arg.map_or(shape[0], |m| m.min(shape[0]));
    let predicted: Vec<u8> = saliency.read(sn::PREDICTED, &[shape[0]])?;
    let stored_logit: Vec<f32> = saliency.read(sn::LOGIT, &[shape[0]])?;
    let stored_maps: Vec<f32> = saliency.read(&sn::map("deep_shap"), &[shape[0], 32, 32])?;
    let (_, background) = saliency.read_dims::<u32>(sn::DEEP_SHAP_BACKGROUND_INDEX, &[None])?;
    let k = background.len();

    let dataset = Artifact::open(&data.join(Kind::Dataset.file_name()), Kind::Dataset)?;
    let dims = [None, Some(3), Some(32), Some(32)];
    let (_, test) = dataset.read_dims::<u8>(dn::TEST_IMAGES, &dims)?;
    let (_, train) = dataset.read_dims::<u8>(dn::TRAIN_IMAGES, &dims)?;
    let mean: Vec<f32> = dataset.read_finite(dn::CHANNEL_MEAN, &[3])?;
    let std: Vec<f32> = dataset.read_finite(dn::CHANNEL_STD, &[3])?;
    let normalizer = Normalizer::new([mean[0], mean[1], mean[2]], [std[0], std[1], std[2]]);
    let image_of = |all: &[u8], i: u32| all[i as usize * IMAGE_VALUES..][..IMAGE_VALUES].to_vec();
    let pixels: Vec<u8> = index[..n]
        .iter()
        .flat_map(|&i| image_of(&test, i))
        .collect();
    let mut images = vec![0.0f32; pixels.len()];
    normalizer.nchw_u8_to_nhwc(&pixels, &mut images)?;
    let (weights, _) = Weights::load(&train_dir.join(Kind::Model.file_name()))?;
    let classes = weights.arch.classes;

    // z(x) from the eval network's logits (the same FastNet the method records through).
    let mut logits = vec![0.0f32; n * classes];
    FastNet::new(&weights)?.logits(&images, &mut logits)?;
    let zx: Vec<Vec<f64>> = logits
        .chunks(classes)
        .map(|r| r.iter().map(|&v| f64::from(v)).collect())
        .collect();
    let c: Vec<usize> = predicted[..n].iter().map(|&p| usize::from(p)).collect();
    let px: Vec<f64> = (0..n).map(|i| softmax(&zx[i])[c[i]]).collect();
    let logit_gap = (0..n)
        .map(|i| (zx[i][c[i]] - f64::from(stored_logit[i])).abs())
        .fold(0.0, f64::max);
    let argmax_ok = (0..n).all(|i| (0..classes).all(|j| zx[i][j] <= zx[i][c[i]]));
    eprintln!("N = {n} images, K = {k} background images, {classes} classes; z(x): max |z_c - stored logit| = {logit_gap:.3e}, predicted == argmax: {argmax_ok}");

    let (mut logit_map, mut prob_map) = (vec![0.0f64; n * PIXELS], vec![0.0f64; n * PIXELS]);
    let mut pb_mean = vec![0.0f64; n]; // mean_k p_c(b_k) per image
    let (mut worst_rel, mut worst_abs) = (0.0f64, 0.0f64);
    let mut maps = vec![0.0f32; CHUNK * PIXELS];
    for (kk, &b) in background.iter().enumerate() {
        let mut shap = DeepShap::new(&weights, &normalizer, &image_of(&train, b), vec![b], 0)?;
        let zb: Vec<f64> = (0..classes).map(|j| shap.expected_logit(j)).collect();
        let pb = softmax(&zb);
        let w: Vec<Vec<f64>> = (0..n)
            .into_par_iter()
            .map(|i| softmax_multipliers(&zx[i], &zb, c[i]))
            .collect();
        for i in 0..n {
            let dz: f64 = (0..classes).map(|j| w[i][j] * (zx[i][j] - zb[j])).sum();
            let dp = px[i] - pb[c[i]];
            worst_abs = worst_abs.max((dz - dp).abs());
            worst_rel = worst_rel.max((dz - dp).abs() / dp.abs());
            pb_mean[i] += pb[c[i]] / k as f64;
        }
        for start in (0..n).step_by(CHUNK) {
            let end = (start + CHUNK).min(n);
            for j in 0..classes {
                let class = vec![j; end - start];
                let batch = Batch::new(
                    &pixels[start * IMAGE_VALUES..end * IMAGE_VALUES],
                    &images[start * IMAGE_VALUES..end * IMAGE_VALUES],
                    &class,
                )?;
                let out = &mut maps[..(end - start) * PIXELS];
                shap.explain(&batch, out)?;
                for (i, m) in (start..end).zip(out.chunks(PIXELS)) {
                    let (lm, pm) = (
                        &mut logit_map[i * PIXELS..][..PIXELS],
                        &mut prob_map[i * PIXELS..][..PIXELS],
                    );
                    for p in 0..PIXELS {
                        pm[p] += w[i][j] * f64::from(m[p]) / k as f64;
                        if j == c[i] {
                            lm[p] += f64::from(m[p]) / k as f64;
                        }
                    }
                }
            }
        }
        let s = started.elapsed().as_secs_f64();
        eprintln!(
            "background {}/{k} (train #{b}): {s:.0} s elapsed, ~{:.0} s left",
            kk + 1,
            s / (kk + 1) as f64 * (k - kk - 1) as f64
        );
    }

    // (1) logit maps recombined against the artifact's deep_shap maps.
    let (mut max_diff, mut diff2, mut ref2) = (0.0f64, 0.0f64, 0.0f64);
    for (a, &s) in logit_map.iter().zip(&stored_maps[..n * PIXELS]) {
        let d = a - f64::from(s);
        (max_diff, diff2, ref2) = (
            max_diff.max(d.abs()),
            diff2 + d * d,
            ref2 + f64::from(s).powi(2),
        );
    }
    println!("(1) mean_k phi_k^(c) vs artifact deep_shap: max |diff| = {max_diff:.3e}, relative L2 = {:.3e}", (diff2 / ref2).sqrt());
    // (2) summation to delta of the probability maps.
    let (mut worst_sum, mut mean_delta) = (0.0f64, 0.0f64);
    for i in 0..n {
        let delta = px[i] - pb_mean[i];
        let total: f64 = prob_map[i * PIXELS..][..PIXELS].iter().sum();
        worst_sum = worst_sum.max((total - delta).abs());
        mean_delta += delta.abs() / n as f64;
    }
    println!("(2) sum phi_prob vs p_c(x) - mean_k p_c(b_k): worst |error| = {worst_sum:.3e} (mean |delta| = {mean_delta:.4})");
    println!("(3) softmax multipliers, composite 2-point Gauss-Legendre, {PANELS} panels: worst relative summation error = {worst_rel:.3e}, worst absolute = {worst_abs:.3e}");
    let negative = |v: &[f64]| v.iter().filter(|&&x| x < 0.0).count() as f64 / v.len() as f64;
    println!(
        "share of negative values: logit maps {:.4}, probability maps {:.4}",
        negative(&logit_map),
        negative(&prob_map)
    );
    let rho: Vec<f64> = (logit_map
        .par_chunks(PIXELS)
        .zip(prob_map.par_chunks(PIXELS)))
    .map(|(a, b)| spearman(a, b))
    .collect();
    let (rho_min, rho_mean) = (
        rho.iter().copied().fold(f64::INFINITY, f64::min),
        rho.iter().sum::<f64>() / n as f64,
    );
    println!(
        "Spearman(logit map, probability map) per image: mean {rho_mean:.4}, min {rho_min:.4}"
    );

    let bytes: Vec<u8> = prob_map
        .iter()
        .flat_map(|&v| (v as f32).to_le_bytes())
        .collect();
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, bytes)?;
    println!(
        "wrote {} ([{n}, 32, 32] f32 LE) in {:.1} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
