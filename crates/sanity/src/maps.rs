//! The saliency maps of one model for the stage's images, through sal-attribution's methods.

use indicatif::ProgressBar;
use sal_attribution::stage::check_finite;
use sal_attribution::{registry, Batch, Setup};
use sal_config::AttributeConfig;
use sal_model::arch::{IMAGE_VALUES, PIXELS};
use sal_model::{Normalizer, Weights};

use crate::error::Result;

/// The images every model explains, and what is fixed for all of them.
#[derive(Debug)]
pub struct Images {
    /// `[N]` test-set indices, ascending.
    pub index: Vec<u32>,
    /// `[N]` true labels.
    pub labels: Vec<u8>,
    /// u8 `[N, 3, 32, 32]`.
    pub pixels: Vec<u8>,
    /// f32 `[N, 32, 32, 3]`, normalised.
    pub images: Vec<f32>,
    /// `[N]`: the class every model's map explains (the trained model's prediction).
    pub classes: Vec<usize>,
    /// The dataset's normalisation.
    pub normalizer: Normalizer,
}

impl Images {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// Computes every method's maps of `weights` for `images`, in `config.methods` order.
///
/// Each map explains the logit of `images.classes` (the trained model's class), so only the
/// model changes between steps. `bar` advances by one per image and method.
///
/// # Shapes
/// Returns one f32 `[N, 32, 32]` per method.
pub fn compute(
    weights: &Weights,
    images: &Images,
    config: &AttributeConfig,
    training_images: Option<&[u8]>,
    bar: &ProgressBar,
) -> Result<Vec<Vec<f32>>> {
    let setup = Setup {
        weights,
        normalizer: images.normalizer,
        config,
        training_images,
    };
    let n = images.len();
    let batch_size = config.batch_size;
    let mut out = Vec::with_capacity(config.methods.len());
    for name in &config.methods {
        let mut method = registry::build(name, &setup)?;
        let mut maps = vec![0.0f32; n * PIXELS];
        for start in (0..n).step_by(batch_size) {
            let end = (start + batch_size).min(n);
            let batch = Batch::new(
                &images.pixels[start * IMAGE_VALUES..end * IMAGE_VALUES],
                &images.images[start * IMAGE_VALUES..end * IMAGE_VALUES],
                &images.classes[start..end],
            )?;
            let slot = &mut maps[start * PIXELS..end * PIXELS];
            method.explain(&batch, slot)?;
            check_finite(name, &images.index[start..end], slot)?;
            bar.inc((end - start) as u64);
        }
        out.push(maps);
    }
    Ok(out)
}
