//! One file per saliency method. Each exposes `INFO` (its registration) and its type.

pub mod deep_shap;
pub mod deep_taylor;
pub mod edge;
pub mod gradient_x_input;
pub mod sensitivity;
