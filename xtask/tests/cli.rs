//! The `xtask` binary: `SAL_BIN`, `--artifacts`, output, and config errors before any build.

mod support;

use std::process::{Command, Output};

use support::Fixture;

fn xtask(fx: &Fixture, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--artifacts")
        .arg(&fx.project.artifacts)
        .args(args)
        .env("SAL_BIN", &fx.bin)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn pipeline_with_sal_bin_runs_then_caches_and_path_prints_the_folder() {
    let fx = Fixture::new();
    let config = fx.config.to_str().unwrap();
    let first = xtask(&fx, &["pipeline", "--config", config, "--until", "train"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let stderr = text(&first.stderr);
    assert!(
        stderr.contains("xtask: data: ran in") && stderr.contains("xtask: train: ran in"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("building sal"),
        "SAL_BIN replaces the build: {stderr}"
    );
    let stdout = text(&first.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("data ") && l.contains(" ran ")),
        "{stdout}"
    );

    let second = xtask(&fx, &["pipeline", "--config", config, "--until", "train"]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    let stderr = text(&second.stderr);
    assert!(
        stderr.contains("xtask: data: cached") && stderr.contains("xtask: train: cached"),
        "{stderr}"
    );
    assert_eq!(fx.take_ran(), ["data", "train"]);

    let path = xtask(&fx, &["path", "train", "--config", config]);
    assert!(path.status.success(), "{}", text(&path.stderr));
    let folder = std::path::PathBuf::from(text(&path.stdout).trim());
    assert!(
        folder.starts_with(&fx.project.artifacts) && folder.join("model.safetensors").is_file(),
        "{folder:?}"
    );

    let status = xtask(&fx, &["status", "--config", config]);
    let stdout = text(&status.stdout);
    assert!(
        status.status.success()
            && stdout.contains("train      fresh")
            && stdout.contains("attribute  missing")
            && stdout.contains("random-label model (cached on its own): missing"),
        "{stdout}"
    );

    let missing = xtask(&fx, &["path", "attribute", "--config", config]);
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr).contains("--until attribute"),
        "{}",
        text(&missing.stderr)
    );
}

#[test]
fn a_bad_config_fails_before_any_build_naming_the_file_and_the_key() {
    let fx = Fixture::new();
    fx.set_config("[data]\nseed = 0\nsede = 1\n");
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "--artifacts",
            fx.project.artifacts.to_str().unwrap(),
            "pipeline",
            "--config",
            fx.config.to_str().unwrap(),
        ])
        .env_remove("SAL_BIN")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("test.toml") && stderr.contains("sede"),
        "{stderr}"
    );
    assert!(!stderr.contains("building sal"), "{stderr}");
    assert!(
        !fx.project.artifacts.exists(),
        "nothing is written for a bad config"
    );
}

#[test]
fn an_unknown_stage_is_refused_with_the_list() {
    let fx = Fixture::new();
    let out = xtask(&fx, &["pipeline", "--until", "stat"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("\"stat\"")
            && stderr.contains("data, train, attribute, metrics, stats, sanity, report"),
        "{stderr}"
    );
}
