//! 3x3 convolutions (stride 1, padding 1, no bias) on NHWC activations: forward, backward to
//! the input, and the weight gradient, each as im2col of a tile of rows + one gemm per tile.
//!
//! Every kernel splits the output rows (positions, image-major) into tiles of [`TILE_ROWS`]
//! rows and runs the tiles in parallel on the current rayon pool; each tile builds its im2col
//! block in a per-thread buffer that stays in cache and multiplies it single-threaded. The tile
//! height is fixed (a short last tile is padded), so every row goes through exactly the same
//! arithmetic whatever the batch, the position of the image in it, or the number of threads:
//! results are bitwise reproducible and batch-independent.

use std::cell::RefCell;

use rayon::prelude::*;

use crate::error::{ModelError, Result};
use crate::fast::at_least;
use crate::fast::im2col::im2col_rows;
use crate::fast::matmul::{matmul, Layout};

/// Output rows (positions) per tile.
pub const TILE_ROWS: usize = 256;

/// Rows of a weight-gradient part: the weight gradient sums over all rows in parts of this many
/// rows (in parallel), then adds the parts in order, so the result does not depend on threads.
const PART_TILES: usize = 8;

thread_local! {
    /// Per-thread im2col block and padded-output buffer, reused across calls.
    static SCRATCH: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// A 3x3 conv layer with padding 1 at a fixed spatial size, its weights kept in the two
/// layouts its kernels multiply with.
///
/// Built from PyTorch/candle OIHW weights, optionally scaled per output channel (that is how
/// BatchNorm folds into the conv for inference: `w * scale[o]`). Attribution rules that need
/// other weights (deep Taylor's `w+`, `w-`) build another `Conv3x3` from the transformed OIHW
/// weights.
#[derive(Debug, Clone)]
pub struct Conv3x3 {
    side: usize,
    cin: usize,
    cout: usize,
    /// `[9 cin, cout]`, row (ky * 3 + kx) * cin + ci.
    forward: Vec<f32>,
    /// `[9 cout, cin]`, row (ky * 3 + kx) * cout + co, holding w[co, ci, 2 - ky, 2 - kx]: the
    /// backward to the input is a forward conv with these weights.
    backward: Vec<f32>,
}

impl Conv3x3 {
    /// A conv on `side x side` images from OIHW weights.
    ///
    /// # Shapes
    /// `weights`: `[cout, cin, 3, 3]`.
    pub fn from_oihw(side: usize, cout: usize, cin: usize, weights: &[f32]) -> Result<Self> {
        Self::build(side, cout, cin, weights, None)
    }

    /// A conv whose output channel `o` is scaled by `scale[o]` (BatchNorm folded in).
    ///
    /// # Shapes
    /// `weights`: `[cout, cin, 3, 3]`; `scale`: `[cout]`.
    pub fn from_oihw_scaled(
        side: usize,
        cout: usize,
        cin: usize,
        weights: &[f32],
        scale: &[f32],
    ) -> Result<Self> {
        crate::error::check_len("conv scale", scale.len(), cout, || format!("[{cout}]"))?;
        Self::build(side, cout, cin, weights, Some(scale))
    }

    fn build(
        side: usize,
        cout: usize,
        cin: usize,
        weights: &[f32],
        scale: Option<&[f32]>,
    ) -> Result<Self> {
        crate::error::check_len("conv weights", weights.len(), cout * cin * 9, || {
            format!("[{cout}, {cin}, 3, 3]")
        })?;
        if side == 0 || cout == 0 || cin == 0 {
            return Err(ModelError::BadLength {
                what: "conv shape".to_owned(),
                expected: 1,
                found: 0,
                shape: format!("side {side}, {cout} x {cin}"),
            });
        }
        let mut forward = vec![0.0; 9 * cin * cout];
        let mut backward = vec![0.0; 9 * cin * cout];
        for co in 0..cout {
            let s = scale.map_or(1.0, |s| s[co]);
            for ci in 0..cin {
                for t in 0..9 {
                    let w = weights[(co * cin + ci) * 9 + t] * s;
                    forward[(t * cin + ci) * cout + co] = w;
                    backward[((8 - t) * cout + co) * cin + ci] = w;
                }
            }
        }
        Ok(Conv3x3 {
            side,
            cin,
            cout,
            forward,
            backward,
        })
    }

    /// Spatial side of the input and output.
    pub fn side(&self) -> usize {
        self.side
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.cin
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.cout
    }

    /// The forward weight matrix the kernels multiply im2col rows by.
    ///
    /// # Shapes
    /// `[9 cin, cout]`, row (ky * 3 + kx) * cin + ci.
    pub(crate) fn forward_matrix(&self) -> &[f32] {
        &self.forward
    }

    /// The weights back in OIHW layout (scale included).
    ///
    /// # Shapes
    /// returns `[cout, cin, 3, 3]`.
    pub fn oihw(&self) -> Vec<f32> {
        let mut w = vec![0.0; self.forward.len()];
        for co in 0..self.cout {
            for ci in 0..self.cin {
                for t in 0..9 {
                    w[(co * self.cin + ci) * 9 + t] =
                        self.forward[(t * self.cin + ci) * self.cout + co];
                }
            }
        }
        w
    }

    /// Number of images in an NHWC buffer of `len` values with `channels` channels.
    fn batch(&self, what: &str, len: usize, channels: usize) -> Result<usize> {
        let per_image = self.side * self.side * channels;
        let n = len / per_image;
        crate::error::check_len(what, len, n * per_image, || {
            format!("[n, {}, {}, {channels}]", self.side, self.side)
        })?;
        Ok(n)
    }

    /// Checks an (input, output) pair of buffers and returns the batch size.
    fn check_pair(&self, input: &[f32], cin: usize, out: &[f32], cout: usize) -> Result<usize> {
        let n = self.batch("conv input", input.len(), cin)?;
        let plane = self.side * self.side;
        crate::error::check_len("conv output", out.len(), n * plane * cout, || {
            format!("[{n}, {}, {}, {cout}]", self.side, self.side)
        })?;
        Ok(n)
    }

    /// `out = conv(input)`.
    ///
    /// # Shapes
    /// `input`: `[n, side, side, cin]` NHWC; `out`: `[n, side, side, cout]`, overwritten.
    pub fn forward(&self, input: &[f32], out: &mut [f32]) -> Result<()> {
        self.check_pair(input, self.cin, out, self.cout)?;
        run_tiles(
            self.side,
            self.cin,
            self.cout,
            &self.forward,
            input,
            out,
            &mut [],
            0,
            &|_, _, _| {},
        );
        Ok(())
    }

    /// The input gradient of a conv: `grad_in = conv^T(grad_out)`, i.e. the gradient of
    /// `sum(conv(x) * grad_out)` with respect to x (computed as a conv with the flipped,
    /// transposed weights).
    ///
    /// # Shapes
    /// `grad_out`: `[n, side, side, cout]`; `grad_in`: `[n, side, side, cin]`, overwritten.
    pub fn backward_input(&self, grad_out: &[f32], grad_in: &mut [f32]) -> Result<()> {
        self.check_pair(grad_out, self.cout, grad_in, self.cin)?;
        run_tiles(
            self.side,
            self.cout,
            self.cin,
            &self.backward,
            grad_out,
            grad_in,
            &mut [],
            0,
            &|_, _, _| {},
        );
        Ok(())
    }

    /// [`Conv3x3::forward`] followed by `epilogue(first_row, rows, acc)` on each finished tile
    /// while it is in cache; `acc` is the tile's own `acc_per_tile` values of `acc`.
    ///
    /// # Shapes
    /// `input`: `[n, side, side, cin]`; `out`: `[n, side, side, cout]`;
    /// `acc`: `[ceil(n side^2 / TILE_ROWS), acc_per_tile]`.
    pub(crate) fn forward_with<E>(
        &self,
        input: &[f32],
        out: &mut [f32],
        acc: &mut [f64],
        acc_per_tile: usize,
        epilogue: &E,
    ) -> Result<()>
    where
        E: Fn(usize, &mut [f32], &mut [f64]) + Sync,
    {
        self.check_pair(input, self.cin, out, self.cout)?;
        run_tiles(
            self.side,
            self.cin,
            self.cout,
            &self.forward,
            input,
            out,
            acc,
            acc_per_tile,
            epilogue,
        );
        Ok(())
    }

    /// [`Conv3x3::backward_input`] followed by an epilogue on each tile of `grad_in`.
    ///
    /// # Shapes
    /// as [`Conv3x3::backward_input`].
    pub(crate) fn backward_input_with<E>(
        &self,
        grad_out: &[f32],
        grad_in: &mut [f32],
        epilogue: &E,
    ) -> Result<()>
    where
        E: Fn(usize, &mut [f32], &mut [f64]) + Sync,
    {
        self.check_pair(grad_out, self.cout, grad_in, self.cin)?;
        run_tiles(
            self.side,
            self.cout,
            self.cin,
            &self.backward,
            grad_out,
            grad_in,
            &mut [],
            0,
            epilogue,
        );
        Ok(())
    }
}

/// Number of row tiles of a conv output with `rows` positions.
pub(crate) fn tiles(rows: usize) -> usize {
    rows.div_ceil(TILE_ROWS)
}

/// The tiled conv driver: `out = im2col(input) x wmat`, then `epilogue` per tile.
///
/// # Shapes
/// `input`: `[rows, cin]` (NHWC positions); `wmat`: `[9 cin, cout]`; `out`: `[rows, cout]`;
/// `acc`: `[tiles(rows), acc_per_tile]` (empty when `acc_per_tile` is 0).
fn run_tiles<E>(
    side: usize,
    cin: usize,
    cout: usize,
    wmat: &[f32],
    input: &[f32],
    out: &mut [f32],
    acc: &mut [f64],
    acc_per_tile: usize,
    epilogue: &E,
) where
    E: Fn(usize, &mut [f32], &mut [f64]) + Sync,
{
    let k = 9 * cin;
    let tile_values = TILE_ROWS * cout;
    let body = |t: usize, o: &mut [f32], a: &mut [f64]| {
        let rows = o.len() / cout;
        let first = t * TILE_ROWS;
        SCRATCH.with(|scratch| {
            let (col, pad) = &mut *scratch.borrow_mut();
            let col = at_least(col, TILE_ROWS * k);
            im2col_rows(input, side, cin, first, rows, col);
            if rows == TILE_ROWS {
                matmul(
                    TILE_ROWS,
                    cout,
                    k,
                    col,
                    Layout::Normal,
                    wmat,
                    Layout::Normal,
                    o,
                    false,
                    false,
                );
            } else {
                let pad = at_least(pad, tile_values);
                matmul(
                    TILE_ROWS,
                    cout,
                    k,
                    col,
                    Layout::Normal,
                    wmat,
                    Layout::Normal,
                    pad,
                    false,
                    false,
                );
                o.copy_from_slice(&pad[..rows * cout]);
            }
        });
        epilogue(first, o, a);
    };
    if acc_per_tile == 0 {
        out.par_chunks_mut(tile_values)
            .enumerate()
            .for_each(|(t, o)| body(t, o, &mut []));
    } else {
        debug_assert_eq!(acc.len(), tiles(out.len() / cout) * acc_per_tile);
        out.par_chunks_mut(tile_values)
            .zip(acc.par_chunks_mut(acc_per_tile))
            .enumerate()
            .for_each(|(t, (o, a))| body(t, o, a));
    }
}

/// The gradient of `sum(conv_w(input) * grad_out)` with respect to the weights w:
/// `im2col(input)^T x grad_out`, summed over rows in fixed parts (in parallel) and then over
/// the parts in order, so the result is the same for any number of threads.
///
/// `parts` is a workspace, grown as needed.
///
/// # Shapes
/// `input`: `[n, side, side, cin]`; `grad_out`: `[n, side, side, cout]`;
/// `grad_weights`: `[cout, cin, 3, 3]` (OIHW), overwritten.
pub fn conv3x3_weight_gradient(
    side: usize,
    cin: usize,
    cout: usize,
    input: &[f32],
    grad_out: &[f32],
    grad_weights: &mut [f32],
    parts: &mut Vec<f32>,
) -> Result<()> {
    let plane = side * side;
    let n = input.len() / (plane * cin).max(1);
    crate::error::check_len("conv input", input.len(), n * plane * cin, || {
        format!("[n, {side}, {side}, {cin}]")
    })?;
    crate::error::check_len(
        "conv output gradient",
        grad_out.len(),
        n * plane * cout,
        || format!("[{n}, {side}, {side}, {cout}]"),
    )?;
    crate::error::check_len(
        "conv weight gradient",
        grad_weights.len(),
        cout * cin * 9,
        || format!("[{cout}, {cin}, 3, 3]"),
    )?;
    let k = 9 * cin;
    let rows = n * plane;
    let part_rows = PART_TILES * TILE_ROWS;
    let n_parts = rows.div_ceil(part_rows);
    let mat = k * cout;
    let parts = at_least(parts, n_parts.max(1) * mat);
    parts.par_chunks_mut(mat).enumerate().for_each(|(p, acc)| {
        let first_part_row = p * part_rows;
        let end = rows.min(first_part_row + part_rows);
        SCRATCH.with(|scratch| {
            let (col, _) = &mut *scratch.borrow_mut();
            let col = at_least(col, TILE_ROWS * k);
            let mut first = first_part_row;
            let mut accumulate = false;
            while first < end {
                let len = TILE_ROWS.min(end - first);
                im2col_rows(input, side, cin, first, len, col);
                let g = &grad_out[first * cout..(first + len) * cout];
                // acc [k, cout] (+)= col^T [k, len] x g [len, cout].
                matmul(
                    k,
                    cout,
                    len,
                    col,
                    Layout::Transposed,
                    g,
                    Layout::Normal,
                    acc,
                    accumulate,
                    false,
                );
                accumulate = true;
                first += len;
            }
            if !accumulate {
                acc.fill(0.0);
            }
        });
    });
    let (total, rest) = parts.split_at_mut(mat);
    for part in rest.chunks_exact(mat) {
        for (t, v) in total.iter_mut().zip(part) {
            *t += v;
        }
    }
    for co in 0..cout {
        for ci in 0..cin {
            for t in 0..9 {
                grad_weights[(co * cin + ci) * 9 + t] = total[(t * cin + ci) * cout + co];
            }
        }
    }
    Ok(())
}
