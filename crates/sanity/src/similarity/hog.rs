//! Histograms of oriented gradients, as scikit-image's `feature.hog(image)` with its defaults
//! (9 orientations, 8 x 8 pixels per cell, 3 x 3 cells per block, L2-Hys block norm), which
//! Adebayo et al. (2018) compared with Pearson's r.
//!
//! Definition: gradients by central differences (`g_row[r] = x[r+1] - x[r-1]`, 0 on the first
//! and last row; likewise for columns); magnitude `hypot(g_row, g_col)`; orientation
//! `degrees(atan2(g_row, g_col)) mod 180`; each cell's histogram bin `i` is the sum of the
//! magnitudes of its pixels with orientation in `[20 i, 20 (i + 1))`, divided by the cell's
//! 64 pixels; each block of 3 x 3 cells (every position, stride one cell) is normalised by
//! L2-Hys: `v / sqrt(|v|^2 + eps^2)`, clipped at 0.2, normalised again, eps = 1e-5. The feature
//! vector is the blocks in row-major order, each (cell row, cell col, orientation).
//!
//! Why not `imageproc::hog`: it takes 8-bit grey images (losing everything below 1/255 of a
//! map in [0, 1]) and interpolates between orientation bins, unlike scikit-image. The values
//! are checked against scikit-image 0.26 (`tests/reference/`).

const ORIENTATIONS: usize = 9;
const CELL: usize = 8;
const BLOCK: usize = 3;
const EPS: f64 = 1e-5;

/// The number of HOG features of a `side x side` image.
pub fn len(side: usize) -> usize {
    let blocks = (side / CELL + 1).saturating_sub(BLOCK);
    blocks * blocks * BLOCK * BLOCK * ORIENTATIONS
}

/// The HOG feature vector of a `side x side` image.
///
/// # Shapes
/// `image`: `[side, side]` row-major, `side >= 24`; returns `[len(side)]`.
pub fn hog(image: &[f64], side: usize) -> Vec<f64> {
    assert!(side >= CELL * BLOCK && image.len() == side * side);
    let at = |r: usize, c: usize| image[r * side + c];
    let cells = side / CELL;
    let mut hist = vec![0.0f64; cells * cells * ORIENTATIONS];
    let per_bin = 180.0 / ORIENTATIONS as f64;
    for r in 0..cells * CELL {
        for c in 0..cells * CELL {
            let g_row = if r == 0 || r == side - 1 {
                0.0
            } else {
                at(r + 1, c) - at(r - 1, c)
            };
            let g_col = if c == 0 || c == side - 1 {
                0.0
            } else {
                at(r, c + 1) - at(r, c - 1)
            };
            let magnitude = g_row.hypot(g_col);
            let orientation = g_row.atan2(g_col).to_degrees().rem_euclid(180.0);
            let bin = ((orientation / per_bin) as usize).min(ORIENTATIONS - 1);
            hist[((r / CELL) * cells + c / CELL) * ORIENTATIONS + bin] += magnitude;
        }
    }
    hist.iter_mut().for_each(|v| *v /= (CELL * CELL) as f64);
    let blocks = cells + 1 - BLOCK;
    let mut out = Vec::with_capacity(len(side));
    for br in 0..blocks {
        for bc in 0..blocks {
            let mut block = Vec::with_capacity(BLOCK * BLOCK * ORIENTATIONS);
            for r in br..br + BLOCK {
                for c in bc..bc + BLOCK {
                    let cell = (r * cells + c) * ORIENTATIONS;
                    block.extend_from_slice(&hist[cell..cell + ORIENTATIONS]);
                }
            }
            let norm = (block.iter().map(|v| v * v).sum::<f64>() + EPS * EPS).sqrt();
            block.iter_mut().for_each(|v| *v = (*v / norm).min(0.2));
            let norm = (block.iter().map(|v| v * v).sum::<f64>() + EPS * EPS).sqrt();
            out.extend(block.iter().map(|v| v / norm));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_32_pixel_image_has_324_features_and_a_flat_one_none() {
        assert_eq!(len(32), 2 * 2 * 3 * 3 * 9);
        assert_eq!(hog(&vec![0.5; 1024], 32), vec![0.0; 324]);
    }

    #[test]
    fn a_vertical_edge_votes_into_the_horizontal_gradient_bin() {
        let image: Vec<f64> = (0..1024)
            .map(|p| if p % 32 < 16 { 0.0 } else { 1.0 })
            .collect();
        let f = hog(&image, 32);
        // Gradient along columns only: orientation 0 degrees, bin 0.
        assert!(f.iter().enumerate().all(|(i, &v)| i % 9 == 0 || v == 0.0));
        assert!(f.iter().any(|&v| v > 0.0));
    }
}
