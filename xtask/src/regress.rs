//! `cargo xtask regress [--refresh]`: recompute the downstream stages from committed golden
//! artifacts and compare them with the committed expected outputs.
//!
//! The fixtures live in `test-fixtures/golden/`: a config, a fixed trained model (`train/`), and
//! the expected output of every stage after `train` (`expected/<stage>/`), plus the blake3 of
//! the `dataset.safetensors` that `sal data` must write (the file itself is 184 MB, so it is
//! recomputed from the real CIFAR-10 instead of committed). Each stage is checked on its own:
//! it reads the *expected* outputs of the stages before it, so a difference points at the stage
//! that changed, not at everything downstream of it. `--refresh` runs the stages in a chain and
//! writes their outputs as the new expected files (review the diff, then commit them).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sal_artifact::Kind;
use sal_config::Stage;

use crate::compare::{self, Diff};
use crate::flags;
use crate::project::Project;
use crate::runner::{self, StageProgram};
use crate::sal::SalSource;

/// The fixtures folder, relative to the repository root.
pub const GOLDEN_DIR: &str = "test-fixtures/golden";
/// The expected blake3 of `dataset.safetensors`, relative to the fixtures folder.
const DATA_HASH_FILE: &str = "expected/data.blake3";
/// The report file compared (report.md and report.html hold machine-dependent lines:
/// thread count, wall times).
const REPORT_SUMMARY: &str = "summary.json";

/// The files of a recomputed stage that are compared: (path in the stage's output folder,
/// name in `expected/<stage>/`).
fn compared_files(stage: Stage) -> Vec<(String, String)> {
    let same = |name: String| (name.clone(), name);
    match stage {
        Stage::Attribute => vec![same(Kind::Saliency.file_name())],
        Stage::Metrics => vec![same(Kind::Metrics.file_name())],
        Stage::Stats => vec![same(Kind::Stats.file_name()), same("stats.json".to_owned())],
        Stage::Report => vec![(
            format!("report/{REPORT_SUMMARY}"),
            REPORT_SUMMARY.to_owned(),
        )],
        // `sanity` is not recomputed by `regress` (no golden files; CI runs it on ci.toml).
        Stage::Data | Stage::Train | Stage::Sanity => Vec::new(),
    }
}

const RECOMPUTED: [Stage; 4] = [
    Stage::Attribute,
    Stage::Metrics,
    Stage::Stats,
    Stage::Report,
];

/// Runs the regression check (or refreshes the expected files).
pub fn run(project: &Project, flags: &flags::Regress, sal: &SalSource) -> anyhow::Result<()> {
    let golden = project.root.join(GOLDEN_DIR);
    let config = golden.join("config.toml");
    project.load_config(&config)?;
    let program = StageProgram::Sal {
        program: sal.resolve(project)?,
        cwd: project.root.clone(),
    };
    let work = project.artifacts.join(".regress");
    if work.exists() {
        fs_err::remove_dir_all(&work)?;
    }
    let out = |stage: Stage| work.join(stage.name());
    // Where a stage reads its inputs from: the golden model for `train`, the fresh dataset for
    // `data`, and for the others the expected files (check) or the fresh outputs (refresh).
    let input = |stage: Stage| -> PathBuf {
        match stage {
            Stage::Data => out(Stage::Data),
            Stage::Train => golden.join("train"),
            other if flags.refresh => out(other),
            other => golden.join("expected").join(other.name()),
        }
    };

    let mut failures: Vec<(String, Diff)> = Vec::new();
    run_one(&program, Stage::Data, &config, &out(Stage::Data), &[])?;
    let dataset = out(Stage::Data).join(Kind::Dataset.file_name());
    let hash = blake3::hash(&fs_err::read(&dataset)?).to_hex().to_string();
    let hash_file = golden.join(DATA_HASH_FILE);
    if !flags.refresh {
        let expected = fs_err::read_to_string(&hash_file)?.trim().to_owned();
        if expected != hash {
            failures.push((
                format!("data/{}", Kind::Dataset.file_name()),
                Diff {
                    lines: vec![format!("blake3: expected {expected}, got {hash}")],
                },
            ));
        }
    }

    for stage in RECOMPUTED {
        // The golden fixtures predate the `sanity` stage: the report is checked without it.
        let inputs: Vec<(Stage, PathBuf)> = stage
            .inputs()
            .iter()
            .filter(|&&s| s != Stage::Sanity)
            .map(|&s| (s, input(s)))
            .collect();
        run_one(&program, stage, &config, &out(stage), &inputs)?;
        if flags.refresh {
            continue;
        }
        for (file, expected_name) in compared_files(stage) {
            let expected = golden
                .join("expected")
                .join(stage.name())
                .join(&expected_name);
            let got = out(stage).join(&file);
            let diff = if file.ends_with(".json") {
                compare::json_files(&expected, &got)?
            } else {
                compare::safetensors(&expected, &got)?
            };
            let name = format!("{stage}/{expected_name}");
            if diff.is_empty() {
                eprintln!("xtask: regress: {name}: same as the golden file");
            } else {
                failures.push((name, diff));
            }
        }
    }

    if flags.refresh {
        refresh(&golden, &hash, &out)?;
        eprintln!(
            "xtask: regress: wrote the new expected files into {} (review `git diff --stat {GOLDEN_DIR}`, then commit them)",
            project.display(&golden)
        );
        return Ok(());
    }
    if failures.is_empty() {
        eprintln!("xtask: regress: every recomputed stage matches the golden files");
        return Ok(());
    }
    for (name, diff) in &failures {
        eprintln!("xtask: regress: {name} differs from the golden file:");
        for line in &diff.lines {
            eprintln!("  {line}");
        }
    }
    bail!(
        "{} file(s) differ from {GOLDEN_DIR}/expected (outputs kept in {}); if the change is \
         intended, run `cargo xtask regress --refresh` and commit the new golden files",
        failures.len(),
        project.display(&work)
    )
}

fn run_one(
    program: &StageProgram,
    stage: Stage,
    config: &Path,
    out: &Path,
    inputs: &[(Stage, PathBuf)],
) -> anyhow::Result<()> {
    fs_err::create_dir_all(out)?;
    eprintln!("xtask: regress: running {stage}");
    runner::run_stage(program, stage, config, out, inputs, &[])?;
    runner::check_outputs(stage, out, program)
}

/// Copies the fresh outputs over the expected ones.
fn refresh(golden: &Path, data_hash: &str, out: &dyn Fn(Stage) -> PathBuf) -> anyhow::Result<()> {
    sal_artifact::write_atomic(
        &golden.join(DATA_HASH_FILE),
        format!("{data_hash}\n").as_bytes(),
    )?;
    for stage in RECOMPUTED {
        for (file, expected_name) in compared_files(stage) {
            let target = golden
                .join("expected")
                .join(stage.name())
                .join(&expected_name);
            let bytes = fs_err::read(out(stage).join(&file))?;
            sal_artifact::write_atomic(&target, &bytes)
                .with_context(|| format!("refreshing {}", target.display()))?;
        }
    }
    Ok(())
}
