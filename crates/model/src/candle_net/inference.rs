//! The candle model behind the crate's inference traits (eval mode), as a reference for the
//! fast kernels and a GPU path for attribution.

use candle_core::{Tensor, Var};

use crate::arch::IMAGE_VALUES;
use crate::candle_net::net::{nhwc_to_tensor, to_f32_vec, CandleNet};
use crate::error::{check_len, ModelError, Result};
use crate::inference::{Classifier, InputGradient};

impl Classifier for CandleNet {
    fn num_classes(&self) -> usize {
        self.arch().classes
    }

    fn logits(&mut self, images: &[f32], logits: &mut [f32]) -> Result<()> {
        let n = images.len() / IMAGE_VALUES;
        let classes = self.num_classes();
        check_len("logits", logits.len(), n * classes, || {
            format!("[{n}, {classes}]")
        })?;
        let out = self.forward_eval(&nhwc_to_tensor(images, self.device(), self.dtype())?)?;
        logits.copy_from_slice(&to_f32_vec(&out)?);
        Ok(())
    }
}

impl InputGradient for CandleNet {
    fn logits_and_input_gradients(
        &mut self,
        images: &[f32],
        classes: &[usize],
        logits: &mut [f32],
        gradients: &mut [f32],
    ) -> Result<()> {
        let (n, k) = (classes.len(), self.num_classes());
        check_len("images", images.len(), n * IMAGE_VALUES, || {
            format!("[{n}, 32, 32, 3]")
        })?;
        check_len("logits", logits.len(), n * k, || format!("[{n}, {k}]"))?;
        check_len("gradients", gradients.len(), n * IMAGE_VALUES, || {
            format!("[{n}, 32, 32, 3]")
        })?;
        if let Some(&class) = classes.iter().find(|&&c| c >= k) {
            return Err(ModelError::BadClass { class, classes: k });
        }
        let x = nhwc_to_tensor(images, self.device(), self.dtype())?;
        let (out, grad) = self.input_gradients(&x, classes)?;
        logits.copy_from_slice(&to_f32_vec(&out)?);
        gradients.copy_from_slice(&to_f32_vec(&grad.permute((0, 2, 3, 1))?)?);
        Ok(())
    }
}

impl CandleNet {
    /// Eval-mode logits and, for each image `i`, d `logits[i, classes[i]]` / d `x[i]`, in the
    /// dtype of `x` (use f64 for finite-difference checks).
    ///
    /// Eval mode treats images independently, so the gradient of the sum of the chosen logits
    /// is each image's own gradient.
    ///
    /// # Shapes
    /// `x`: `[n, 3, 32, 32]` normalised NCHW; `classes`: `[n]`; returns logits `[n, classes]`
    /// and gradients `[n, 3, 32, 32]`.
    pub fn input_gradients(&self, x: &Tensor, classes: &[usize]) -> Result<(Tensor, Tensor)> {
        let n = classes.len();
        check_len("images", x.elem_count(), n * IMAGE_VALUES, || {
            format!("[{n}, 3, 32, 32]")
        })?;
        let x = Var::from_tensor(x)?;
        let out = self.forward_eval(x.as_tensor())?;
        let idx = Tensor::from_vec(
            classes.iter().map(|&c| c as u32).collect::<Vec<_>>(),
            (n, 1),
            self.device(),
        )?;
        let store = out.gather(&idx, 1)?.sum_all()?.backward()?;
        let grad = store
            .get(x.as_tensor())
            .ok_or_else(|| {
                ModelError::Candle(candle_core::Error::Msg(
                    "no gradient reached the input".to_owned(),
                ))
            })?
            .clone();
        Ok((out.detach(), grad))
    }
}
