//! ROAD's noisy linear imputation (Rong et al., "A Consistent and Efficient Evaluation Strategy
//! for Attribution Methods", ICML 2022): the removed pixels are given the values that make each
//! of them the weighted mean of its 8 neighbours, solved jointly as one sparse linear system,
//! plus Gaussian noise.
//!
//! The system, as ROAD's reference code and Quantus's `noisy_linear_imputation`
//! (quantus/functions/perturb_func.py, "adapted from tleemann/road_evaluation"; read with the
//! `search` tool, not copied) set it up: for every removed pixel p, with neighbour weights
//! w = 1/6 for the 4 direct neighbours and 1/12 for the 4 diagonal ones (they sum to 1),
//!
//! ```text
//! (sum of w over p's neighbours inside the image) x_p - sum_{removed q ~ p} w_pq x_q
//!     = sum_{kept q ~ p} w_pq v_q
//! ```
//!
//! per channel (the same matrix for the three channels), where v are the image's values; then
//! `noise * N(0, 1)` is added to every imputed value (ROAD's default `noise = 0.01`, in the units
//! of the model's input: here the normalised values). At the border the missing neighbours'
//! weights are left out of the diagonal, so a removed pixel is the weighted mean of the
//! neighbours it has.
//!
//! Unlike the mean and uniform fills, the value a removed pixel takes depends on which other
//! pixels are removed: after k steps of a curve every removed pixel is imputed again from the
//! k-pixel mask, so consecutive perturbed images differ in up to k pixels, not one.
//!
//! This module is the imputation itself; it is not yet a registered [`crate::Fill`] (the
//! [`crate::Fill`] trait gives one replacement value per pixel, independent of the mask, and
//! the metrics engine's incremental forward assumes one changed pixel per step).

use rand::Rng;

use crate::error::{check_len, PerturbationError, Result};
use crate::layout::{CHANNELS, IMAGE_VALUES, PIXELS};

/// Image side (32).
const SIDE: usize = 32;
/// ROAD's noise standard deviation (`noise = 0.01` in its code and in Quantus).
pub const ROAD_NOISE: f64 = 0.01;
/// (row offset, column offset, weight) of the 8 neighbours.
const NEIGHBOURS: [(isize, isize, f64); 8] = [
    (0, 1, 1.0 / 6.0),
    (0, -1, 1.0 / 6.0),
    (1, 0, 1.0 / 6.0),
    (-1, 0, 1.0 / 6.0),
    (1, 1, 1.0 / 12.0),
    (1, -1, 1.0 / 12.0),
    (-1, 1, 1.0 / 12.0),
    (-1, -1, 1.0 / 12.0),
];
/// Relative residual at which conjugate gradients stops.
const TOLERANCE: f64 = 1e-13;

/// The neighbours of pixel `p` inside the image, with their weights.
fn neighbours(p: usize) -> impl Iterator<Item = (usize, f64)> {
    let (r, c) = ((p / SIDE) as isize, (p % SIDE) as isize);
    NEIGHBOURS.iter().filter_map(move |&(dr, dc, w)| {
        let (nr, nc) = (r + dr, c + dc);
        let inside = (0..SIDE as isize).contains(&nr) && (0..SIDE as isize).contains(&nc);
        inside.then(|| (nr as usize * SIDE + nc as usize, w))
    })
}

