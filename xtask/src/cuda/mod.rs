//! `cargo xtask cuda-check`: compile the CUDA build on a machine without a GPU.
//!
//! It installs a CUDA 13.0 compiler from the Python package registry into a cache folder
//! ([`toolkit`]), then runs `cargo build --release -p sal-cli --features cuda` and builds the
//! release test executable of the candle-path tests ([`DEVICE_TESTS`]) with that
//! `nvcc` first on the `PATH`, `CUDA_COMPUTE_CAP` set, and the link folder on `LIBRARY_PATH`.
//! Nothing runs on a GPU; `--bundle DIR` strips the executables into `DIR` for carrying to one
//! (see `scripts/gpu-check.sh`).

pub mod build;
pub mod toolkit;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};

use crate::flags;
use crate::project::Project;
pub use build::Executable;
pub use toolkit::Toolkit;

/// The compute capability built for when neither `--compute-cap` nor `CUDA_COMPUTE_CAP` says
/// (90 = Hopper: H100, H200; 80 = A100).
pub const DEFAULT_COMPUTE_CAP: &str = "90";

/// The test target holding every candle-path test (one executable to carry to a GPU machine:
/// each CUDA executable embeds all of candle's kernels).
pub const DEVICE_TESTS: (&str, &str) = ("sal-cli", "device_path");

/// Runs the command.
pub fn run(project: &Project, flags: &flags::CudaCheck) -> anyhow::Result<()> {
    let started = Instant::now();
    let cache = match &flags.cache {
        Some(dir) => std::path::absolute(dir)?,
        None => default_cache()?,
    };
    let compute_cap = match &flags.compute_cap {
        Some(cap) => cap.clone(),
        None => std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| DEFAULT_COMPUTE_CAP.into()),
    };
    if compute_cap.is_empty() || !compute_cap.chars().all(|c| c.is_ascii_alphanumeric()) {
        bail!("compute capability {compute_cap:?}: expected digits such as 90 or 80");
    }
    let target_dir = match &flags.target_dir {
        Some(dir) => std::path::absolute(dir)?,
        None => default_target_dir(&project.root),
    };
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());

    let toolkit = Toolkit::install(&cache, &python)?;
    let installed = started.elapsed().as_secs_f64();
    eprintln!("xtask: {}", toolkit.nvcc_version()?);
    let driver_sys = build::cudarc_driver_sys(&project.root)?;
    let stand_ins = toolkit.prepare_link_dir(&driver_sys, &cc)?;
    eprintln!(
        "xtask: link folder {} (stand-in libcuda.so with {stand_ins} driver functions from {})",
        toolkit.link_dir().display(),
        driver_sys.display()
    );

    let env = build_env(&toolkit, &compute_cap)?;
    let build_start = Instant::now();
    let sal = build::sal_binary(&project.root, &target_dir, &env)?;
    let sal_seconds = build_start.elapsed().as_secs_f64();
    let needed = build::needed_libraries(&sal.path)?;
    if !needed.iter().any(|l| l.starts_with("libcuda.so")) {
        bail!(
            "{} does not load libcuda (its needed libraries: {}): is the cuda feature on?",
            sal.path.display(),
            needed.join(", ")
        );
    }
    let mut executables = vec![sal];
    let tests_start = Instant::now();
    if !flags.no_tests {
        executables.extend(build::test_executables(
            &project.root,
            &target_dir,
            &env,
            DEVICE_TESTS,
        )?);
    }
    let tests_seconds = tests_start.elapsed().as_secs_f64();

    println!(
        "cuda-check: compute capability {compute_cap}, target folder {}",
        target_dir.display()
    );
    println!("cuda-check: `sal` needs {}", needed.join(", "));
    for exe in &executables {
        println!(
            "cuda-check: {:>7.1} MB  {}",
            file_mb(&exe.path)?,
            exe.path.display()
        );
    }
    if let Some(bundle) = &flags.bundle {
        let total = build::bundle(&executables, bundle)?;
        println!(
            "cuda-check: stripped into {}: {:.1} MiB in all",
            bundle.display(),
            total as f64 / (1024.0 * 1024.0)
        );
    }
    println!(
        "cuda-check: ok in {:.0} s (toolkit {installed:.0} s, sal {sal_seconds:.0} s, tests {tests_seconds:.0} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `$SAL_CUDA_CACHE`, else `$XDG_CACHE_HOME/sal-cuda`, else `$HOME/.cache/sal-cuda`.
pub fn default_cache() -> anyhow::Result<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("SAL_CUDA_CACHE") {
        return Ok(std::path::absolute(PathBuf::from(dir))?);
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(dir).join("sal-cuda"));
    }
    let home = var("HOME").context("neither SAL_CUDA_CACHE, XDG_CACHE_HOME nor HOME is set")?;
    Ok(PathBuf::from(home).join(".cache").join("sal-cuda"))
}

/// `<CARGO_TARGET_DIR or target>/cuda`: apart from the CPU build, whose `release/sal` a CUDA
/// build would otherwise replace (and whose candle it would rebuild on every switch).
pub fn default_target_dir(root: &Path) -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let base = if base.is_relative() {
        root.join(base)
    } else {
        base
    };
    base.join("cuda")
}

/// The environment of the cargo commands: `nvcc` first on the `PATH`, the compute capability,
/// and the link folder first on `LIBRARY_PATH`.
fn build_env(toolkit: &Toolkit, compute_cap: &str) -> anyhow::Result<Vec<(String, OsString)>> {
    let prepend = |var: &str, dir: PathBuf| -> anyhow::Result<OsString> {
        let mut dirs = vec![dir];
        if let Some(old) = std::env::var_os(var) {
            dirs.extend(std::env::split_paths(&old));
        }
        std::env::join_paths(dirs).with_context(|| format!("building {var}"))
    };
    Ok(vec![
        ("PATH".into(), prepend("PATH", toolkit.bin_dir())?),
        (
            "LIBRARY_PATH".into(),
            prepend("LIBRARY_PATH", toolkit.link_dir())?,
        ),
        ("CUDA_COMPUTE_CAP".into(), compute_cap.into()),
    ])
}

fn file_mb(path: &Path) -> anyhow::Result<f64> {
    Ok(fs_err::metadata(path)?.len() as f64 / 1e6)
}
