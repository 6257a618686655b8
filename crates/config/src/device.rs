//! The device and backend keys shared by `[train]`, `[attribute]` and `[metrics]`.

use serde::{Deserialize, Serialize};

/// Which code runs the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The fast NHWC CPU kernels on `device = "cpu"`, candle on any other device.
    #[default]
    Auto,
    /// The fast NHWC CPU kernels (CPU only).
    Fast,
    /// The candle model (the reference implementation; CPU, CUDA or Metal).
    Candle,
}

impl Backend {
    /// Whether this backend on `device` runs the fast CPU kernels (else candle).
    pub fn is_fast_on(self, device: &str) -> bool {
        match self {
            Backend::Fast => true,
            Backend::Candle => false,
            Backend::Auto => device == "cpu",
        }
    }

    /// Whether this is the default (`auto`), which stays out of the section's JSON.
    pub fn is_auto(&self) -> bool {
        *self == Backend::Auto
    }
}

/// The default device, `cpu`.
pub fn cpu() -> String {
    "cpu".to_owned()
}

/// Whether `device` is `cpu` (the default, which stays out of the section's JSON).
pub fn is_cpu(device: &String) -> bool {
    device == "cpu"
}

/// Checks the spelling of a device (`cpu`, `cuda:N`, `metal`) and that `backend` can run on
/// it; whether the device is present and built in is checked when the stage opens it.
pub fn validate(device: &str, backend: Backend) -> Result<(), String> {
    let device_ok = device == "cpu"
        || device == "metal"
        || device
            .strip_prefix("cuda:")
            .is_some_and(|n| n.parse::<usize>().is_ok());
    if !device_ok {
        return Err(format!(
            "device = {device:?}: expected \"cpu\", \"cuda:N\" or \"metal\""
        ));
    }
    if backend == Backend::Fast && device != "cpu" {
        return Err(format!(
            "backend = \"fast\" runs on the CPU only, but device = {device:?}; use backend = \"candle\" or \"auto\""
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_spelled_and_fast_is_cpu_only() {
        for ok in ["cpu", "cuda:0", "cuda:12", "metal"] {
            validate(ok, Backend::Auto).unwrap();
        }
        for bad in ["gpu", "cuda", "cuda:x", "CPU"] {
            assert!(validate(bad, Backend::Auto).unwrap_err().contains(bad));
        }
        assert!(validate("cuda:0", Backend::Fast)
            .unwrap_err()
            .contains("backend"));
        assert!(Backend::Auto.is_fast_on("cpu") && !Backend::Auto.is_fast_on("cuda:0"));
        assert!(!Backend::Candle.is_fast_on("cpu") && Backend::Fast.is_fast_on("cpu"));
    }
}
