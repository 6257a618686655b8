//! A CUDA 13.0 compiler from the Python package registry, and a folder to link against.
//!
//! No system install: `pip install --target` puts NVIDIA's wheels in a cache folder. The CUDA 13
//! wheels carry a complete `nvcc` (with `cicc`, `ptxas`, the headers and libdevice) under
//! `nvidia/cu13/`; the `-cu12` ones hold only `ptxas`. Every wheel is pinned to CUDA 13.0:
//! cudarc 0.19.10 refuses a 13.5 toolkit ("Unsupported cuda toolkit version"), an nvvm of 13.5
//! beside an nvcc of 13.0 makes PTX that ptxas refuses, and the lent GPU machines' driver (580)
//! runs CUDA 13.0.
//!
//! candle links cudarc with `dynamic-linking`, so the final link needs `libcuda`, `libcublas`,
//! `libcublasLt`, `libcurand`, `libnvrtc` and `libcudart` by their unversioned names. The
//! [link folder](Toolkit::link_dir) holds links to the wheels' versioned files and a stand-in
//! `libcuda.so` (soname `libcuda.so.1`) built with `cc` from the driver function names of
//! cudarc's `src/driver/sys/mod.rs`: no wheel ships the driver, and the real one is loaded where
//! the binary runs. The folder reaches the linker through `LIBRARY_PATH` (through `RUSTFLAGS` it
//! would change every crate's fingerprint and rebuild everything).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

use crate::sal::describe;

/// The wheels, pinned to CUDA 13.0 (see the module documentation for why).
pub const WHEELS: &[&str] = &[
    "nvidia-cuda-nvcc==13.0.88",
    "nvidia-cuda-runtime==13.0.96",
    "nvidia-cuda-crt==13.0.88",
    "nvidia-cuda-cccl==13.0.*",
    "nvidia-nvvm==13.0.88",
    "nvidia-cublas==13.0.2.14",
    "nvidia-curand==10.4.0.35",
    "nvidia-cuda-nvrtc==13.0.88",
];

/// The name of the toolkit folder inside the cache (changing [`WHEELS`] changes it).
pub const TOOLKIT_DIR: &str = "cuda-13.0";

/// The libraries the link needs by unversioned name, and the wheel file each one points to.
const LINKED: &[(&str, &str)] = &[
    ("libcublas.so", "libcublas.so.13"),
    ("libcublasLt.so", "libcublasLt.so.13"),
    ("libcurand.so", "libcurand.so.10"),
    ("libnvrtc.so", "libnvrtc.so.13"),
    ("libcudart.so", "libcudart.so.13"),
];

/// An installed toolkit.
#[derive(Debug, Clone)]
pub struct Toolkit {
    /// `<cache>/cuda-13.0`: the `pip --target` folder.
    pub root: PathBuf,
}

impl Toolkit {
    /// `nvidia/cu13`: `bin/nvcc`, `include/`, `lib/`, `nvvm/`.
    pub fn cuda_root(&self) -> PathBuf {
        self.root.join("nvidia").join("cu13")
    }

    /// The folder holding `nvcc` (goes first on the `PATH`).
    pub fn bin_dir(&self) -> PathBuf {
        self.cuda_root().join("bin")
    }

    /// The folder the linker searches (`LIBRARY_PATH`).
    pub fn link_dir(&self) -> PathBuf {
        self.root.join("link")
    }

    /// The toolkit under `cache`, installed with pip if it is not there yet.
    pub fn install(cache: &Path, python: &str) -> anyhow::Result<Self> {
        let toolkit = Toolkit {
            root: cache.join(TOOLKIT_DIR),
        };
        let stamp = toolkit.root.join("wheels.txt");
        let wanted = WHEELS.join("\n");
        let installed = fs_err::read_to_string(&stamp).ok();
        if installed.as_deref() == Some(wanted.as_str()) && toolkit.bin_dir().join("nvcc").is_file()
        {
            eprintln!(
                "xtask: CUDA 13.0 toolkit cached in {}",
                toolkit.root.display()
            );
            return Ok(toolkit);
        }
        let partial = cache.join(format!("{TOOLKIT_DIR}.partial"));
        if partial.exists() {
            fs_err::remove_dir_all(&partial)?;
        }
        fs_err::create_dir_all(cache)?;
        eprintln!(
            "xtask: installing the CUDA 13.0 wheels into {} (about 1.2 GB)",
            toolkit.root.display()
        );
        let status = Command::new(python)
            .args([
                "-m",
                "pip",
                "install",
                "--no-deps",
                "--disable-pip-version-check",
            ])
            .arg("--target")
            .arg(&partial)
            .args(WHEELS)
            .stdin(Stdio::null())
            .status()
            .with_context(|| {
                format!("starting `{python} -m pip` (set PYTHON to another Python)")
            })?;
        if !status.success() {
            bail!(
                "`{python} -m pip install --target {}` {}",
                partial.display(),
                describe(status)
            );
        }
        fs_err::write(partial.join("wheels.txt"), &wanted)?;
        if toolkit.root.exists() {
            fs_err::remove_dir_all(&toolkit.root)?;
        }
        fs_err::rename(&partial, &toolkit.root)?;
        if !toolkit.bin_dir().join("nvcc").is_file() {
            bail!(
                "the wheels installed, but {} holds no nvcc",
                toolkit.bin_dir().display()
            );
        }
        Ok(toolkit)
    }

