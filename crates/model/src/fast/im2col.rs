//! im2col for 3x3 convolutions with padding 1 on NHWC activations, one tile of rows at a time.
//!
//! Row r of the column matrix is output position r (image-major, then row, then column, as
//! NHWC orders them); its 9 * c values are the 3x3 neighbourhood in (ky, kx, channel) order,
//! zeros outside the image. A conv is then `col [rows, 9c] x weights [9c, out]`, written
//! straight into the NHWC output.

/// Fills `col` with the column-matrix rows `first_row .. first_row + rows` of `input`; rows of
/// `col` past `rows` (up to `col.len() / (9 c)`) are zeroed, so a tile can always be multiplied
/// at its full height.
///
/// # Shapes
/// `input`: `[n, side, side, c]` NHWC; `col`: `[tile, 9 c]` with `tile >= rows`;
/// rows are indexed over the whole batch, `first_row + rows <= n * side * side`.
pub fn im2col_rows(
    input: &[f32],
    side: usize,
    c: usize,
    first_row: usize,
    rows: usize,
    col: &mut [f32],
) {
    let k = 9 * c;
    let plane = side * side;
    debug_assert!(col.len() >= rows * k && col.len() % k == 0);
    debug_assert!((first_row + rows) * c <= input.len());
    for (r, dst) in col.chunks_exact_mut(k).take(rows).enumerate() {
        let g = first_row + r;
        let (img, p) = (g / plane, g % plane);
        let image = &input[img * plane * c..(img + 1) * plane * c];
        im2col_position(image, side, c, p / side, p % side, dst);
    }
    col[rows * k..].fill(0.0);
}

/// Writes the column-matrix row of output position `(y, x)` of one image: its 3x3
/// neighbourhood in (ky, kx, channel) order, zeros outside the image.
///
/// # Shapes
/// `image`: `[side, side, c]` NHWC; `dst`: `[9 c]`.
#[inline]
pub(crate) fn im2col_position(
    image: &[f32],
    side: usize,
    c: usize,
    y: usize,
    x: usize,
    dst: &mut [f32],
) {
    for ky in 0..3 {
        let row_dst = &mut dst[ky * 3 * c..(ky + 1) * 3 * c];
        let yy = y + ky;
        if yy == 0 || yy > side {
            row_dst.fill(0.0);
            continue;
        }
        let src_row = (yy - 1) * side;
        if x >= 1 && x + 1 < side {
            // The three neighbours are adjacent in NHWC: one copy of 3c values.
            let start = (src_row + x - 1) * c;
            row_dst.copy_from_slice(&image[start..start + 3 * c]);
        } else {
            for kx in 0..3 {
                let d = &mut row_dst[kx * c..(kx + 1) * c];
                let xx = x + kx;
                if xx == 0 || xx > side {
                    d.fill(0.0);
                } else {
                    let start = (src_row + xx - 1) * c;
                    d.copy_from_slice(&image[start..start + c]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_hold_the_padded_neighbourhood_in_ky_kx_channel_order() {
        let (n, side, c) = (2, 3, 2);
        // value = 1000 * img + 100 * row + 10 * col + channel + 1 (never 0).
        let input: Vec<f32> = (0..n * side * side * c)
            .map(|i| {
                let (img, rest) = (i / (side * side * c), i % (side * side * c));
                let (p, ch) = (rest / c, rest % c);
                (1000 * img + 100 * (p / side) + 10 * (p % side) + ch + 1) as f32
            })
            .collect();
        let rows = n * side * side;
        let mut col = vec![f32::NAN; (rows + 2) * 9 * c];
        im2col_rows(&input, side, c, 0, rows, &mut col);
        for g in 0..rows {
            let (img, p) = (g / 9, g % 9);
            let (y, x) = ((p / side) as isize, (p % side) as isize);
            for ky in 0..3isize {
                for kx in 0..3isize {
                    for ch in 0..c {
                        let (yy, xx) = (y + ky - 1, x + kx - 1);
                        let expected = if (0..3).contains(&yy) && (0..3).contains(&xx) {
                            (1000 * img as isize + 100 * yy + 10 * xx + ch as isize + 1) as f32
                        } else {
                            0.0
                        };
                        assert_eq!(col[g * 9 * c + ((ky * 3 + kx) as usize) * c + ch], expected);
                    }
                }
            }
        }
        assert!(
            col[rows * 9 * c..].iter().all(|&v| v == 0.0),
            "padding rows are zeroed"
        );
        // A tile in the middle of the batch gives the same rows.
        let mut tile = vec![0.0; 4 * 9 * c];
        im2col_rows(&input, side, c, 7, 4, &mut tile);
        assert_eq!(&tile[..], &col[7 * 9 * c..11 * 9 * c]);
    }
}
