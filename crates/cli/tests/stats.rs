//! `sal stats` from the built binary: the utilities on a user's safetensors file, and the stage
//! on synthetic inputs.

use std::path::Path;
use std::process::{Command, Output};

use sal_artifact::{ArtifactWriter, Kind, Meta};
use sal_psychometrics::synthetic::{Structure, Synthetic};
use serde_json::Value;

const NA: f64 = f64::NAN;

/// Krippendorff (2011), sections C and D: 4 observers x 12 units.
#[rustfmt::skip]
const RELIABILITY: [f64; 48] = [
    1.0, 2.0, 3.0, 3.0, 2.0, 1.0, 4.0, 1.0, 2.0, NA,  NA,  NA,
    1.0, 2.0, 3.0, 3.0, 2.0, 2.0, 4.0, 1.0, 2.0, 5.0, NA,  3.0,
    NA,  3.0, 3.0, 3.0, 2.0, 3.0, 4.0, 2.0, 2.0, 5.0, 1.0, NA,
    1.0, 2.0, 3.0, 3.0, 2.0, 4.0, 4.0, 1.0, 2.0, 5.0, 1.0, NA,
];

fn sal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sal"))
        .args(["-q"])
        .args(args)
        .output()
        .expect("running sal")
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "sal failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON object on stdout")
}

/// A safetensors file with the reliability matrix (f64 [4, 12]) and two f32 vectors.
fn user_file(dir: &Path) -> String {
    // Any safetensors file works; this one happens to be written by sal's own writer.
    let mut writer = ArtifactWriter::new(Meta::new(Kind::Stats, "user", serde_json::json!({})));
    writer.add("ratings", &[4, 12], &RELIABILITY).unwrap();
    writer
        .add("x", &[5], &[1.0f32, 2.0, 2.0, 3.0, f32::NAN])
        .unwrap();
    writer
        .add("y", &[5], &[10.0f32, 20.0, 30.0, 40.0, 50.0])
        .unwrap();
    let path = dir.join("user.safetensors");
    writer.write(&path).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn alpha_reproduces_the_published_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = user_file(dir.path());
    for (level, published) in [
        ("nominal", 0.743),
        ("ordinal", 0.815),
        ("interval", 0.849),
        ("ratio", 0.797),
    ] {
        let out = json_of(&sal(&[
            "stats", "alpha", "--input", &file, "--tensor", "ratings", "--level", level,
        ]));
        let alpha = out["alpha"].as_f64().unwrap();
        assert!((alpha - published).abs() < 5e-4, "{level}: {out}");
        assert_eq!(
            (
                out["coders"].as_u64(),
                out["units"].as_u64(),
                out["pairable_values"].as_u64()
            ),
            (Some(4), Some(12), Some(40))
        );
        assert!(out.get("ci").is_none());
    }
    let args = [
        "stats",
        "alpha",
        "--input",
        &file,
        "--tensor",
        "ratings",
        "--level",
        "interval",
        "--bootstrap",
        "300",
        "--ci",
        "0.9",
        "--seed",
        "5",
    ];
    let out = json_of(&sal(&args));
    let (lo, hi) = (
        out["ci"][0].as_f64().unwrap(),
        out["ci"][1].as_f64().unwrap(),
    );
    assert!(lo <= hi && hi <= 1.0, "{out}");
    assert_eq!(out["ci_level"], 0.9);
    assert_eq!(json_of(&sal(&args)), out, "same seed, same interval");
}

#[test]
fn spearman_drops_nan_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let file = user_file(dir.path());
    let out = json_of(&sal(&[
        "stats", "spearman", "--input", &file, "--x", "x", "--y", "y",
    ]));
    // x ranks (1, 2.5, 2.5, 4) against y ranks (1, 2, 3, 4): 4.5 / sqrt(4.5 * 5).
    assert!(
        (out["rho"].as_f64().unwrap() - 4.5 / (4.5f64 * 5.0).sqrt()).abs() < 1e-12,
        "{out}"
    );
    assert_eq!(out["n"], 4);
    let out = json_of(&sal(&[
        "stats",
        "spearman",
        "--input",
        &file,
        "--x",
        "x",
        "--y",
        "y",
        "--bootstrap",
        "50",
    ]));
    assert!(out["ci"].is_array(), "{out}");
}

#[test]
fn utility_errors_name_the_file_and_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let file = user_file(dir.path());
    let out = sal(&[
        "stats", "alpha", "--input", &file, "--tensor", "rating", "--level", "ordinal",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("user.safetensors") && stderr.contains("`rating`"),
        "{stderr}"
    );
    let out = sal(&[
        "stats", "alpha", "--input", &file, "--tensor", "x", "--level", "ordinal",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 dimension"));
    let out = sal(&[
        "stats", "alpha", "--input", &file, "--tensor", "ratings", "--level", "ordinall",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("ordinall"));
    let out = sal(&[
        "stats", "alpha", "--input", &file, "--tensor", "ratings", "--level", "ordinal", "--ci",
        "0.9",
    ]);
    assert!(!out.status.success(), "--ci without --bootstrap is refused");
}

#[test]
fn the_stage_runs_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (attribute, metrics, out) = (
        dir.path().join("attribute"),
        dir.path().join("metrics"),
        dir.path().join("out"),
    );
    std::fs::create_dir_all(&attribute).unwrap();
    std::fs::create_dir_all(&metrics).unwrap();
    Synthetic::paper_like(40, 20, Structure::Consistent, 7)
        .write(&attribute, &metrics)
        .unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "[stats]\nbootstrap = 30\n").unwrap();
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let args = [
        "stats",
        "--config",
        &path(&config),
        "--out",
        &path(&out),
        "--attribute",
        &path(&attribute),
        "--metrics",
        &path(&metrics),
    ];
    let run = sal(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("stats.json")).unwrap()).unwrap();
    assert_eq!(json["aopc_steps"], serde_json::json!([20]));
    assert!(json["reliability"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["alpha"] == 1.0));
    assert!(out.join("stats.safetensors").is_file());
    // The stage's arguments and a utility do not mix; the stage needs all four folders.
    let mixed = sal(&[
        "stats",
        "--config",
        &path(&config),
        "alpha",
        "--input",
        "x",
        "--tensor",
        "t",
        "--level",
        "ordinal",
    ]);
    assert!(!mixed.status.success());
    let partial = sal(&["stats", "--config", &path(&config), "--out", &path(&out)]);
    assert!(!partial.status.success());
    assert!(String::from_utf8_lossy(&partial.stderr).contains("--attribute"));
}
