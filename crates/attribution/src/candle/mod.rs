//! The candle path of the propagation methods (`[attribute] device` other than `cpu`, or
//! `backend = "candle"`): the same rules as the fast-kernel methods in [`crate::methods`],
//! written as candle tensor ops (no autograd) so that they run on any device. Each is tested
//! against its fast-kernel twin on candle's CPU (`tests/candle_path.rs`).

pub mod deep_shap;
pub mod deep_taylor;
