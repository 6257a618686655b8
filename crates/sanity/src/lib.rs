//! Sanity checks of the saliency methods and of the metrics (Adebayo et al. 2018), and the
//! `sanity` stage of `sal`.
//!
//! Model randomisation re-initialises layers of the trained network ([`randomise`]), top down
//! and cumulatively (cascading) or one at a time (independent); data randomisation trains the
//! network on permuted labels ([`random_labels`]). Every method's maps of each randomised
//! model are compared with the trained model's ([`similarity`]), with the model-free edge
//! baseline as a built-in control that must stay exactly at 1; and the metrics score the
//! randomised maps with the trained model ([`detection`]): a metric that cannot tell them
//! apart fails its own sanity check.
//!
//! Key design decision: **the stage uses sal-attribution, sal-metrics and sal-psychometrics
//! as libraries** instead of having the pipeline run the `attribute` and `metrics` stages on
//! each randomised model: a randomised model exists only inside this stage (15 models in the
//! default config, none worth an artifact), and computing its maps with the very code of the
//! `attribute` stage is what makes the comparison fair. The upstream settings (methods,
//! DeepSHAP background, metric protocol, optimiser) are read from the metadata of the
//! artifacts they produced, so the stage still sees only its own config section.

pub mod detection;
pub mod error;
pub mod inputs;
pub mod maps;
pub mod output;
pub mod random_labels;
pub mod randomise;
pub mod similarity;
pub mod stage;
pub mod summary;

pub use error::{Result, SanityError};
pub use inputs::Inputs;
pub use stage::{run, Options, Outputs};
