//! `cargo xtask variants`: "What moves the numbers". Several runs of one protocol that differ
//! in one choice each (the model's training recipe, the uniform fill's draws, the edge
//! baseline, ...), side by side: Table 1's headline cells and the number of the paper's claims
//! each run agrees with, beside the paper's values, and the claims each run moves against the
//! first.
//!
//! xtask only resolves each `NAME=CONFIG.toml` to its fresh cached report (by the pipeline's
//! keys; a run that is missing or stale is named as such, never guessed) and runs
//! `sal variants`, whose table is the report's own section "What moves the numbers"
//! (`sal_report::variants`): one implementation, and xtask still never links the report crate.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use sal_config::Stage;

use crate::flags;
use crate::path;
use crate::project::Project;
use crate::sal::{describe, SalSource};

/// The arguments of `sal variants` for `NAME=SOURCE` specs: `NAME=DIR` for a report folder or
/// a config's fresh report, `--missing NAME=WHY` for a config without one.
pub fn sal_args(project: &Project, flags: &flags::Variants) -> anyhow::Result<Vec<OsString>> {
    let mut found: Vec<OsString> = Vec::new();
    let mut missing: Vec<OsString> = Vec::new();
    for spec in &flags.variants {
        let Some((name, source)) = spec.split_once('=') else {
            bail!("`{spec}`: expected NAME=CONFIG.toml or NAME=DIR");
        };
        let source = Path::new(source);
        if source.extension().is_some_and(|e| e == "toml") {
            match path::find(project, Some(source), Stage::Report) {
                Ok(folder) => {
                    let mut arg = OsString::from(format!("{name}="));
                    arg.push(folder);
                    found.push(arg);
                }
                Err(err) => {
                    missing.push("--missing".into());
                    missing.push(format!("{name}={}", format!("{err:#}").replace('|', "/")).into());
                }
            }
        } else {
            let mut arg = OsString::from(format!("{name}="));
            arg.push(source);
            found.push(arg);
        }
    }
    if found.is_empty() {
        bail!(
            "no run has a report to show: {}",
            missing
                .iter()
                .skip(1)
                .step_by(2)
                .map(|m| m.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let mut args: Vec<OsString> = vec!["variants".into()];
    if let Some(out) = &flags.out {
        args.push("--out".into());
        args.push(out.into());
    }
    args.extend(missing);
    args.push("--".into());
    args.extend(found);
    Ok(args)
}

/// Prints (and with `--out` writes) the Markdown, by `sal variants`.
pub fn run(project: &Project, flags: &flags::Variants, sal: &SalSource) -> anyhow::Result<()> {
    let args = sal_args(project, flags)?;
    let program = sal.resolve(project)?;
    let status = Command::new(&program)
        .args(&args)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("starting {}", program.display()))?;
    if !status.success() {
        bail!("{} variants {}", program.display(), describe(status));
    }
    Ok(())
}
