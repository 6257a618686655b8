//! `cargo xtask merge-metrics [--config FILE] SHARD_DIR...`: join the shards of a sharded
//! `metrics` run (e.g. a cluster job array) into the pipeline's cache.
//!
//! It runs `sal merge metrics` into a temporary folder of its own (`.tmp/metrics-<key>-merge`,
//! so an interrupted unsharded run's checkpoints stay untouched), checks
//! that the merged file was computed from exactly this config's `[metrics]` section and from
//! this pipeline's `data`, `train` and `attribute` artifacts, and installs it as the finished
//! `metrics` folder. The next `cargo xtask pipeline` then finds `metrics` cached and runs only
//! `stats` and `report`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use anyhow::{bail, Context};
use sal_artifact::{Artifact, Kind};
use sal_config::{Config, Stage};

use crate::flags;
use crate::lock::PipelineLock;
use crate::plan::Plan;
use crate::project::Project;
use crate::sal::{describe, SalSource};
use crate::store;

/// Merges the shards and installs the result as the `metrics` stage of the config.
pub fn run(
    project: &Project,
    flags: &flags::MergeMetrics,
    sal: &SalSource,
) -> anyhow::Result<PathBuf> {
    let config_path = project.config_path(flags.config.as_deref())?;
    let config = project.load_config(&config_path)?;
    let program = sal.resolve(project)?;
    let _lock = PipelineLock::acquire_announced(&project.lock_path())?;
    let plan = Plan::new(project, &config, &config_path)?;
    let key = plan.key(Stage::Metrics);
    let start = Instant::now();
    // A folder of its own beside the stage's (which may hold an interrupted unsharded run's
    // checkpoints): emptied first, removed if anything below fails.
    let mut tmp = store::tmp_folder(project, key).into_os_string();
    tmp.push("-merge");
    let tmp = PathBuf::from(tmp);
    if tmp.exists() {
        fs_err::remove_dir_all(&tmp)?;
    }
    fs_err::create_dir_all(&tmp)?;
    if let Err(err) = merge_into(project, flags, &program, &plan, &config, &config_path, &tmp) {
        let _ = fs_err::remove_dir_all(&tmp);
        return Err(err);
    }
    let folder = store::install(project, &tmp, key, start.elapsed().as_secs_f64())?;
    eprintln!(
        "xtask: merge-metrics: {} shard(s) -> {}; `cargo xtask pipeline` now finds metrics cached",
        flags.shards.len(),
        project.display(&folder)
    );
    Ok(folder)
}

/// Runs `sal merge metrics` into `tmp` and checks the merged file belongs to this pipeline.
fn merge_into(
    project: &Project,
    flags: &flags::MergeMetrics,
    program: &Path,
    plan: &Plan,
    config: &Config,
    config_path: &Path,
    tmp: &Path,
) -> anyhow::Result<()> {
    // `sal` runs in the repository root: the shard folders as given, made absolute.
    let shards = flags
        .shards
        .iter()
        .map(|dir| std::path::absolute(dir).with_context(|| format!("resolving {}", dir.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let status = std::process::Command::new(program)
        .args(["merge", "metrics", "--out"])
        .arg(tmp)
        .args(&shards)
        .current_dir(&project.root)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("starting {}", program.display()))?;
    if !status.success() {
        bail!("`{} merge metrics` {}", program.display(), describe(status));
    }

    // The shards must come from this pipeline: same [metrics] section, same upstream artifacts.
    let merged = tmp.join(Kind::Metrics.file_name());
    let artifact = Artifact::open(&merged, Kind::Metrics)?;
    let meta = artifact.meta();
    let section = config.section_json(Stage::Metrics);
    if meta.config != section {
        bail!(
            "the shards were computed with another [metrics] section than {}:\n  shards: {}\n  config: {}",
            config_path.display(),
            meta.config,
            section
        );
    }
    for &input in Stage::Metrics.inputs() {
        let want = &plan.key(input).key;
        match meta.inputs.get(input.name()) {
            Some(have) if have == want => {}
            have => bail!(
                "the shards read another `{input}` artifact than this pipeline's (shards: {}, pipeline: {want}); \
                 run them with --{input} {}",
                have.map_or("none", String::as_str),
                project.display(&project.folder(input, want))
            ),
        }
    }
    Ok(())
}
