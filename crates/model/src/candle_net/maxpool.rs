//! A 2x2, stride-2 max-pool whose backward sends each window's gradient to its arg-max.
//!
//! candle 0.11.1's `max_pool2d` backward is wrong: it multiplies the upsampled gradient by the
//! window's *average* of the arg-max mask, so a unique maximum receives 1/4 of the gradient and
//! a window of four equal values passes the full gradient to all four (see
//! `tests/candle_maxpool.rs`, which shows both). Through the three pools of this network the
//! input gradient comes out 64x too small. [`max_pool_2x2`] is the replacement.
//!
//! The arg-max of a window is its **first** maximum in row-major window order (top-left,
//! top-right, bottom-left, bottom-right): a later element replaces the current maximum only if
//! it is strictly greater. Forward and backward use this same rule, so on ties exactly one
//! element (the first) receives the gradient.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor, WithDType};

/// The custom op; use it through [`max_pool_2x2`].
#[derive(Debug, Clone, Copy, Default)]
pub struct MaxPool2x2;

/// 2x2 max-pool with stride 2 and a correct backward (gradient to the first arg-max of each
/// window).
///
/// # Shapes
/// `x`: `[n, c, h, w]` with `h` and `w` even; returns `[n, c, h/2, w/2]`.
pub fn max_pool_2x2(x: &Tensor) -> candle_core::Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    if h % 2 != 0 || w % 2 != 0 {
        candle_core::bail!("max_pool_2x2 needs an even height and width, got [.., .., {h}, {w}]");
    }
    x.apply_op1(MaxPool2x2)
}

/// Forward on a CPU buffer of any layout.
///
/// # Shapes
/// `src` viewed through `layout` as `[n, c, h, w]`; returns `[n, c, h/2, w/2]` row-major.
fn forward_cpu<T: WithDType>(src: &[T], layout: &Layout) -> candle_core::Result<Vec<T>> {
    let (n, c, h, w) = layout.shape().dims4()?;
    let stride = layout.stride();
    let start = layout.start_offset();
    let (ho, wo) = (h / 2, w / 2);
    let mut dst = Vec::with_capacity(n * c * ho * wo);
    for b in 0..n {
        for ch in 0..c {
            let base = start + b * stride[0] + ch * stride[1];
            for i in 0..ho {
                for j in 0..wo {
                    let at = |di: usize, dj: usize| {
                        src[base + (2 * i + di) * stride[2] + (2 * j + dj) * stride[3]]
                    };
                    let mut best = at(0, 0);
                    for (di, dj) in [(0, 1), (1, 0), (1, 1)] {
                        let v = at(di, dj);
                        if v > best {
                            best = v;
                        }
                    }
                    dst.push(best);
                }
            }
        }
    }
    Ok(dst)
}

impl CustomOp1 for MaxPool2x2 {
    fn name(&self) -> &'static str {
        "max-pool-2x2-argmax"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, c, h, w) = layout.shape().dims4()?;
        let out_shape = Shape::from((n, c, h / 2, w / 2));
        let out = match storage {
            CpuStorage::F32(src) => CpuStorage::F32(forward_cpu(src, layout)?),
            CpuStorage::F64(src) => CpuStorage::F64(forward_cpu(src, layout)?),
            other => candle_core::bail!("max_pool_2x2: unsupported dtype {:?}", other.dtype()),
        };
        Ok((out, out_shape))
    }

    // On a GPU the forward value is candle's own max-pool kernel (its forward is right; only
    // its backward is wrong); the backward below is made of tensor ops and runs anywhere.
    fn cuda_fwd(
        &self,
        storage: &candle_core::CudaStorage,
        layout: &Layout,
    ) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        let (n, c, h, w) = layout.shape().dims4()?;
        Ok((
            storage.max_pool2d(layout, (2, 2), (2, 2))?,
            Shape::from((n, c, h / 2, w / 2)),
        ))
    }

    fn metal_fwd(
        &self,
        storage: &candle_core::MetalStorage,
        layout: &Layout,
    ) -> candle_core::Result<(candle_core::MetalStorage, Shape)> {
        let (n, c, h, w) = layout.shape().dims4()?;
        Ok((
            storage.max_pool2d(layout, (2, 2), (2, 2))?,
            Shape::from((n, c, h / 2, w / 2)),
        ))
    }

    /// d x = the output gradient placed on each window's first maximum, zero elsewhere.
    ///
    /// # Shapes
    /// `arg`: `[n, c, h, w]`; `res`, `grad_res`: `[n, c, h/2, w/2]`; returns `[n, c, h, w]`.
    fn bwd(
        &self,
        arg: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let (n, c, h, w) = arg.dims4()?;
        let (ho, wo) = (h / 2, w / 2);
        // Windows as the last axis, in row-major window order: [n, c, ho, wo, 4].
        let windows = arg
            .reshape((n, c, ho, 2, wo, 2))?
            .permute((0, 1, 2, 4, 3, 5))?
            .reshape((n, c, ho, wo, 4))?;
        let is_max = windows
            .broadcast_eq(&res.reshape((n, c, ho, wo, 1))?)?
            .to_dtype(arg.dtype())?;
        // Keep only the first maximum: mask_k = is_max_k * (1 - any(is_max_0..k-1)).
        let mut taken = is_max.narrow(4, 0, 1)?;
        let mut masks = vec![taken.clone()];
        for k in 1..4 {
            let first_here = (is_max.narrow(4, k, 1)? * (taken.ones_like()? - &taken)?)?;
            taken = (&taken + &first_here)?;
            masks.push(first_here);
        }
        let mask = Tensor::cat(&masks, 4)?;
        let grad = mask.broadcast_mul(&grad_res.reshape((n, c, ho, wo, 1))?)?;
        let grad = grad
            .reshape((n, c, ho, wo, 2, 2))?
            .permute((0, 1, 2, 4, 3, 5))?
            .reshape((n, c, h, w))?;
        Ok(Some(grad))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device, Var};

    use super::*;

    #[test]
    fn forward_takes_window_maxima_of_a_strided_view() {
        // [1, 1, 4, 4] viewed through a transpose, so the layout is not contiguous.
        let data: Vec<f32> = (0..16).map(|v| ((v * 7) % 16) as f32).collect();
        let x = Tensor::from_vec(data, (1, 1, 4, 4), &Device::Cpu)
            .unwrap()
            .transpose(2, 3)
            .unwrap();
        let ours = max_pool_2x2(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let stock = x
            .max_pool2d(2)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert_eq!(ours, stock);
    }

    #[test]
    fn ties_send_the_whole_gradient_to_the_first_maximum() {
        let x = Var::from_vec(
            vec![1.0f64, 3.0, 3.0, 3.0, 3.0, 2.0, 3.0, 0.0],
            (1, 1, 2, 4),
            &Device::Cpu,
        )
        .unwrap();
        let y = max_pool_2x2(x.as_tensor()).unwrap();
        let grads = (y * 2.0).unwrap().sum_all().unwrap().backward().unwrap();
        let g = grads
            .get(x.as_tensor())
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        // Window 0 = (1, 3 / 3, 2): first max at top-right; window 1 = (3, 3 / 3, 0): top-left.
        assert_eq!(g, vec![0.0, 2.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn odd_sizes_are_refused() {
        let x = Tensor::zeros((1, 1, 3, 4), DType::F32, &Device::Cpu).unwrap();
        assert!(max_pool_2x2(&x).unwrap_err().to_string().contains("even"));
    }
}
