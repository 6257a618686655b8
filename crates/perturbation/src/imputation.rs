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
//! k-pixel mask ([`write_imputed_steps`]), so consecutive perturbed images differ in up to k
//! pixels, not one, and the metrics engine runs full forward passes for them.
//!
//! The noise: the `imputation` fill ([`crate::fill::imputation`]) draws one noise image per
//! draw (per test image when paired, per curve when drawn independently, as the uniform fill's
//! colours) and adds it to the imputed pixels at every step, so a pixel's noise stays the same
//! along a curve and the curve moves only with the mask.

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

/// Writes x^(k) for every k in `steps` into consecutive rows of `out`: `image` with the pixels
/// `ordering[..k]` imputed ([`impute`]) and `noise` added to those pixels.
///
/// Each row is solved on its own (no warm start from the previous step), so a row does not
/// depend on where a batch of steps begins.
///
/// # Shapes
/// `image`, `noise`: f32 `[32, 32, 3]` normalised NHWC; `ordering`: distinct pixel ids, at
/// least `steps.end - 1` of them; `out`: `[steps.len(), 32, 32, 3]`, overwritten.
///
/// # Errors
/// Wrong buffer lengths, too short an ordering, or a pixel id out of range or repeated.
pub fn write_imputed_steps(
    image: &[f32],
    noise: &[f32],
    ordering: &[u16],
    steps: std::ops::Range<usize>,
    out: &mut [f32],
) -> Result<()> {
    check_len("noise", noise.len(), IMAGE_VALUES, "[32, 32, 3]")?;
    check_len(
        "perturbed rows",
        out.len(),
        steps.len() * IMAGE_VALUES,
        "[steps, 32, 32, 3]",
    )?;
    crate::steps::check_last_step(&steps, ordering.len())?;
    for (row, k) in out.chunks_exact_mut(IMAGE_VALUES).zip(steps) {
        let removed = &ordering[..k];
        impute(image, removed, row)?;
        add_noise(row, noise, removed.iter().map(|&p| usize::from(p)));
    }
    Ok(())
}

/// Writes, for each pixel of `pixels`, the image with that pixel alone imputed ([`impute`]) and
/// its `noise` added.
///
/// # Shapes
/// `image`, `noise`: f32 `[32, 32, 3]`; `pixels`: `[n]` pixel ids; `out`: `[n, 32, 32, 3]`,
/// overwritten.
pub fn write_imputed_single(
    image: &[f32],
    noise: &[f32],
    pixels: &[u32],
    out: &mut [f32],
) -> Result<()> {
    check_len("noise", noise.len(), IMAGE_VALUES, "[32, 32, 3]")?;
    check_len(
        "perturbed rows",
        out.len(),
        pixels.len() * IMAGE_VALUES,
        "[pixels, 32, 32, 3]",
    )?;
    for (row, &p) in out.chunks_exact_mut(IMAGE_VALUES).zip(pixels) {
        let id = u16::try_from(p).map_err(|_| PerturbationError::OutOfRange {
            what: "pixel id".to_owned(),
            value: p as usize,
            max: PIXELS - 1,
        })?;
        impute(image, &[id], row)?;
        add_noise(row, noise, [usize::from(id)]);
    }
    Ok(())
}

/// Adds `noise` to the three channels of each of `pixels` in `row`.
fn add_noise(row: &mut [f32], noise: &[f32], pixels: impl IntoIterator<Item = usize>) {
    for p in pixels {
        for ch in p * CHANNELS..(p + 1) * CHANNELS {
            row[ch] += noise[ch];
        }
    }
}

/// One standard normal draw (Box-Muller, cosine branch: two uniform draws per value).
pub(crate) fn standard_normal(rng: &mut impl Rng) -> f64 {
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
    fn each_step_is_imputed_from_its_own_mask_plus_the_noise() {
        // The two-pixel case above as steps 1 and 2 of an ordering (q first, then p): step 1
        // imputes q alone from its neighbours (p still 50: x_q = S_q + 50 / 6), step 2 solves
        // the 2 x 2 system; the noise is added to the removed pixels only.
        let img = image(|r, c| match (r, c) {
            (10, 9) => 3.0,
            (10, 12) => 1.2,
            (10, 10) | (10, 11) => 50.0,
            _ => 0.0,
        });
        let (p, q) = (10 * 32 + 10, 10 * 32 + 11);
        let noise: Vec<f32> = (0..IMAGE_VALUES).map(|i| 1e-3 * i as f32).collect();
        let ordering = [q as u16, p as u16, 0, 5];
        let mut out = vec![f32::NAN; 3 * IMAGE_VALUES];
        write_imputed_steps(&img, &noise, &ordering, 0..3, &mut out).unwrap();
        let rows: Vec<&[f32]> = out.chunks_exact(IMAGE_VALUES).collect();
        assert_eq!(rows[0], img.as_slice(), "step 0 is the image");
        close(rows[1][q * 3] - noise[q * 3], 0.2 + 50.0 / 6.0);
        assert_eq!(rows[1][p * 3], 50.0, "p is not removed at step 1");
        close(rows[2][p * 3] - noise[p * 3], 19.2 / 35.0);
        close(rows[2][q * 3] - noise[q * 3], 10.2 / 35.0);
        close(rows[2][q * 3 + 1] - noise[q * 3 + 1], -10.2 / 35.0);
        // Any run of steps gives the same rows as the steps built one by one.
        let mut later = vec![0.0; 2 * IMAGE_VALUES];
        write_imputed_steps(&img, &noise, &ordering, 2..4, &mut later).unwrap();
        assert_eq!(&later[..IMAGE_VALUES], rows[2]);
        for (i, (a, b)) in later[IMAGE_VALUES..].iter().zip(&img).enumerate() {
            let removed = [q, p, 0].contains(&(i / 3));
            assert!(removed || a == b, "value {i} moved");
        }
        assert!(write_imputed_steps(&img, &noise, &ordering, 3..6, &mut out).is_err());
    }

    #[test]
    fn single_rows_impute_one_pixel_each() {
        let img = image(|r, c| (r * 32 + c) as f32 / 100.0);
        let noise = vec![0.5f32; IMAGE_VALUES];
        let pixels = [6 * 32 + 9, 5 * 32 + 5];
        let mut out = vec![0.0; 2 * IMAGE_VALUES];
        write_imputed_single(&img, &noise, &pixels, &mut out).unwrap();
        // A linear ramp is harmonic for the stencil inside the image: the imputed value is the
        // pixel's own; the other pixel of the row is untouched.
        close(out[(6 * 32 + 9) * 3] - 0.5, (6.0 * 32.0 + 9.0) / 100.0);
        close(out[(5 * 32 + 5) * 3], (5.0 * 32.0 + 5.0) / 100.0);
        close(
            out[IMAGE_VALUES + (5 * 32 + 5) * 3] - 0.5,
            (5.0 * 32.0 + 5.0) / 100.0,
        );
        assert!(write_imputed_single(&img, &noise, &[1024], &mut out[..IMAGE_VALUES]).is_err());
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
