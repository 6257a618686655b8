//! `cargo xtask pipeline`: run the stages in order, each only if its cache key changed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use sal_config::{Config, Stage};

use crate::display;
use crate::flags;
use crate::lock::PipelineLock;
use crate::plan::Plan;
use crate::project::Project;
use crate::random_labels::{self, RandomLabelsKey};
use crate::runner::{self, StageProgram};
use crate::sal::SalSource;
use crate::store;

/// What the pipeline did with a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A finished folder of the current key existed.
    Cached,
    /// The stage ran (its key changed, its folder was missing, or it was forced).
    Ran,
}

impl Action {
    /// `cached` or `ran`.
    pub fn name(self) -> &'static str {
        match self {
            Action::Cached => "cached",
            Action::Ran => "ran",
        }
    }
}

/// One stage of a pipeline run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The stage.
    pub stage: Stage,
    /// Cached or ran.
    pub action: Action,
    /// Wall time in this run (checking the cache, or running the stage).
    pub seconds: f64,
    /// Wall time recorded in `key.json` when the folder was built.
    pub built_seconds: f64,
    /// The finished folder.
    pub folder: PathBuf,
}

/// Runs the pipeline and prints per stage `cached` or `ran` with its wall time, then a summary.
///
/// The config is loaded before anything else, so a bad config fails before any build. The
/// pipeline lock is held throughout; a second pipeline on the same artifacts folder waits.
pub fn run(
    project: &Project,
    flags: &flags::Pipeline,
    sal: &SalSource,
) -> anyhow::Result<Vec<Outcome>> {
    let config_path = project.config_path(flags.config.as_deref())?;
    let config = project.load_config(&config_path)?;

    let _lock = PipelineLock::acquire_announced(&project.lock_path())?;
    let stages = selected(flags.until);
    for &stage in &flags.force {
        if !stages.contains(&stage) {
            eprintln!("xtask: --force {stage} ignored: the pipeline stops before it");
        }
    }
    let forced = forced(&flags.force);
    let (plan, programs) = prepare(project, &config, &config_path, &stages, &forced, sal)?;
    let mut resumable: Vec<PathBuf> = stages
        .iter()
        .map(|&stage| store::tmp_folder(project, plan.key(stage)))
        .collect();
    if let (true, Some(key)) = (stages.contains(&Stage::Sanity), &plan.random_labels) {
        resumable.push(random_labels::tmp_folder(project, key));
    }
    for removed in store::clean_tmp(project, &resumable)? {
        eprintln!(
            "xtask: removed {} (left by an interrupted run of another key)",
            removed.display()
        );
    }

    let mut outcomes: Vec<Outcome> = Vec::new();
    for &stage in &stages {
        let key = plan.key(stage);
        let start = Instant::now();
        let outcome = if let Some((_, program)) = programs.iter().find(|(s, _)| *s == stage) {
            let by = match program {
                StageProgram::Sal { .. } => String::new(),
                external => format!(" with {}", external.describe()),
            };
            eprintln!(
                "xtask: {stage}: running{by} (key {})",
                crate::project::short_key(&key.key)
            );
            let inputs: Vec<(Stage, PathBuf)> = stage
                .inputs()
                .iter()
                .map(|&input| (input, project.folder(input, &plan.key(input).key)))
                .collect();
            let (tmp, resumed) = store::create_tmp(project, key)?;
            if resumed {
                eprintln!(
                    "xtask: {stage}: resuming in {} (left by an interrupted run)",
                    project.display(&tmp)
                );
            }
            let random_labels =
                match (stage, program, &plan.random_labels) {
                    (Stage::Sanity, StageProgram::Sal { .. }, Some(key)) => Some(
                        random_labels_folder(project, key, forced.contains(&Stage::Sanity))?,
                    ),
                    _ => None,
                };
            let extra: Vec<OsString> = match (&random_labels, stage, program) {
                (Some((folder, _)), _, _) => vec!["--random-labels".into(), folder.into()],
                (None, Stage::Report, StageProgram::Sal { .. }) => variant_args(project, &plan),
                _ => Vec::new(),
            };
            let ran = runner::run_stage(program, stage, &config_path, &tmp, &inputs, &extra)
                .and_then(|()| runner::check_outputs(stage, &tmp, program));
            if let (Some((folder, true)), Some(key)) = (&random_labels, &plan.random_labels) {
                // Kept even when the rest of the stage failed: the model is whole once its
                // file exists, and its key does not depend on what failed.
                let seconds = start.elapsed().as_secs_f64();
                match random_labels::install_if_trained(project, folder, key, seconds)? {
                    Some(done) => eprintln!(
                        "xtask: sanity: random-label model trained -> {}",
                        project.display(&done)
                    ),
                    None => eprintln!(
                        "xtask: sanity: random-label model unfinished; kept {} for the next run to resume from",
                        project.display(folder)
                    ),
                }
            }
            if let Err(err) = ran {
                // The folder stays: it never looks finished (no key.json, not under
                // artifacts/<stage>/), and the next run of this key resumes from its checkpoints.
                eprintln!(
                    "xtask: {stage}: kept {} for the next run to resume from",
                    project.display(&tmp)
                );
                print_summary(project, &outcomes, true);
                return Err(err);
            }
            let seconds = start.elapsed().as_secs_f64();
            let folder = store::install(project, &tmp, key, seconds)
                .with_context(|| format!("stage {stage}: installing its folder"))?;
            eprintln!(
                "xtask: {stage}: ran in {} -> {}",
                display::duration(seconds),
                project.display(&folder)
            );
            Outcome {
                stage,
                action: Action::Ran,
                seconds,
                built_seconds: seconds,
                folder,
            }
        } else {
            let (folder, record) =
                store::finished(project, key)?.context("a cached stage has a finished folder")?;
            let seconds = start.elapsed().as_secs_f64();
            eprintln!(
                "xtask: {stage}: cached ({}; built in {})",
                project.display(&folder),
                display::duration(record.wall_seconds)
            );
            Outcome {
                stage,
                action: Action::Cached,
                seconds,
                built_seconds: record.wall_seconds,
                folder,
            }
        };
        outcomes.push(outcome);
    }
    print_summary(project, &outcomes, false);
    if let Some(last) = outcomes.last() {
        println!("{} artifacts: {}", last.stage, last.folder.display());
        if last.stage == Stage::Report {
            print_headline(&last.folder);
        }
    }
    Ok(outcomes)
}

