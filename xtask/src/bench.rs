//! `cargo xtask bench`: build `sal` in release and run `sal bench`.

use std::process::{Command, Stdio};

use anyhow::{bail, Context};

use crate::flags;
use crate::project::Project;
use crate::sal::{describe, SalSource};

/// Runs `sal bench [--json]` with inherited output.
pub fn run(project: &Project, flags: &flags::Bench, sal: &SalSource) -> anyhow::Result<()> {
    let program = sal.resolve(project)?;
    let mut command = Command::new(&program);
    command.arg("bench");
    if flags.json {
        command.arg("--json");
    }
    let status = command
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("starting {}", program.display()))?;
    if !status.success() {
        bail!("`{} bench` {}", program.display(), describe(status));
    }
    Ok(())
}
