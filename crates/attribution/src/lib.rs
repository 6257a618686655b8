//! Saliency methods and the `attribute` stage of `sal`.
//!
//! Five methods explain the pre-softmax logit of the class the model predicts for each test
//! image, one relevance value per pixel (`[N, 32, 32]`): `sensitivity`, `gradient_x_input`,
//! `deep_taylor`, `deep_shap` and the model-free `edge` baseline. Their exact definitions, and
//! where they follow iNNvestigate 1.0.x and shap, are in each method's module documentation.
//!
//! Key design decision: **one trait, [`Method`], and a registry of plain data,
//! [`registry::METHODS`]**. A method is one file in [`methods`] plus one line of registration;
//! the stage knows nothing about any particular method (a method adds its own extra tensors,
//! such as DeepSHAP's background indices, through [`Method::extra_tensors`]). The propagation
//! methods are written layer by layer on sal-model's fast NHWC kernels, never on a generic
//! autograd (see [`network`]); their candle path (any device) is in [`candle`].

pub mod candle;
pub mod error;
pub mod gradient;
pub mod method;
pub mod methods;
pub mod network;
pub mod registry;
pub mod select;
pub mod stage;

pub use error::{AttributionError, Result};
pub use method::{Batch, ExtraData, ExtraTensor, Method, Setup};
pub use registry::{MethodInfo, METHODS};
pub use stage::{run, run_with, MethodTiming, Options, Outputs};