/// The folder `sal sanity` gets as `--random-labels`, and whether the model is to be trained
/// there: the finished `artifacts/random_labels/<key>/` when there is one (and the sanity stage
/// is not forced), else the temporary folder of the key, where an interrupted training left its
/// checkpoint. Says which in the log.
fn random_labels_folder(
    project: &Project,
    key: &RandomLabelsKey,
    force: bool,
) -> anyhow::Result<(PathBuf, bool)> {
    let short = crate::project::short_key(&key.key);
    if !force {
        if let Some((folder, record)) = random_labels::finished(project, key)? {
            eprintln!(
                "xtask: sanity: random-label model cached ({}; trained in {})",
                project.display(&folder),
                display::duration(record.wall_seconds)
            );
            return Ok((folder, false));
        }
    }
    let tmp = random_labels::tmp_folder(project, key);
    let resumed = tmp.is_dir() && fs_err::read_dir(&tmp)?.next().is_some();
    fs_err::create_dir_all(&tmp)?;
    let how = if resumed {
        "resuming from what an interrupted run left"
    } else if force {
        "forced"
    } else {
        "not cached"
    };
    eprintln!(
        "xtask: sanity: random-label model to train ({how}; key {short}) in {}",
        project.display(&tmp)
    );
    Ok((tmp, true))
}

