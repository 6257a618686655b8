//! The shared step of the gradient methods: logits and input gradients of a batch.

use sal_model::arch::IMAGE_VALUES;
use sal_model::InputGradient;

use crate::error::Result;
use crate::method::Batch;

/// A model that gives input gradients, with reused output buffers.
pub struct GradientPass {
    model: Box<dyn InputGradient + Send>,
    logits: Vec<f32>,
    gradients: Vec<f32>,
}

impl GradientPass {
    pub fn new(model: Box<dyn InputGradient + Send>) -> Self {
        GradientPass {
            model,
            logits: Vec::new(),
            gradients: Vec::new(),
        }
    }

    /// d logit[class_i] / d image_i for every image of the batch (one forward and one backward
    /// pass of the whole batch).
    ///
    /// # Shapes
    /// returns f32 `[n, 32, 32, 3]` (NHWC, like `batch.images`).
    pub fn run(&mut self, batch: &Batch<'_>) -> Result<&[f32]> {
        let n = batch.len();
        self.logits.resize(n * self.model.num_classes(), 0.0);
        self.gradients.resize(n * IMAGE_VALUES, 0.0);
        self.model.logits_and_input_gradients(
            batch.images,
            batch.classes,
            &mut self.logits,
            &mut self.gradients,
        )?;
        Ok(&self.gradients)
    }
}
