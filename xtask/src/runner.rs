//! How a stage runs: the one place that decides the program.
//!
//! Every stage program takes the same arguments, `--config FILE --out DIR` and
//! `--<input-stage> DIR` for each of [`Stage::inputs`] in order:
//! - by default `sal <stage> ARGS`, run in the repository root (so `sal data`'s download
//!   folder `artifacts/downloads/` does not depend on where `cargo xtask` was started);
//! - when the config's `[external]` section names a command for the stage,
//!   `<program> <leading args...> ARGS`, run in the config file's folder (so relative paths in
//!   the command are relative to the config, like `data.dir`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use sal_config::{Config, Stage};

use crate::sal::describe;

/// The program that runs one stage.
#[derive(Debug, Clone, PartialEq)]
pub enum StageProgram {
    /// `sal <stage> ...` with this `sal` executable, run in `cwd` (the repository root).
    Sal {
        /// The `sal` executable.
        program: PathBuf,
        /// The repository root.
        cwd: PathBuf,
    },
    /// An `[external]` command (program and leading arguments), run in `cwd`.
    External {
        /// As written in the config.
        command: Vec<String>,
        /// The config file's folder.
        cwd: PathBuf,
    },
}

impl StageProgram {
    /// The program of `stage` for this config: its `[external]` command if any, else `sal`
    /// (`sal` is called only when needed, so a pipeline of external stages never builds it).
    pub fn for_stage(
        config: &Config,
        config_path: &Path,
        root: &Path,
        stage: Stage,
        sal: impl FnOnce() -> anyhow::Result<PathBuf>,
    ) -> anyhow::Result<Self> {
        Ok(match config.external.command(stage) {
            Some(command) => StageProgram::External {
                command: command.to_vec(),
                cwd: config_dir(config_path),
            },
            None => StageProgram::Sal {
                program: sal()?,
                cwd: root.to_path_buf(),
            },
        })
    }

    /// The full command line of a run; `extra` follows the stage arguments (the pipeline's
    /// `--random-labels DIR` for `sal sanity`, `--variant NAME=DIR` for `sal report`).
    pub fn command(
        &self,
        stage: Stage,
        config: &Path,
        out: &Path,
        inputs: &[(Stage, PathBuf)],
        extra: &[OsString],
    ) -> Command {
        let mut command = match self {
            StageProgram::Sal { program, cwd } => {
                let mut command = Command::new(program);
                command.arg(stage.name()).current_dir(cwd);
                command
            }
            StageProgram::External { command: argv, cwd } => {
                let mut command = Command::new(resolve_program(&argv[0], cwd));
                command.args(&argv[1..]).current_dir(cwd);
                command
            }
        };
        command.args(stage_args(config, out, inputs)).args(extra);
        command
    }

    /// Checks that the program can run the stage before anything runs: `sal <stage> --help`
    /// must succeed (a stage not written yet fails here, naming it); an external program given
    /// as a path must exist.
    pub fn check(&self, stage: Stage) -> anyhow::Result<()> {
        match self {
            StageProgram::Sal { program, .. } => check_subcommand(program, stage),
            StageProgram::External { command, cwd } => {
                let program = resolve_program(&command[0], cwd);
                if program.components().count() > 1 && !program.is_file() {
                    bail!(
                        "stage {stage}: the [external] program {} does not exist",
                        program.display()
                    );
                }
                Ok(())
            }
        }
    }

    /// For messages: `sal` or the external command line.
    pub fn describe(&self) -> String {
        match self {
            StageProgram::Sal { program, .. } => program.display().to_string(),
            StageProgram::External { command, .. } => format!("[external] {}", command.join(" ")),
        }
    }
}