/// The arguments of `sal report` for the config's `[report] variants`, in the config's order:
/// `--variant NAME=DIR` for each whose report is finished for its current key, then
/// `--variant-missing NAME=CONFIG` for the others (the report lists them as not run, with the
/// command that makes them). Says which in the log.
pub fn variant_args(project: &Project, plan: &Plan) -> Vec<OsString> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for variant in &plan.variants {
        match &variant.folder {
            Some(folder) => {
                eprintln!(
                    "xtask: report: variant {:?}: {}",
                    variant.name,
                    project.display(folder)
                );
                found.push("--variant".into());
                let mut arg = OsString::from(format!("{}=", variant.name));
                arg.push(folder);
                found.push(arg);
            }
            None => {
                let config = project.display(&variant.config).to_string();
                eprintln!(
                    "xtask: report: variant {:?}: no finished report for its current key (`cargo xtask pipeline --config {config}`)",
                    variant.name
                );
                missing.push("--variant-missing".into());
                missing.push(format!("{}={config}", variant.name).into());
            }
        }
    }
    found.extend(missing);
    found
}

/// The key numbers of a finished report (from its `report/summary.json`): where to read it,
/// the model's test accuracy, and Table 1's alphas at the largest L (and for faithfulness).
fn print_headline(folder: &Path) {
    let report = folder.join("report");
    println!("report: {}", report.join("report.html").display());
    let Ok(text) = fs_err::read_to_string(report.join("summary.json")) else {
        return;
    };
    let Ok(summary) = serde_json::from_str::<serde_json::Value>(&text) else {
        return;
    };
    for line in headline(&summary) {
        println!("{line}");
    }
}

/// The lines of [`print_headline`] for a parsed `summary.json`.
pub fn headline(summary: &serde_json::Value) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(accuracy) = summary["test_accuracy"].as_f64() {
        lines.push(format!("test accuracy: {:.2}%", 100.0 * accuracy));
    }
    let rows = summary["table1_alpha"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let top = rows.iter().filter_map(|r| r["steps"].as_u64()).max();
    let shown: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| r["steps"].is_null() || r["steps"].as_u64() == top)
        .collect();
    if !shown.is_empty() {
        lines.push("Table 1, Krippendorff's alpha [bootstrap interval]:".to_owned());
    }
    for row in shown {
        let metric = match (row["metric"].as_str(), row["steps"].as_u64()) {
            (Some(metric @ ("morf" | "lerf")), Some(steps)) => format!("AOPC {metric} L={steps}"),
            (Some(metric), Some(steps)) => format!("{metric} L={steps}"),
            (Some(metric), None) => metric.to_owned(),
            _ => continue,
        };
        let edge = if row["with_edge"].as_bool() == Some(true) {
            "with edge"
        } else {
            "without edge"
        };
        let number =
            |v: &serde_json::Value| v.as_f64().map_or("n/a".to_owned(), |x| format!("{x:.2}"));
        lines.push(format!(
            "  {metric:<16} {:<8} {edge:<12} {} [{}, {}]",
            row["fill"].as_str().unwrap_or("?"),
            number(&row["alpha"]),
            number(&row["ci"][0]),
            number(&row["ci"][1])
        ));
    }
    lines
}

/// Computes the keys and decides which stages run and with what program.
///
/// `sal` is built (or found) once, only if a stage to run needs it, and every program is
/// checked before anything runs, so a stage missing from `sal` fails before hours of work
/// upstream of it. The keys are computed again after the build: if the sources changed while
/// `sal` was building, the keys would describe code the binary does not hold, so it starts over.
fn prepare(
    project: &Project,
    config: &Config,
    config_path: &Path,
    stages: &[Stage],
    forced: &[Stage],
    sal: &SalSource,
) -> anyhow::Result<(Plan, Vec<(Stage, StageProgram)>)> {
    const ATTEMPTS: usize = 3;
    for _ in 0..ATTEMPTS {
        let plan = Plan::new(project, config, config_path)?;
        let mut sal_path: Option<PathBuf> = None;
        let mut programs: Vec<(Stage, StageProgram)> = Vec::new();
        for &stage in stages {
            if !forced.contains(&stage) && store::finished(project, plan.key(stage))?.is_some() {
                continue;
            }
            let sal_once = || match &sal_path {
                Some(path) => Ok(path.clone()),
                None => sal.resolve(project),
            };
            let program =
                StageProgram::for_stage(config, config_path, &project.root, stage, sal_once)?;
            if let StageProgram::Sal { program: path, .. } = &program {
                sal_path = Some(path.clone());
            }
            program.check(stage)?;
            programs.push((stage, program));
        }
        // Only the selected stages matter (an edit of the report crate does not hold up `--until data`).
        let again = Plan::new(project, config, config_path)?;
        if sal_path.is_none() || stages.iter().all(|&s| again.key(s) == plan.key(s)) {
            return Ok((plan, programs));
        }
        eprintln!("xtask: the sources changed while sal was building; computing the keys again");
    }
    bail!("the sources kept changing while sal was building ({ATTEMPTS} times); run the pipeline again once they settle")
}

