//! The cargo commands of `cuda-check`, and what is done with their executables.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

use crate::sal::describe;

/// An executable cargo built.
#[derive(Debug, Clone, PartialEq)]
pub struct Executable {
    /// The target's name (`sal`, or a test target such as `engine`).
    pub name: String,
    /// The package it belongs to.
    pub package: String,
    /// Where cargo put it.
    pub path: PathBuf,
}

fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}

/// cudarc's `src/driver/sys/mod.rs`, found through `cargo metadata` with the cuda feature on
/// (so the registry copy cargo builds is the one read).
pub fn cudarc_driver_sys(root: &Path) -> anyhow::Result<PathBuf> {
    let out = Command::new(cargo())
        .current_dir(root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--features",
            "sal-cli/cuda",
        ])
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!(
            "`cargo metadata --features sal-cli/cuda` {}",
            describe(out.status)
        );
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("parsing cargo metadata's JSON")?;
    let manifest = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "cudarc")
        .and_then(|p| p["manifest_path"].as_str())
        .context("cargo metadata lists no cudarc package with the cuda feature on")?;
    let sys = Path::new(manifest)
        .parent()
        .context("cudarc's manifest has no folder")?
        .join("src/driver/sys/mod.rs");
    if !sys.is_file() {
        bail!("{} is missing (run `cargo fetch`)", sys.display());
    }
    Ok(sys)
}

/// `cargo build --release -p sal-cli --features cuda`; returns the `sal` executable.
pub fn sal_binary(
    root: &Path,
    target_dir: &Path,
    env: &[(String, OsString)],
) -> anyhow::Result<Executable> {
    let found = run_cargo(
        root,
        target_dir,
        env,
        &["build", "--release", "-p", "sal-cli", "--features", "cuda"],
    )?;
    found
        .into_iter()
        .find(|e| e.name == "sal")
        .context("cargo built sal-cli but reported no `sal` executable")
}

/// `cargo test --release --no-run -p PACKAGE --test TARGET --features cuda`; returns the
/// test executable.
pub fn test_executables(
    root: &Path,
    target_dir: &Path,
    env: &[(String, OsString)],
    (package, target): (&str, &str),
) -> anyhow::Result<Vec<Executable>> {
    let args = [
        "test",
        "--release",
        "--no-run",
        "-p",
        package,
        "--test",
        target,
        "--features",
        "cuda",
    ];
    run_cargo(root, target_dir, env, &args)
}

/// Runs a cargo command with JSON messages (compiler errors rendered on stderr) and returns
/// the executables it reports.
fn run_cargo(
    root: &Path,
    target_dir: &Path,
    env: &[(String, OsString)],
    args: &[&str],
) -> anyhow::Result<Vec<Executable>> {
    eprintln!(
        "xtask: cargo {} (CUDA_COMPUTE_CAP={}, target folder {})",
        args.join(" "),
        env.iter()
            .find(|(k, _)| k == "CUDA_COMPUTE_CAP")
            .map(|(_, v)| v.to_string_lossy().into_owned())
            .unwrap_or_default(),
        target_dir.display()
    );
    let mut command = Command::new(cargo());
    command
        .current_dir(root)
        .args(args)
        .arg("--target-dir")
        .arg(target_dir)
        .arg("--message-format=json-render-diagnostics")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = command.spawn().context("starting cargo")?;
    let stdout = child.stdout.take().context("cargo's stdout is piped")?;
    let mut found = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        if let Some(exe) = executable(&line) {
            found.push(exe);
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!(
            "`cargo {}` {}; the compiler errors are above",
            args.join(" "),
            describe(status)
        );
    }
    Ok(found)
}

/// The executable of one line of cargo's JSON messages, if it reports one.
fn executable(line: &str) -> Option<Executable> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message["reason"] != "compiler-artifact" {
        return None;
    }
    let path = message["executable"].as_str()?;
    let package = message["package_id"].as_str().unwrap_or_default();
    Some(Executable {
        name: message["target"]["name"].as_str()?.to_owned(),
        package: package_name(package),
        path: PathBuf::from(path),
    })
}

/// The package name in a cargo package id (`path+file:///r/crates/model#sal-model@0.1.0` or
/// the older `sal-model 0.1.0 (path+file:///...)`).
fn package_name(id: &str) -> String {
    if let Some((_, rest)) = id.rsplit_once('#') {
        let name = rest.split('@').next().unwrap_or(rest);
        // `#0.1.0` alone (the folder name is the package name).
        if name.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            let folder = id[..id.len() - rest.len() - 1].rsplit('/').next();
            return folder.unwrap_or_default().to_owned();
        }
        return name.to_owned();
    }
    id.split(' ').next().unwrap_or(id).to_owned()
}

/// The `NEEDED` entries of an ELF file (`readelf -d`).
pub fn needed_libraries(path: &Path) -> anyhow::Result<Vec<String>> {
    let out = Command::new("readelf")
        .arg("-d")
        .arg(path)
        .output()
        .context("running readelf")?;
    if !out.status.success() {
        bail!("`readelf -d {}` {}", path.display(), describe(out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l.split('[').nth(1)?.trim_end_matches(']').to_owned()))
        .collect())
}

/// Copies the executables into `dir` stripped (`strip`, or `$STRIP`): `sal` as `sal`, each
/// test as `<package>-<target>` (e.g. `sal-metrics-device_engine`). Returns the bytes written.
pub fn bundle(executables: &[Executable], dir: &Path) -> anyhow::Result<u64> {
    fs_err::create_dir_all(dir)?;
    let strip = std::env::var("STRIP").unwrap_or_else(|_| "strip".into());
    let mut total = 0;
    for exe in executables {
        let name = if exe.name == "sal" {
            "sal".to_owned()
        } else {
            format!("{}-{}", exe.package, exe.name)
        };
        let out = dir.join(&name);
        let status = Command::new(&strip)
            .arg("--strip-all")
            .arg("-o")
            .arg(&out)
            .arg(&exe.path)
            .status()
            .with_context(|| format!("starting `{strip}` (set STRIP)"))?;
        if !status.success() {
            bail!("`{strip} {}` {}", exe.path.display(), describe(status));
        }
        total += fs_err::metadata(&out)?.len();
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executables_and_their_packages_come_from_cargo_messages() {
        let line = r#"{"reason":"compiler-artifact","package_id":"path+file:///r/crates/metrics#sal-metrics@0.1.0","target":{"name":"engine","kind":["test"]},"executable":"/t/release/deps/engine-1234"}"#;
        assert_eq!(
            executable(line),
            Some(Executable {
                name: "engine".into(),
                package: "sal-metrics".into(),
                path: PathBuf::from("/t/release/deps/engine-1234"),
            })
        );
        let lib = r#"{"reason":"compiler-artifact","package_id":"x","target":{"name":"sal_config"},"executable":null}"#;
        assert_eq!(executable(lib), None);
        assert_eq!(package_name("path+file:///r/crates/model#0.1.0"), "model");
        assert_eq!(
            package_name("sal-model 0.1.0 (path+file:///r/crates/model)"),
            "sal-model"
        );
    }
}
