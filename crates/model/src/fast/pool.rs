//! 2x2 max-pool (stride 2) on NHWC activations, with arg-max indices and the backward that
//! routes each output gradient to exactly the element the forward picked.
//!
//! The window of output (y, x) is, in row-major order, window index 0 = input (2y, 2x),
//! 1 = (2y, 2x + 1), 2 = (2y + 1, 2x), 3 = (2y + 1, 2x + 1). Ties go to the first maximum in
//! that order (as PyTorch's CPU kernel), and the backward sends the whole gradient to it: a
//! unique maximum gets all of it, tied maxima do not share it. (candle 0.11.1's max-pool
//! backward gets both wrong; see PERFORMANCE.md.)

use rayon::prelude::*;

use crate::error::{check_len, Result};

/// Checks the buffers of a pool with input side `side` and `c` channels; returns the batch size.
fn check(
    what: &str,
    input_len: usize,
    side: usize,
    c: usize,
    out_len: usize,
    argmax_len: usize,
) -> Result<usize> {
    let per_image = side * side * c;
    let n = input_len / per_image.max(1);
    check_len(what, input_len, n * per_image, || {
        format!("[n, {side}, {side}, {c}]")
    })?;
    let half = side / 2;
    check_len("pooled values", out_len, n * half * half * c, || {
        format!("[{n}, {half}, {half}, {c}]")
    })?;
    check_len(
        "pool arg-max indices",
        argmax_len,
        n * half * half * c,
        || format!("[{n}, {half}, {half}, {c}]"),
    )?;
    Ok(n)
}

/// `out = maxpool(map(channel, input))` with the window index of each maximum in `argmax`;
/// `map` is applied to every input value first (it lets training fuse BatchNorm and ReLU into
/// the pool without writing the activations). Parallel over images.
///
/// # Shapes
/// `input`: `[n, side, side, c]`; `out`, `argmax`: `[n, side/2, side/2, c]`.
pub(crate) fn max_pool_map<F>(
    input: &[f32],
    side: usize,
    c: usize,
    out: &mut [f32],
    argmax: &mut [u8],
    map: &F,
) where
    F: Fn(usize, f32) -> f32 + Sync,
{
    let half = side / 2;
    let in_image = side * side * c;
    let out_image = half * half * c;
    if in_image == 0 || out_image == 0 {
        return;
    }
    input
        .par_chunks(in_image)
        .zip(out.par_chunks_mut(out_image))
        .zip(argmax.par_chunks_mut(out_image))
        .for_each(|((src, dst), arg)| {
            for y in 0..half {
                for x in 0..half {
                    let o = (y * half + x) * c;
                    let i0 = ((2 * y) * side + 2 * x) * c;
                    let i2 = i0 + side * c;
                    let window = [i0, i0 + c, i2, i2 + c];
                    for ch in 0..c {
                        let mut best = map(ch, src[window[0] + ch]);
                        let mut which = 0u8;
                        for (w, &start) in window.iter().enumerate().skip(1) {
                            let v = map(ch, src[start + ch]);
                            if v > best {
                                best = v;
                                which = w as u8;
                            }
                        }
                        dst[o + ch] = best;
                        arg[o + ch] = which;
                    }
                }
            }
        });
}

/// 2x2 max-pool with arg-max indices (window index 0..4, first maximum on ties).
///
/// # Shapes
/// `input`: `[n, side, side, c]` NHWC, side even; `out`, `argmax`: `[n, side/2, side/2, c]`,
/// overwritten.
pub fn max_pool2x2(
    input: &[f32],
    side: usize,
    c: usize,
    out: &mut [f32],
    argmax: &mut [u8],
) -> Result<()> {
    check("pool input", input.len(), side, c, out.len(), argmax.len())?;
    max_pool_map(input, side, c, out, argmax, &|_, v| v);
    Ok(())
}

/// Backward of [`max_pool2x2`]: each output gradient goes to the one input element its
/// window's arg-max names; every other input gradient is 0.
///
/// # Shapes
/// `grad_out`, `argmax`: `[n, side/2, side/2, c]`; `grad_in`: `[n, side, side, c]`, overwritten.
pub fn max_pool2x2_backward(
    grad_out: &[f32],
    argmax: &[u8],
    side: usize,
    c: usize,
    grad_in: &mut [f32],
) -> Result<()> {
    check(
        "pool input gradient",
        grad_in.len(),
        side,
        c,
        grad_out.len(),
        argmax.len(),
    )?;
    unpool_map(grad_out, argmax, side, c, grad_in, &|_, _, g| g);
    Ok(())
}