/// The stages up to and including `until` (all of them without it), in pipeline order.
pub fn selected(until: Option<Stage>) -> Vec<Stage> {
    let end = until.map_or(Stage::ALL.len(), |u| {
        Stage::ALL.iter().position(|&s| s == u).expect("a stage") + 1
    });
    Stage::ALL[..end].to_vec()
}

/// The forced stages and every stage that reads one of them, directly or not.
pub fn forced(force: &[Stage]) -> Vec<Stage> {
    let mut out: Vec<Stage> = Vec::new();
    for stage in Stage::ALL {
        if force.contains(&stage) || stage.inputs().iter().any(|i| out.contains(i)) {
            out.push(stage);
        }
    }
    out
}

fn print_summary(project: &Project, outcomes: &[Outcome], to_stderr: bool) {
    if outcomes.is_empty() {
        return;
    }
    let rows: Vec<Vec<String>> = outcomes
        .iter()
        .map(|o| {
            vec![
                o.stage.name().to_owned(),
                o.action.name().to_owned(),
                display::duration(o.seconds),
                display::duration(o.built_seconds),
                project.display(&o.folder).to_string(),
            ]
        })
        .collect();
    let text = display::table(
        &["stage", "result", "this run", "built in", "folder"],
        &rows,
    );
    if to_stderr {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_shows_accuracy_and_the_alphas_at_the_largest_l() {
        let summary = serde_json::json!({
            "test_accuracy": 0.8606,
            "table1_alpha": [
                {"metric": "faithfulness", "steps": null, "fill": "mean", "with_edge": true, "alpha": 0.18, "ci": [0.17, 0.2]},
                {"metric": "morf", "steps": 20, "fill": "mean", "with_edge": true, "alpha": 0.29, "ci": [0.27, 0.31]},
                {"metric": "morf", "steps": 100, "fill": "uniform", "with_edge": false, "alpha": null, "ci": [null, null]}
            ]
        });
        let lines = headline(&summary);
        assert_eq!(lines[0], "test accuracy: 86.06%");
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(
            lines[2].contains("faithfulness") && lines[2].contains("0.18 [0.17, 0.20]"),
            "{lines:?}"
        );
        assert!(
            lines[3].contains("AOPC morf L=100")
                && lines[3].contains("without edge")
                && lines[3].contains("n/a")
        );
    }

    #[test]
    fn until_selects_a_prefix() {
        assert_eq!(selected(Some(Stage::Data)), [Stage::Data]);
        assert_eq!(
            selected(Some(Stage::Attribute)),
            [Stage::Data, Stage::Train, Stage::Attribute]
        );
        assert_eq!(selected(None), Stage::ALL);
    }

    #[test]
    fn forcing_a_stage_forces_what_reads_it() {
        assert_eq!(
            forced(&[Stage::Train]),
            [
                Stage::Train,
                Stage::Attribute,
                Stage::Metrics,
                Stage::Stats,
                Stage::Sanity,
                Stage::Report
            ]
        );
        assert_eq!(forced(&[Stage::Stats]), [Stage::Stats, Stage::Report]);
        assert_eq!(forced(&[Stage::Data]), Stage::ALL);
        assert!(forced(&[]).is_empty());
    }
}
