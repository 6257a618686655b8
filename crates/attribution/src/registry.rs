//! The registered methods, looked up by name.
//!
//! To add a method: write `src/methods/<name>.rs` with a `pub const INFO: MethodInfo` and a type
//! implementing [`Method`], then add one line to [`METHODS`].

use crate::error::{AttributionError, Result};
use crate::method::{Method, Setup};
use crate::methods;

/// What the registry knows about a method.
#[derive(Debug, Clone, Copy)]
pub struct MethodInfo {
    /// The name used in configs and in the tensor name `saliency.<name>`.
    pub name: &'static str,
    /// One line for `--help` texts and logs.
    pub summary: &'static str,
    /// Whether [`Setup::training_images`] must be present (DeepSHAP's background pool).
    pub needs_training_images: bool,
    /// Builds the method.
    pub build: fn(&Setup<'_>) -> Result<Box<dyn Method>>,
}

/// Every method, in the order the paper lists them.
pub const METHODS: &[MethodInfo] = &[
    methods::sensitivity::INFO,
    methods::gradient_x_input::INFO,
    methods::deep_taylor::INFO,
    methods::deep_shap::INFO,
    methods::edge::INFO,
];

/// The names of all registered methods.
pub fn known_names() -> Vec<&'static str> {
    METHODS.iter().map(|m| m.name).collect()
}

/// The method of this name, or an error listing the known ones.
pub fn find(name: &str) -> Result<&'static MethodInfo> {
    METHODS
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| AttributionError::UnknownMethod {
            name: name.to_owned(),
            known: known_names().join(", "),
        })
}

/// Checks every configured name before any work starts.
pub fn check_names(names: &[String]) -> Result<Vec<&'static MethodInfo>> {
    names.iter().map(|n| find(n)).collect()
}

/// Builds the method of this name.
pub fn build(name: &str, setup: &Setup<'_>) -> Result<Box<dyn Method>> {
    (find(name)?.build)(setup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_list_the_known_ones() {
        let err = find("smoothgrad").unwrap_err().to_string();
        for known in [
            "sensitivity",
            "gradient_x_input",
            "deep_taylor",
            "deep_shap",
            "edge",
            "smoothgrad",
        ] {
            assert!(err.contains(known), "{err}");
        }
        assert!(check_names(&["edge".to_owned(), "gradcam".to_owned()]).is_err());
    }

    #[test]
    fn names_are_unique_and_match_the_default_config() {
        let names = known_names();
        for (i, n) in names.iter().enumerate() {
            assert!(!names[..i].contains(n), "{n} registered twice");
        }
        let defaults = sal_config::AttributeConfig::default().methods;
        assert_eq!(check_names(&defaults).unwrap().len(), defaults.len());
    }
}
