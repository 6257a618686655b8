//! SSIM of two maps in [0, 1], as scikit-image's `structural_similarity(a, b, data_range=1)`
//! with its defaults, which Adebayo et al. (2018) used.
//!
//! Definition (Wang et al. 2004 with the 7x7 uniform window of scikit-image, no Gaussian):
//! for every 7x7 window fully inside the image, with window means `ux`, `uy`, sample variances
//! `vx`, `vy` and sample covariance `vxy` (divided by 48 = 49 - 1),
//! `S = (2 ux uy + C1)(2 vxy + C2) / ((ux^2 + uy^2 + C1)(vx + vy + C2))`, C1 = (0.01 R)^2,
//! C2 = (0.03 R)^2, R = 1 (the data range); SSIM = the mean of S over the 26 x 26 window
//! centres. (scikit-image filters the whole image with reflected borders and then crops 3
//! pixels from each side, which leaves exactly these windows.)
//!
//! Why not `image-compare`: its SSIM takes 8-bit grey images, so a map in [0, 1] would lose
//! everything below 1/255, and it uses its own window; the values are checked instead against
//! scikit-image 0.26 (`tests/reference/`).

/// The window side.
pub const WINDOW: usize = 7;
const K1: f64 = 0.01;
const K2: f64 = 0.03;

/// SSIM of two `side x side` images with data range 1.
///
/// # Shapes
/// `a`, `b`: `[side, side]` row-major, `side >= 7`.
pub fn ssim(a: &[f64], b: &[f64], side: usize) -> f64 {
    assert!(side >= WINDOW && a.len() == side * side && b.len() == side * side);
    let (c1, c2) = (K1 * K1, K2 * K2);
    let np = (WINDOW * WINDOW) as f64;
    let cov_norm = np / (np - 1.0);
    let centres = side - WINDOW + 1;
    let mut total = 0.0;
    for r in 0..centres {
        for c in 0..centres {
            let (mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for i in r..r + WINDOW {
                for j in c..c + WINDOW {
                    let (x, y) = (a[i * side + j], b[i * side + j]);
                    sx += x;
                    sy += y;
                    sxx += x * x;
                    syy += y * y;
                    sxy += x * y;
                }
            }
            let (ux, uy) = (sx / np, sy / np);
            let vx = cov_norm * (sxx / np - ux * ux);
            let vy = cov_norm * (syy / np - uy * uy);
            let vxy = cov_norm * (sxy / np - ux * uy);
            let a1 = 2.0 * ux * uy + c1;
            let a2 = 2.0 * vxy + c2;
            let b1 = ux * ux + uy * uy + c1;
            let b2 = vx + vy + c2;
            total += (a1 * a2) / (b1 * b2);
        }
    }
    total / (centres * centres) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_images_give_exactly_one() {
        let a: Vec<f64> = (0..1024).map(|i| ((i * 37) % 101) as f64 / 100.0).collect();
        assert_eq!(ssim(&a, &a, 32), 1.0);
        let zeros = vec![0.0; 1024];
        assert_eq!(ssim(&zeros, &zeros, 32), 1.0);
    }
}
