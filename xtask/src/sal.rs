//! The `sal` program: `SAL_BIN` or a release build.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use anyhow::{bail, Context};

use crate::project::Project;

/// The environment variable that names a program to use instead of building `sal`.
pub const SAL_BIN_ENV: &str = "SAL_BIN";

/// Where the `sal` program comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum SalSource {
    /// `cargo build --release -p sal-cli [--features ...]` in the repository.
    Build {
        /// Cargo features of `sal-cli`.
        features: Vec<String>,
    },
    /// A given program (`SAL_BIN`), trusted to be built from the current sources.
    Given(PathBuf),
}

impl SalSource {
    /// `SAL_BIN` if set (relative to the current folder), else a release build with `features`.
    pub fn from_env(features: &[String]) -> anyhow::Result<Self> {
        match std::env::var_os(SAL_BIN_ENV).filter(|v| !v.is_empty()) {
            Some(bin) => {
                let path = std::path::absolute(&bin)
                    .with_context(|| format!("resolving {SAL_BIN_ENV}={}", bin.display()))?;
                if !features.is_empty() {
                    eprintln!(
                        "xtask: {SAL_BIN_ENV} is set, so --features {} is ignored",
                        features.join(",")
                    );
                }
                Ok(SalSource::Given(path))
            }
            None => Ok(SalSource::Build {
                features: features.to_vec(),
            }),
        }
    }

    /// The program to run: builds it if needed.
    pub fn resolve(&self, project: &Project) -> anyhow::Result<PathBuf> {
        match self {
            SalSource::Given(path) => {
                if !path.is_file() {
                    bail!("{SAL_BIN_ENV}={} is not a file", path.display());
                }
                Ok(path.clone())
            }
            SalSource::Build { features } => build_release(&project.root, features),
        }
    }
}

/// Builds `sal` in release and returns the path of the executable cargo reports.
pub fn build_release(root: &Path, features: &[String]) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(&cargo);
    command.current_dir(root).args([
        "build",
        "--release",
        "-p",
        "sal-cli",
        "--message-format=json-render-diagnostics",
    ]);
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    eprintln!(
        "xtask: building sal (cargo build --release -p sal-cli{})",
        feature_note(features)
    );
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", cargo.to_string_lossy()))?;
    let stdout = child.stdout.take().context("cargo's stdout is piped")?;
    let mut executable = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        if let Some(path) = sal_executable(&line) {
            executable = Some(path);
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!("building sal failed ({status}); the compiler errors are above");
    }
    executable.context("cargo built sal-cli but reported no `sal` executable")
}

fn feature_note(features: &[String]) -> String {
    if features.is_empty() {
        String::new()
    } else {
        format!(" --features {}", features.join(","))
    }
}

/// The executable of the `sal` binary target, from one line of cargo's JSON messages.
fn sal_executable(line: &str) -> Option<PathBuf> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message["reason"] != "compiler-artifact" || message["target"]["name"] != "sal" {
        return None;
    }
    message["executable"].as_str().map(PathBuf::from)
}

/// "exited with code N" or "was killed by signal N".
pub fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => format!("ended with {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sal_executable_is_found_in_cargo_messages() {
        let line = r#"{"reason":"compiler-artifact","target":{"name":"sal","kind":["bin"]},"executable":"/r/target/release/sal"}"#;
        assert_eq!(
            sal_executable(line),
            Some(PathBuf::from("/r/target/release/sal"))
        );
        let lib = r#"{"reason":"compiler-artifact","target":{"name":"sal_config","kind":["lib"]},"executable":null}"#;
        assert_eq!(sal_executable(lib), None);
        assert_eq!(sal_executable("not json"), None);
        assert_eq!(
            sal_executable(r#"{"reason":"build-finished","success":true}"#),
            None
        );
    }
}