/// The folder of the config file (external commands run there).
pub fn config_dir(config_path: &Path) -> PathBuf {
    config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A program named by a path (it holds a `/`) is relative to `cwd`; a bare name is looked up
/// in `PATH` by the OS.
fn resolve_program(program: &str, cwd: &Path) -> PathBuf {
    let path = Path::new(program);
    if path.components().count() > 1 {
        cwd.join(path)
    } else {
        path.to_path_buf()
    }
}

/// The arguments every stage program takes:
/// `--config FILE --out DIR --<input-stage> DIR...` (one per [`Stage::inputs`], in order).
pub fn stage_args(config: &Path, out: &Path, inputs: &[(Stage, PathBuf)]) -> Vec<OsString> {
    let mut args: Vec<OsString> =
        vec!["--config".into(), config.into(), "--out".into(), out.into()];
    for (input, folder) in inputs {
        args.push(format!("--{input}").into());
        args.push(folder.into());
    }
    args
}

/// Runs one stage with inherited stdout and stderr (so its progress bars show); `extra`
/// arguments follow the stage arguments.
pub fn run_stage(
    program: &StageProgram,
    stage: Stage,
    config: &Path,
    out: &Path,
    inputs: &[(Stage, PathBuf)],
    extra: &[OsString],
) -> anyhow::Result<()> {
    let status = program
        .command(stage, config, out, inputs, extra)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("stage {stage}: starting {}", program.describe()))?;
    if !status.success() {
        bail!(
            "stage {stage} failed: {} {}",
            program.describe(),
            describe(status)
        );
    }
    Ok(())
}

/// Checks that a stage that exited successfully wrote the artifact files of its kinds
/// ([`crate::key::writes`]), so a program that forgot one never leaves a finished folder.
pub fn check_outputs(stage: Stage, out: &Path, program: &StageProgram) -> anyhow::Result<()> {
    let missing: Vec<String> = crate::key::writes(stage)
        .iter()
        .map(|kind| kind.file_name())
        .filter(|name| !out.join(name).is_file())
        .collect();
    if !missing.is_empty() {
        bail!(
            "stage {stage}: {} exited successfully but did not write {} (see docs/artifacts.md)",
            program.describe(),
            missing.join(", ")
        );
    }
    Ok(())
}

/// Checks that `sal` has a `<stage>` subcommand (`sal <stage> --help` succeeds).
pub fn check_subcommand(sal: &Path, stage: Stage) -> anyhow::Result<()> {
    let status = Command::new(sal)
        .args([stage.name(), "--help"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("starting {}", sal.display()))?;
    if !status.success() {
        let stop = match Stage::ALL.iter().position(|&s| s == stage) {
            Some(0) | None => String::new(),
            Some(i) => format!("; `--until {}` stops before it", Stage::ALL[i - 1]),
        };
        bail!(
            "stage {stage} is not available: `{} {stage} --help` {}; this build of sal has no `{stage}` subcommand yet{stop}",
            sal.display(),
            describe(status)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(command: &Command) -> Vec<String> {
        std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|a| a.to_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn sal_and_external_programs_get_the_same_arguments() {
        let inputs = [
            (Stage::Data, PathBuf::from("/a/d")),
            (Stage::Train, PathBuf::from("/a/t")),
            (Stage::Attribute, PathBuf::from("/a/s")),
        ];
        let sal = StageProgram::Sal {
            program: PathBuf::from("/bin/sal"),
            cwd: PathBuf::from("/repo"),
        };
        let command = sal.command(
            Stage::Metrics,
            Path::new("/c.toml"),
            Path::new("/o"),
            &inputs,
            &[],
        );
        let tail = [
            "--config",
            "/c.toml",
            "--out",
            "/o",
            "--data",
            "/a/d",
            "--train",
            "/a/t",
            "--attribute",
            "/a/s",
        ];
        let expected: Vec<&str> = ["/bin/sal", "metrics"].into_iter().chain(tail).collect();
        assert_eq!(argv(&command), expected);
        assert_eq!(command.get_current_dir(), Some(Path::new("/repo")));

        let external = StageProgram::External {
            command: vec!["./maps.sh".into(), "--fast".into()],
            cwd: PathBuf::from("/cfg"),
        };
        let command = external.command(
            Stage::Metrics,
            Path::new("/c.toml"),
            Path::new("/o"),
            &inputs,
            &[],
        );
        let expected: Vec<&str> = ["/cfg/./maps.sh", "--fast"]
            .into_iter()
            .chain(tail)
            .collect();
        assert_eq!(argv(&command), expected);
        assert_eq!(command.get_current_dir(), Some(Path::new("/cfg")));

        let bare = StageProgram::External {
            command: vec!["python3".into()],
            cwd: PathBuf::from("/cfg"),
        };
        assert_eq!(
            argv(&bare.command(Stage::Data, Path::new("/c"), Path::new("/o"), &[], &[]))[0],
            "python3"
        );
    }
}