/// Writes into `out` the image `image` with the pixels `removed` imputed (no noise); every other
/// value of `out` is `image`'s.
///
/// # Shapes
/// `image`, `out`: f32 `[32, 32, 3]` normalised NHWC; `removed`: pixel ids (`row * 32 + col`),
/// distinct, at most 1023 (at least one pixel must stay to anchor the system).
///
/// # Errors
/// Wrong buffer lengths, a pixel id out of range or repeated, or every pixel removed.
pub fn impute(image: &[f32], removed: &[u16], out: &mut [f32]) -> Result<()> {
    check_len("image", image.len(), IMAGE_VALUES, "[32, 32, 3]")?;
    check_len("output image", out.len(), IMAGE_VALUES, "[32, 32, 3]")?;
    if removed.len() >= PIXELS {
        return Err(PerturbationError::OutOfRange {
            what: "pixels removed for imputation".to_owned(),
            value: removed.len(),
            max: PIXELS - 1,
        });
    }
    // Variable number of each removed pixel.
    let mut var = vec![usize::MAX; PIXELS];
    for (i, &p) in removed.iter().enumerate() {
        let p = usize::from(p);
        if p >= PIXELS || var[p] != usize::MAX {
            return Err(PerturbationError::OutOfRange {
                what: "removed pixel id (or a repeated one)".to_owned(),
                value: p,
                max: PIXELS - 1,
            });
        }
        var[p] = i;
    }
    out.copy_from_slice(image);
    let n = removed.len();
    if n == 0 {
        return Ok(());
    }
    // The symmetric positive definite matrix M (diagonal: the weights of the neighbours inside
    // the image; off-diagonal: -w between removed neighbours), in rows of (column, value).
    let mut diagonal = vec![0.0f64; n];
    let mut off: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    let mut rhs = vec![[0.0f64; CHANNELS]; n];
    for (i, &p) in removed.iter().enumerate() {
        for (q, w) in neighbours(usize::from(p)) {
            diagonal[i] += w;
            if var[q] == usize::MAX {
                for (ch, b) in rhs[i].iter_mut().enumerate() {
                    *b += w * f64::from(image[q * CHANNELS + ch]);
                }
            } else {
                off[i].push((var[q], -w));
            }
        }
    }
    let apply = |x: &[f64], y: &mut [f64]| {
        for i in 0..n {
            y[i] = diagonal[i] * x[i] + off[i].iter().map(|&(j, a)| a * x[j]).sum::<f64>();
        }
    };
    for ch in 0..CHANNELS {
        let b: Vec<f64> = rhs.iter().map(|r| r[ch]).collect();
        let x = conjugate_gradient(&apply, &b);
        for (i, &p) in removed.iter().enumerate() {
            out[usize::from(p) * CHANNELS + ch] = x[i] as f32;
        }
    }
    Ok(())
}

/// [`impute`], then `noise * N(0, 1)` from `rng` added to every imputed value, pixel by pixel in
/// the order of `removed`, channels in order (Box-Muller, two uniform draws per value).
///
/// # Shapes
/// As [`impute`].
pub fn impute_noisy(
    image: &[f32],
    removed: &[u16],
    noise: f64,
    rng: &mut impl Rng,
    out: &mut [f32],
) -> Result<()> {
    impute(image, removed, out)?;
    for &p in removed {
        for ch in 0..CHANNELS {
            let v = &mut out[usize::from(p) * CHANNELS + ch];
            *v = (f64::from(*v) + noise * standard_normal(rng)) as f32;
        }
    }
    Ok(())
}

