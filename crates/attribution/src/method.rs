//! The one trait every saliency method implements, and what it is given.

use sal_config::AttributeConfig;
use sal_model::arch::{IMAGE_VALUES, PIXELS};
use sal_model::{Normalizer, Weights};

use crate::error::{check_len, Result};

/// A batch of test images to explain, in both layouts, with the class to explain for each.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// Raw pixels as stored in the dataset.
    pub pixels: &'a [u8],
    /// The same images as the model sees them: `(pixel / 255 - mean) / std`.
    pub images: &'a [f32],
    /// The class whose pre-softmax logit is explained (the predicted class).
    pub classes: &'a [usize],
}

impl<'a> Batch<'a> {
    /// A batch, checking that the three buffers describe the same number of images.
    ///
    /// # Shapes
    /// `pixels`: u8 `[n, 3, 32, 32]` (NCHW); `images`: f32 `[n, 32, 32, 3]` (normalised NHWC);
    /// `classes`: `[n]`.
    pub fn new(pixels: &'a [u8], images: &'a [f32], classes: &'a [usize]) -> Result<Self> {
        let n = classes.len();
        check_len("batch pixels", pixels.len(), n * IMAGE_VALUES, || {
            format!("[{n}, 3, 32, 32] u8")
        })?;
        check_len("batch images", images.len(), n * IMAGE_VALUES, || {
            format!("[{n}, 32, 32, 3] f32")
        })?;
        Ok(Batch {
            pixels,
            images,
            classes,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// Checks that `maps` can hold one map per image.
    ///
    /// # Shapes
    /// `maps`: f32 `[n, 32, 32]`.
    pub fn check_maps(&self, maps: &[f32]) -> Result<()> {
        let n = self.len();
        check_len("saliency maps", maps.len(), n * PIXELS, || {
            format!("[{n}, 32, 32] f32")
        })
    }
}

/// Everything a method may use when it is built.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    /// The trained model.
    pub weights: &'a Weights,
    /// The input normalisation the model was trained with.
    pub normalizer: Normalizer,
    /// The `[attribute]` section (batch size, DeepSHAP background size and seed, deep Taylor
    /// ablation).
    pub config: &'a AttributeConfig,
    /// The training split as u8 NCHW `[45000, 3, 32, 32]`; present when a configured method
    /// declares [`MethodInfo::needs_training_images`](crate::registry::MethodInfo).
    pub training_images: Option<&'a [u8]>,
}

/// A tensor a method adds to `saliency.safetensors` besides its map.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtraTensor {
    /// Tensor name (a constant of `sal_artifact::names::saliency`).
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: ExtraData,
}

/// The values of an [`ExtraTensor`].
#[derive(Debug, Clone, PartialEq)]
pub enum ExtraData {
    /// u32 values (indices).
    U32(Vec<u32>),
    /// f32 values.
    F32(Vec<f32>),
}

/// A saliency method: one relevance value per pixel for the explained logit of each image.
///
/// Implementations live one per file in [`crate::methods`] and are registered in
/// [`crate::registry::METHODS`]; adding a method is one new file and one line there.
pub trait Method: Send {
    /// The registered name, which is also the map's tensor name `saliency.<name>`.
    fn name(&self) -> &'static str;

    /// Computes one map per image of the batch.
    ///
    /// # Shapes
    /// `batch`: n images (see [`Batch`]); `maps`: f32 `[n, 32, 32]`, overwritten, pixel index
    /// p = row * 32 + col.
    fn explain(&mut self, batch: &Batch<'_>, maps: &mut [f32]) -> Result<()>;

    /// Tensors to store beside the maps (default: none).
    fn extra_tensors(&self) -> Vec<ExtraTensor> {
        Vec::new()
    }

    /// A JSON description of the method's settings, stored in the artifact metadata under
    /// `methods_detail.<name>` (default: null).
    fn describe(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}
