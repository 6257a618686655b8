//! The one matrix product every kernel uses: `gemm::gemm` (the crate candle uses) on f32
//! row-major slices, with the bounds checked before the unsafe call.

use gemm::Parallelism;

/// How a matrix operand is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Row-major as given: element (i, j) at `i * cols + j`.
    Normal,
    /// The operand is the transpose of the row-major matrix stored: element (i, j) at
    /// `j * rows + i` (the buffer holds a `[cols, rows]` row-major matrix).
    Transposed,
}

/// `c = a x b` (or `c += a x b` when `accumulate`), all f32, `c` row-major.
///
/// `parallel` runs gemm on the current rayon pool (`Parallelism::Rayon(current_num_threads)`);
/// the kernels call it single-threaded from inside their own parallel loops over row tiles,
/// which keeps each tile's im2col buffer in cache and makes every result independent of the
/// number of threads.
///
/// # Shapes
/// `a`: `[m, k]` (stored `[m, k]` for [`Layout::Normal`], `[k, m]` for [`Layout::Transposed`]);
/// `b`: `[k, n]` (stored `[k, n]` or `[n, k]`); `c`: `[m, n]`.
///
/// # Panics
/// If a buffer is shorter than its shape needs.
pub fn matmul(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    a_layout: Layout,
    b: &[f32],
    b_layout: Layout,
    c: &mut [f32],
    accumulate: bool,
    parallel: bool,
) {
    assert!(
        a.len() >= m * k,
        "matmul: a has {} values, needs {m} x {k}",
        a.len()
    );
    assert!(
        b.len() >= k * n,
        "matmul: b has {} values, needs {k} x {n}",
        b.len()
    );
    assert!(
        c.len() >= m * n,
        "matmul: c has {} values, needs {m} x {n}",
        c.len()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    // (column stride, row stride) of each operand, in elements.
    let (a_cs, a_rs) = match a_layout {
        Layout::Normal => (1, k as isize),
        Layout::Transposed => (m as isize, 1),
    };
    let (b_cs, b_rs) = match b_layout {
        Layout::Normal => (1, n as isize),
        Layout::Transposed => (k as isize, 1),
    };
    let parallelism = if parallel {
        Parallelism::Rayon(rayon::current_num_threads())
    } else {
        Parallelism::None
    };
    // SAFETY: the asserts above guarantee that every element gemm reads, (i, j) -> i * rs + j *
    // cs with i < rows and j < cols, lies inside the slice for both layouts, and that `c` holds
    // m x n values; `c` is borrowed mutably, so it cannot alias `a` or `b`. gemm computes
    // dst = alpha * dst + beta * lhs * rhs and reads dst only when `read_dst` is true.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(
        m: usize,
        n: usize,
        k: usize,
        a: impl Fn(usize, usize) -> f32,
        b: impl Fn(usize, usize) -> f32,
    ) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k)
                    .map(|p| f64::from(a(i, p)) * f64::from(b(p, j)))
                    .sum::<f64>() as f32;
            }
        }
        c
    }

    #[test]
    fn every_layout_matches_the_naive_product_and_accumulates() {
        let (m, n, k) = (7, 5, 11);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.91).cos()).collect();
        let expected = naive(m, n, k, |i, p| a[i * k + p], |p, j| b[p * n + j]);
        // Transposed copies of a and b.
        let at: Vec<f32> = (0..k * m).map(|idx| a[(idx % m) * k + idx / m]).collect();
        let bt: Vec<f32> = (0..n * k).map(|idx| b[(idx % k) * n + idx / k]).collect();
        for (aa, al) in [(&a, Layout::Normal), (&at, Layout::Transposed)] {
            for (bb, bl) in [(&b, Layout::Normal), (&bt, Layout::Transposed)] {
                for parallel in [false, true] {
                    let mut c = vec![1.0; m * n];
                    matmul(m, n, k, aa, al, bb, bl, &mut c, false, parallel);
                    for (x, y) in c.iter().zip(&expected) {
                        assert!((x - y).abs() < 1e-5, "{al:?} {bl:?}: {x} vs {y}");
                    }
                    matmul(m, n, k, aa, al, bb, bl, &mut c, true, parallel);
                    for (x, y) in c.iter().zip(&expected) {
                        assert!((x - 2.0 * y).abs() < 1e-5);
                    }
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "matmul: b has")]
    fn short_buffers_are_refused() {
        let mut c = vec![0.0; 4];
        matmul(
            2,
            2,
            2,
            &[0.0; 4],
            Layout::Normal,
            &[0.0; 3],
            Layout::Normal,
            &mut c,
            false,
            false,
        );
    }
}
