//! `sensitivity`: max over the three channels of |d logit / d x| (Simonyan et al. 2013).

use sal_model::arch::{IMAGE_VALUES, IN_CHANNELS, PIXELS};

use crate::error::Result;
use crate::gradient::GradientPass;
use crate::method::{Batch, Method, Setup};
use crate::network;
use crate::registry::MethodInfo;

/// Registration.
pub const INFO: MethodInfo = MethodInfo {
    name: "sensitivity",
    summary: "max over channels of |d logit / d x| (gradient magnitude)",
    needs_training_images: false,
    build,
};

fn build(setup: &Setup<'_>) -> Result<Box<dyn Method>> {
    Ok(Box::new(Sensitivity {
        pass: GradientPass::new(network::gradient_model(setup.weights, setup.config)?),
    }))
}

/// The sensitivity map.
pub struct Sensitivity {
    pass: GradientPass,
}

impl Method for Sensitivity {
    fn name(&self) -> &'static str {
        INFO.name
    }

    fn explain(&mut self, batch: &Batch<'_>, maps: &mut [f32]) -> Result<()> {
        batch.check_maps(maps)?;
        let gradients = self.pass.run(batch)?;
        for (g, map) in gradients
            .chunks_exact(IMAGE_VALUES)
            .zip(maps.chunks_exact_mut(PIXELS))
        {
            for (p, m) in map.iter_mut().enumerate() {
                let px = &g[p * IN_CHANNELS..(p + 1) * IN_CHANNELS];
                *m = px.iter().fold(0.0f32, |acc, v| acc.max(v.abs()));
            }
        }
        Ok(())
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({"reduce": "max over channels of |gradient|", "input": "normalised image"})
    }
}
