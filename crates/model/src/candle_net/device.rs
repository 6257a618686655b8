//! The candle device named in the config: `cpu`, `cuda:N` or `metal`, never a silent fallback.

use candle_core::{DType, Device};

use crate::candle_net::net::CandleNet;
use crate::error::{ModelError, Result};
use crate::weights::Weights;

/// The device called `name` (`cpu`, `cuda:N`, `metal`).
///
/// A device whose crate feature (`cuda`, `metal`) this build lacks, or that the machine does
/// not have, is an error naming the device; there is no fallback to the CPU (unlike candle's
/// `Device::cuda_if_available`).
pub fn device_from_name(name: &str) -> Result<Device> {
    let unavailable = |reason: String| ModelError::Device {
        device: name.to_owned(),
        reason,
    };
    if name == "cpu" {
        return Ok(Device::Cpu);
    }
    if let Some(ordinal) = name.strip_prefix("cuda:") {
        let ordinal: usize = ordinal
            .parse()
            .map_err(|_| unavailable("expected `cuda:N` with N a GPU number".to_owned()))?;
        if !cfg!(feature = "cuda") {
            return Err(unavailable(
                "this build has no CUDA support (rebuild with `--features cuda`)".to_owned(),
            ));
        }
        return Device::new_cuda(ordinal).map_err(|e| unavailable(e.to_string()));
    }
    if name == "metal" {
        if !cfg!(feature = "metal") {
            return Err(unavailable(
                "this build has no Metal support (rebuild with `--features metal`)".to_owned(),
            ));
        }
        return Device::new_metal(0).map_err(|e| unavailable(e.to_string()));
    }
    Err(unavailable(
        "expected `cpu`, `cuda:N` or `metal`".to_owned(),
    ))
}

/// The eval network of `weights` in f32 on the device called `device` (the candle path of the
/// `attribute` and `metrics` stages).
pub fn eval_net(weights: &Weights, device: &str) -> Result<CandleNet> {
    eval_net_on(weights, &device_from_name(device)?)
}

/// The eval network of `weights` in f32 on `device` (from [`device_from_name`], for callers
/// that check the device before reading the weights).
pub fn eval_net_on(weights: &Weights, device: &Device) -> Result<CandleNet> {
    CandleNet::from_weights(weights, device, DType::F32)
}

/// The environment variable naming the device the candle-path tests run on (default `cpu`),
/// so that the same test executables check a GPU against the fast CPU kernels
/// (`SAL_TEST_DEVICE=cuda:0`, see `scripts/gpu-check.sh`).
pub const TEST_DEVICE_ENV: &str = "SAL_TEST_DEVICE";

/// The name in [`TEST_DEVICE_ENV`], or `cpu` when it is unset or empty.
pub fn test_device_name() -> String {
    std::env::var(TEST_DEVICE_ENV)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "cpu".to_owned())
}

/// The device of [`test_device_name`].
///
/// # Panics
/// When the variable names a device that is not available (a test helper: the test fails
/// naming the device).
pub fn test_device() -> Device {
    let name = test_device_name();
    device_from_name(&name).unwrap_or_else(|e| panic!("{TEST_DEVICE_ENV}={name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_the_cpu_and_unknown_names_are_errors() {
        assert!(device_from_name("cpu").unwrap().is_cpu());
        let err = device_from_name("tpu").unwrap_err().to_string();
        assert!(err.contains("\"tpu\""), "{err}");
        assert!(device_from_name("cuda:x")
            .unwrap_err()
            .to_string()
            .contains("cuda:x"));
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_is_an_error_not_the_cpu() {
        let err = device_from_name("cuda:0").unwrap_err().to_string();
        assert!(
            err.contains("cuda:0") && err.contains("--features cuda"),
            "{err}"
        );
    }

    #[cfg(not(feature = "metal"))]
    #[test]
    fn metal_without_the_feature_is_an_error_not_the_cpu() {
        let err = device_from_name("metal").unwrap_err().to_string();
        assert!(
            err.contains("metal") && err.contains("--features metal"),
            "{err}"
        );
    }
}