/// Backward of the pool with a hook: the input gradient at the arg-max element is
/// `map(input_index, channel, grad_out)` (e.g. times the ReLU derivative there); every other
/// input gradient is 0. Parallel over images.
///
/// # Shapes
/// as [`max_pool2x2_backward`]; `input_index` counts values of `grad_in`.
pub(crate) fn unpool_map<F>(
    grad_out: &[f32],
    argmax: &[u8],
    side: usize,
    c: usize,
    grad_in: &mut [f32],
    map: &F,
) where
    F: Fn(usize, usize, f32) -> f32 + Sync,
{
    let half = side / 2;
    let in_image = side * side * c;
    let out_image = half * half * c;
    if in_image == 0 || out_image == 0 {
        return;
    }
    grad_in
        .par_chunks_mut(in_image)
        .zip(grad_out.par_chunks(out_image))
        .zip(argmax.par_chunks(out_image))
        .enumerate()
        .for_each(|(img, ((dst, g), arg))| {
            dst.fill(0.0);
            for y in 0..half {
                for x in 0..half {
                    let o = (y * half + x) * c;
                    let i0 = ((2 * y) * side + 2 * x) * c;
                    for ch in 0..c {
                        let a = usize::from(arg[o + ch]);
                        let i = i0 + (a >> 1) * side * c + (a & 1) * c + ch;
                        dst[i] = map(img * in_image + i, ch, g[o + ch]);
                    }
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unique_maximum_gets_the_whole_gradient() {
        // One image, 4x4, 1 channel; window maxima at distinct window positions.
        #[rustfmt::skip]
        let input = [
            1.0, 5.0,   0.0, 0.0,
            2.0, 3.0,   0.0, 9.0,
            -1.0, -2.0, 4.0, 4.5,
            -3.0, -0.5, 7.0, 6.0,
        ];
        let (mut out, mut arg) = ([0.0; 4], [0u8; 4]);
        max_pool2x2(&input, 4, 1, &mut out, &mut arg).unwrap();
        assert_eq!(out, [5.0, 9.0, -0.5, 7.0]);
        assert_eq!(arg, [1, 3, 3, 2]);
        let mut grad = [f32::NAN; 16];
        max_pool2x2_backward(&[1.0, 2.0, 3.0, 4.0], &arg, 4, 1, &mut grad).unwrap();
        #[rustfmt::skip]
        let expected = [
            0.0, 1.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 2.0,
            0.0, 0.0, 0.0, 0.0,
            0.0, 3.0, 4.0, 0.0,
        ];
        assert_eq!(grad, expected);
    }

    #[test]
    fn ties_go_to_exactly_one_element_the_first_in_row_major_order() {
        // Two channels: channel 0 all equal, channel 1 tied at window positions 1 and 3.
        let mut input = [0.0f32; 2 * 2 * 2];
        for p in 0..4 {
            input[p * 2] = 2.0;
            input[p * 2 + 1] = if p == 1 || p == 3 { 8.0 } else { 1.0 };
        }
        let (mut out, mut arg) = ([0.0; 2], [0u8; 2]);
        max_pool2x2(&input, 2, 2, &mut out, &mut arg).unwrap();
        assert_eq!(out, [2.0, 8.0]);
        assert_eq!(arg, [0, 1]);
        let mut grad = [0.0; 8];
        max_pool2x2_backward(&[1.0, 1.0], &arg, 2, 2, &mut grad).unwrap();
        assert_eq!(grad, [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(
            grad.iter().sum::<f32>(),
            2.0,
            "the gradient is routed, not shared or copied"
        );
    }

    #[test]
    fn images_and_channels_do_not_mix_and_bad_lengths_are_refused() {
        let (n, side, c) = (3, 4, 3);
        let input: Vec<f32> = (0..n * side * side * c)
            .map(|i| ((i * 37) % 23) as f32)
            .collect();
        let mut out = vec![0.0; n * 4 * c];
        let mut arg = vec![0u8; n * 4 * c];
        max_pool2x2(&input, side, c, &mut out, &mut arg).unwrap();
        for img in 0..n {
            for y in 0..2 {
                for x in 0..2 {
                    for ch in 0..c {
                        let at =
                            |yy: usize, xx: usize| input[((img * side + yy) * side + xx) * c + ch];
                        let m = at(2 * y, 2 * x)
                            .max(at(2 * y, 2 * x + 1))
                            .max(at(2 * y + 1, 2 * x))
                            .max(at(2 * y + 1, 2 * x + 1));
                        assert_eq!(out[((img * 2 + y) * 2 + x) * c + ch], m);
                    }
                }
            }
        }
        assert!(max_pool2x2(&input[1..], side, c, &mut out, &mut arg).is_err());
        assert!(max_pool2x2(&input, side, c, &mut out[1..], &mut arg).is_err());
    }
}