    /// `nvcc --version`'s release line, e.g. `Cuda compilation tools, release 13.0, V13.0.88`.
    pub fn nvcc_version(&self) -> anyhow::Result<String> {
        let nvcc = self.bin_dir().join("nvcc");
        let out = Command::new(&nvcc)
            .arg("--version")
            .output()
            .with_context(|| format!("running {} --version", nvcc.display()))?;
        if !out.status.success() {
            bail!("`{} --version` {}", nvcc.display(), describe(out.status));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .find(|l| l.contains("release"))
            .map(str::to_owned)
            .with_context(|| format!("`{} --version` printed no release line", nvcc.display()))
    }

    /// Fills [`Self::link_dir`]: links to the wheels' libraries by unversioned name, and the
    /// stand-in `libcuda.so` made from the driver functions declared in `driver_sys` (cudarc's
    /// `src/driver/sys/mod.rs`). Returns the number of stand-in functions.
    pub fn prepare_link_dir(&self, driver_sys: &Path, cc: &str) -> anyhow::Result<usize> {
        let dir = self.link_dir();
        fs_err::create_dir_all(&dir)?;
        let lib = self.cuda_root().join("lib");
        for (name, target) in LINKED {
            let target = lib.join(target);
            if !target.is_file() {
                bail!("{} is missing from the wheels", target.display());
            }
            let link = dir.join(name);
            if link.symlink_metadata().is_ok() {
                fs_err::remove_file(&link)?;
            }
            std::os::unix::fs::symlink(&target, &link)
                .with_context(|| format!("linking {} -> {}", link.display(), target.display()))?;
        }
        let source = fs_err::read_to_string(driver_sys)?;
        let names = driver_functions(&source);
        if names.len() < 100 {
            bail!(
                "found only {} driver functions (`pub unsafe fn cu...`) in {}: has cudarc's layout changed?",
                names.len(),
                driver_sys.display()
            );
        }
        let mut c = String::from(
            "/* A stand-in for the CUDA driver, for linking only (generated by cargo xtask cuda-check\n   from cudarc's driver declarations). The real libcuda.so.1 is loaded at run time. */\n",
        );
        for name in &names {
            c.push_str(&format!("void {name}(void) {{}}\n"));
        }
        let c_path = dir.join("libcuda-standin.c");
        fs_err::write(&c_path, c)?;
        let out = dir.join("libcuda.so");
        let status = Command::new(cc)
            .args(["-shared", "-fPIC", "-Wl,-soname,libcuda.so.1", "-o"])
            .arg(&out)
            .arg(&c_path)
            .status()
            .with_context(|| format!("starting the C compiler `{cc}` (set CC)"))?;
        if !status.success() {
            bail!("`{cc}` building {} {}", out.display(), describe(status));
        }
        Ok(names.len())
    }
}

/// The driver functions cudarc declares: every `pub unsafe fn cuXxx(` at the start of a line,
/// sorted and deduplicated.
pub fn driver_functions(source: &str) -> BTreeSet<String> {
    source
        .lines()
        .filter_map(|line| line.strip_prefix("pub unsafe fn "))
        .filter_map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (name.starts_with("cu") && rest[name.len()..].starts_with('(')).then_some(name)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_functions_are_the_top_level_cu_functions() {
        let source = "pub unsafe fn cuInit(flags: u32) -> CUresult {\n    extern \"C\" {\n        fn cuInit(flags: u32) -> CUresult;\n    }\n}\npub unsafe fn cuMemAlloc_v2(p: *mut u64, n: usize) -> CUresult {}\npub unsafe fn culib_helper<T>() {}\npub fn cuNotUnsafe() {}\npub unsafe fn cuInit(flags: u32) -> CUresult {}\n";
        let names: Vec<String> = driver_functions(source).into_iter().collect();
        assert_eq!(names, ["cuInit", "cuMemAlloc_v2"]);
    }

    #[test]
    fn every_wheel_is_pinned_to_cuda_13_0() {
        for wheel in WHEELS {
            let version = wheel.split("==").nth(1).expect("pinned with ==");
            assert!(
                version.starts_with("13.0.") || wheel.starts_with("nvidia-curand==10.4."),
                "{wheel}"
            );
        }
    }
}
