//! `cargo xtask path STAGE`: the folder of a stage's current artifacts.

use std::path::PathBuf;

use anyhow::bail;
use sal_config::Stage;

use crate::flags;
use crate::plan::Plan;
use crate::project::Project;
use crate::status::{state, State};

/// The finished folder of `stage` for the config, or an error saying it is missing or stale
/// (and why) and which command makes it.
pub fn find(
    project: &Project,
    config: Option<&std::path::Path>,
    stage: Stage,
) -> anyhow::Result<PathBuf> {
    let config_path = project.config_path(config)?;
    let loaded = project.load_config(&config_path)?;
    let plan = Plan::new(project, &loaded, &config_path)?;
    let run = format!(
        "cargo xtask pipeline --config {} --until {stage}",
        config_path.display()
    );
    match state(project, plan.key(stage))? {
        State::Fresh(folder) => Ok(folder),
        State::Stale { reasons, .. } => {
            bail!(
                "stage {stage} is stale for {}: {}; run `{run}`",
                config_path.display(),
                reasons.join("; ")
            )
        }
        State::Missing => bail!(
            "stage {stage} has no artifacts yet for {}; run `{run}`",
            config_path.display()
        ),
    }
}

/// Prints the folder (absolute) on stdout.
pub fn run(project: &Project, flags: &flags::PathCmd) -> anyhow::Result<()> {
    println!(
        "{}",
        find(project, flags.config.as_deref(), flags.stage)?.display()
    );
    Ok(())
}