/// One standard normal draw (Box-Muller, cosine branch).
fn standard_normal(rng: &mut impl Rng) -> f64 {
    // 1 - u in (0, 1], so the logarithm is finite.
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Solves `M x = b` for a symmetric positive definite M given as `apply(x, y): y = M x`, by
/// conjugate gradients from x = 0, in f64, to a relative residual of [`TOLERANCE`] (at most
/// `2 n + 10` iterations; in exact arithmetic n suffice). Deterministic: no threads.
fn conjugate_gradient(apply: &dyn Fn(&[f64], &mut [f64]), b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut x = vec![0.0; n];
    let mut r = b.to_vec();
    let mut p = r.clone();
    let mut mp = vec![0.0; n];
    let norm_b = dot(b, b).sqrt();
    if norm_b == 0.0 {
        return x;
    }
    let mut rr = dot(&r, &r);
    for _ in 0..2 * n + 10 {
        if rr.sqrt() <= TOLERANCE * norm_b {
            break;
        }
        apply(&p, &mut mp);
        let alpha = rr / dot(&p, &mp);
        for i in 0..n {
            x[i] += alpha * p[i];
            r[i] -= alpha * mp[i];
        }
        let next = dot(&r, &r);
        let beta = next / rr;
        rr = next;
        for i in 0..n {
            p[i] = r[i] + beta * p[i];
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::seeded_rng;

    /// An image whose channel 0 is `f(row, col)`, channel 1 its negative, channel 2 zero.
    fn image(f: impl Fn(usize, usize) -> f32) -> Vec<f32> {
        let mut v = vec![0.0f32; IMAGE_VALUES];
        for p in 0..PIXELS {
            let x = f(p / SIDE, p % SIDE);
            v[p * 3] = x;
            v[p * 3 + 1] = -x;
        }
        v
    }

    fn close(got: f32, want: f64) {
        assert!((f64::from(got) - want).abs() < 1e-6, "{got} != {want}");
    }

    #[test]
    fn one_interior_pixel_is_the_weighted_mean_of_its_neighbours() {
        // Pixel (5, 5): direct neighbours 1, diagonal ones 0, itself 9 (ignored):
        // 4 x 1/6 = 2/3.
        let img = image(|r, c| {
            let (dr, dc) = (r.abs_diff(5), c.abs_diff(5));
            match (dr, dc) {
                (0, 0) => 9.0,
                (0, 1) | (1, 0) => 1.0,
                _ => 0.0,
            }
        });
        let mut out = vec![0.0; IMAGE_VALUES];
        impute(&img, &[5 * 32 + 5], &mut out).unwrap();
        let p = (5 * 32 + 5) * 3;
        close(out[p], 2.0 / 3.0);
        close(out[p + 1], -2.0 / 3.0);
        close(out[p + 2], 0.0);
        // Nothing else moved.
        let mut rest = out.clone();
        rest[p..p + 3].copy_from_slice(&img[p..p + 3]);
        assert_eq!(rest, img);
    }

    #[test]
    fn a_corner_pixel_uses_the_weights_of_the_neighbours_it_has() {
        // Pixel 0: (0, 1) = 2 and (1, 0) = 4 with 1/6 each, (1, 1) = 8 with 1/12; weights sum
        // 5/12: (2/6 + 4/6 + 8/12) / (5/12) = (5/3) / (5/12) = 4.
        let img = image(|r, c| match (r, c) {
            (0, 1) => 2.0,
            (1, 0) => 4.0,
            (1, 1) => 8.0,
            _ => 100.0,
        });
        let mut out = vec![0.0; IMAGE_VALUES];
        impute(&img, &[0], &mut out).unwrap();
        close(out[0], 4.0);
    }

    #[test]
    fn two_adjacent_pixels_solve_a_two_by_two_system() {
        // p = (10, 10), q = (10, 11), removed together. Known neighbours are 0 except p's left
        // neighbour (10, 9) = 3 (weight 1/6: S_p = 0.5) and q's right neighbour (10, 12) = 1.2
        // (S_q = 0.2). x_p = S_p + x_q / 6, x_q = S_q + x_p / 6, so
        // x_p = 36/35 (S_p + S_q / 6) = 19.2 / 35, x_q = 36/35 (S_q + S_p / 6) = 10.2 / 35.
        let img = image(|r, c| match (r, c) {
            (10, 9) => 3.0,
            (10, 12) => 1.2,
            (10, 10) | (10, 11) => 50.0,
            _ => 0.0,
        });
        let mut out = vec![0.0; IMAGE_VALUES];
        impute(&img, &[10 * 32 + 11, 10 * 32 + 10], &mut out).unwrap();
        close(out[(10 * 32 + 10) * 3], 19.2 / 35.0);
        close(out[(10 * 32 + 11) * 3], 10.2 / 35.0);
    }

    #[test]
    fn a_constant_image_stays_constant_and_a_linear_ramp_stays_linear() {
        // Harmonic for this stencil: constants and linear functions (a block of 20 pixels).
        let block: Vec<u16> = (0..20)
            .map(|i| ((8 + i / 5) * 32 + 8 + i % 5) as u16)
            .collect();
        for f in [
            |_, _| 0.7f32,
            |r: usize, c: usize| 0.1 * r as f32 - 0.05 * c as f32,
        ] {
            let img = image(f);
            let mut out = vec![0.0; IMAGE_VALUES];
            impute(&img, &block, &mut out).unwrap();
            for (a, b) in out.iter().zip(&img) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn noise_is_seeded_and_has_the_asked_spread() {
        let img = image(|_, _| 0.0);
        let removed: Vec<u16> = (0..400).map(|i| (i * 2 + (i / 16) % 2) as u16).collect();
        let run = |stream| {
            let mut out = vec![0.0; IMAGE_VALUES];
            let mut rng = seeded_rng(7, crate::seed::domain(b"impute"), stream);
            impute_noisy(&img, &removed, 0.5, &mut rng, &mut out).unwrap();
            out
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        // On a zero image the imputation is 0, so the values are the noise: 1200 draws.
        let out = run(1);
        let noise: Vec<f64> = removed
            .iter()
            .flat_map(|&p| (0..3).map(move |c| usize::from(p) * 3 + c))
            .map(|i| f64::from(out[i]))
            .collect();
        let mean = noise.iter().sum::<f64>() / noise.len() as f64;
        let sd =
            (noise.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / noise.len() as f64).sqrt();
        assert!(mean.abs() < 0.05 && (sd - 0.5).abs() < 0.05, "{mean} {sd}");
    }

    #[test]
    fn bad_masks_are_errors() {
        let img = image(|_, _| 0.0);
        let mut out = vec![0.0; IMAGE_VALUES];
        assert!(impute(&img, &[3, 3], &mut out).is_err());
        assert!(impute(&img, &[1024], &mut out).is_err());
        let all: Vec<u16> = (0..1024).collect();
        assert!(impute(&img, &all, &mut out).is_err());
    }
}
