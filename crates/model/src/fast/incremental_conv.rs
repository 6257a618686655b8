//! A 3x3 conv evaluated only at chosen output positions, gathered from many passes into one
//! product.
//!
//! Why a kernel of its own: the incremental forward recomputes a few rectangles of positions
//! per pass, in dozens of passes at once; [`Conv3x3::forward`] only runs whole images. This one
//! gathers the im2col rows of the listed positions into tiles and multiplies each tile with the
//! same gemm call and the same weight matrix as the full pass, so a position gets the bits the
//! full pass would give it (the test of `incremental` checks that).

use std::cell::RefCell;

use rayon::prelude::*;

use crate::fast::at_least;
use crate::fast::conv::Conv3x3;
use crate::fast::matmul::{matmul, Layout};

/// Fewest rows of one gemm call. gemm-common 0.19 picks its k-blocking (the order in which a
/// dot product is summed) differently for `m <= 64` when `n <= 64` (gemm.rs, the small-size
/// branch), while the full pass always multiplies 256-row tiles; short tiles are therefore
/// padded to this height so every position is summed in the full pass's order.
const MIN_ROWS: usize = 128;

/// Rows a tile aims at (the full pass's tile height).
const TARGET_ROWS: usize = 256;

thread_local! {
    /// Per-thread im2col block and padded output, reused across calls.
    static SCRATCH: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// The tile boundaries for `rows` rows on `threads` threads: about [`TARGET_ROWS`] rows each,
/// their number a multiple of `threads` where there are enough rows (so no thread waits for
/// the last tile), every tile at least [`MIN_ROWS`] rows unless there is only one.
fn tile_bounds(rows: usize, threads: usize) -> Vec<usize> {
    let mut tiles = ((rows + TARGET_ROWS / 2) / TARGET_ROWS).max(1);
    if tiles >= threads && threads > 0 {
        tiles -= tiles % threads;
    }
    (0..=tiles).map(|t| t * rows / tiles).collect()
}

/// `out` row i = `epilogue(conv at position i)`, where `gather(i, dst)` writes the im2col row
/// of position i (see [`im2col_position`](crate::fast::im2col::im2col_position)). Tiles run in
/// parallel on the current rayon pool.
///
/// # Shapes
/// `out`: `[rows, cout]`; `dst` of `gather`: `[9 cin]`; `epilogue` gets `[r, cout]` rows.
pub(crate) fn conv_at<G, E>(conv: &Conv3x3, rows: usize, gather: &G, out: &mut [f32], epilogue: &E)
where
    G: Fn(usize, &mut [f32]) + Sync,
    E: Fn(&mut [f32]) + Sync,
{
    let (cin, cout) = (conv.in_channels(), conv.out_channels());
    let k = 9 * cin;
    let wmat = conv.forward_matrix();
    let out = &mut out[..rows * cout];
    if rows == 0 {
        return;
    }
    let bounds = tile_bounds(rows, rayon::current_num_threads());
    let mut tiles: Vec<(usize, &mut [f32])> = Vec::with_capacity(bounds.len() - 1);
    let mut rest = out;
    for w in bounds.windows(2) {
        let (tile, tail) = rest.split_at_mut((w[1] - w[0]) * cout);
        tiles.push((w[0], tile));
        rest = tail;
    }
    tiles.into_par_iter().for_each(|(first, o)| {
        let n = o.len() / cout;
        let m = n.max(MIN_ROWS);
        SCRATCH.with(|scratch| {
            let (col, pad) = &mut *scratch.borrow_mut();
            let col = at_least(col, m * k);
            for (r, dst) in col.chunks_exact_mut(k).take(n).enumerate() {
                gather(first + r, dst);
            }
            col[n * k..].fill(0.0);
            if n == m {
                matmul(
                    m,
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
                let pad = at_least(pad, m * cout);
                matmul(
                    m,
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
                o.copy_from_slice(&pad[..n * cout]);
            }
        });
        epilogue(o);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_rows_and_are_never_short() {
        for threads in [1, 2, 3, 8] {
            for rows in [1, 64, 127, 128, 300, 511, 640, 1000, 2688, 10_000] {
                let b = tile_bounds(rows, threads);
                assert_eq!((b[0], *b.last().unwrap()), (0, rows));
                let sizes: Vec<usize> = b.windows(2).map(|w| w[1] - w[0]).collect();
                if sizes.len() > 1 {
                    assert!(sizes.iter().all(|&s| s >= MIN_ROWS), "{rows}: {sizes:?}");
                }
                if sizes.len() >= threads {
                    assert_eq!(sizes.len() % threads, 0, "{rows} on {threads}");
                }
            }
        }
    }
}
