//! `mean`: the training split's channel mean, which is 0 in every channel after normalisation.

use super::{Draw, Fill, FillInfo, ImageRef, Prepared};
use crate::error::Result;
use crate::layout::IMAGE_VALUES;

/// Registry entry.
pub const INFO: FillInfo = FillInfo {
    name: "mean",
    summary: "the training-split channel mean (0.0 in every channel after normalisation)",
    build: |_| Box::new(MeanFill),
};

/// Replaces a pixel by the training split's channel means: normalised value exactly 0.0.
#[derive(Debug, Clone, Copy)]
pub struct MeanFill;

impl Fill for MeanFill {
    fn name(&self) -> &'static str {
        INFO.name
    }

    fn stores_image(&self) -> bool {
        false
    }

    fn prepare_draw(&self, image: &ImageRef<'_>, _draw: Draw) -> Result<Prepared> {
        image.check()?;
        Ok(Prepared {
            replacement: vec![0.0; IMAGE_VALUES],
            stored: None,
        })
    }
}
