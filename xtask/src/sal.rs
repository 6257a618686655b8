//! The `sal` program: where it comes from, and how a stage is run with it.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use anyhow::{bail, Context};
use sal_config::Stage;

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

/// The arguments of a stage run, the interface every stage program implements:
/// `<stage> --config FILE --out DIR --<input-stage> DIR...` (one per [`Stage::inputs`], in order).
pub fn stage_args(
    stage: Stage,
    config: &Path,
    out: &Path,
    inputs: &[(Stage, PathBuf)],
) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        stage.name().into(),
        "--config".into(),
        config.into(),
        "--out".into(),
        out.into(),
    ];
    for (input, folder) in inputs {
        args.push(format!("--{input}").into());
        args.push(folder.into());
    }
    args
}

/// Runs one stage: the one place that decides what program a stage runs (issue 7 lets a config
/// name an external program here instead of `sal`, with the same arguments). stdout and stderr
/// are inherited, so the stage's progress bars show.
pub fn run_stage(
    program: &Path,
    stage: Stage,
    config: &Path,
    out: &Path,
    inputs: &[(Stage, PathBuf)],
) -> anyhow::Result<()> {
    let status = Command::new(program)
        .args(stage_args(stage, config, out, inputs))
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("stage {stage}: starting {}", program.display()))?;
    if !status.success() {
        bail!(
            "stage {stage} failed: {} {}",
            program.display(),
            describe(status)
        );
    }
    Ok(())
}

/// Checks that `program` has a `<stage>` subcommand (`program <stage> --help` succeeds), so a
/// stage that is not written yet fails before anything runs, naming the stage.
pub fn check_subcommand(program: &Path, stage: Stage) -> anyhow::Result<()> {
    let status = Command::new(program)
        .args([stage.name(), "--help"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("starting {}", program.display()))?;
    if !status.success() {
        let stop = match Stage::ALL.iter().position(|&s| s == stage) {
            Some(0) | None => String::new(),
            Some(i) => format!("; `--until {}` stops before it", Stage::ALL[i - 1]),
        };
        bail!("stage {stage} is not available: `{} {stage} --help` {}; this build of sal has no `{stage}` subcommand yet{stop}", program.display(), describe(status));
    }
    Ok(())
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
    fn stage_args_follow_the_documented_interface() {
        let inputs = [
            (Stage::Data, PathBuf::from("/a/d")),
            (Stage::Train, PathBuf::from("/a/t")),
            (Stage::Attribute, PathBuf::from("/a/s")),
        ];
        let args = stage_args(
            Stage::Metrics,
            Path::new("/c.toml"),
            Path::new("/o"),
            &inputs,
        );
        let args: Vec<&str> = args.iter().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(
            args,
            [
                "metrics",
                "--config",
                "/c.toml",
                "--out",
                "/o",
                "--data",
                "/a/d",
                "--train",
                "/a/t",
                "--attribute",
                "/a/s"
            ]
        );
    }

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
