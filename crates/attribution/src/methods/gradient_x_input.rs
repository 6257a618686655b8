//! `gradient_x_input`: sum over the three channels of (d logit / d x) * x, with x the
//! normalised input (Shrikumar et al. 2016).

use sal_model::arch::{IMAGE_VALUES, IN_CHANNELS, PIXELS};

use crate::error::Result;
use crate::gradient::GradientPass;
use crate::method::{Batch, Method, Setup};
use crate::network;
use crate::registry::MethodInfo;

/// Registration.
pub const INFO: MethodInfo = MethodInfo {
    name: "gradient_x_input",
    summary: "sum over channels of (d logit / d x) * x, x the normalised input",
    needs_training_images: false,
    build,
};

fn build(setup: &Setup<'_>) -> Result<Box<dyn Method>> {
    Ok(Box::new(GradientXInput {
        pass: GradientPass::new(network::gradient_model(setup.weights, setup.config)?),
    }))
}

/// The gradient x input map.
pub struct GradientXInput {
    pass: GradientPass,
}

impl Method for GradientXInput {
    fn name(&self) -> &'static str {
        INFO.name
    }

    fn explain(&mut self, batch: &Batch<'_>, maps: &mut [f32]) -> Result<()> {
        batch.check_maps(maps)?;
        let gradients = self.pass.run(batch)?;
        let images = batch.images.chunks_exact(IMAGE_VALUES);
        for ((g, x), map) in gradients
            .chunks_exact(IMAGE_VALUES)
            .zip(images)
            .zip(maps.chunks_exact_mut(PIXELS))
        {
            for (p, m) in map.iter_mut().enumerate() {
                let range = p * IN_CHANNELS..(p + 1) * IN_CHANNELS;
                *m = g[range.clone()]
                    .iter()
                    .zip(&x[range])
                    .map(|(g, x)| g * x)
                    .sum();
            }
        }
        Ok(())
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({"reduce": "sum over channels of gradient * input", "input": "normalised image"})
    }
}
