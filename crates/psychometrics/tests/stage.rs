//! The `stats` stage end to end on synthetic saliency + metrics files with known structure.

use std::path::Path;

use sal_artifact::{Artifact, Kind};
use sal_config::Config;
use sal_psychometrics::synthetic::{Structure, Synthetic};
use sal_psychometrics::{run_with, Options, StatsError};
use serde_json::Value;

const QUIET: Options = Options { progress: false };

fn config(bootstrap: usize) -> Config {
    let mut config = Config::default();
    config.stats.bootstrap = bootstrap;
    config
}

/// Writes a synthetic pair into `dir/attribute` and `dir/metrics`, runs the stage into `dir/out`.
fn run_stage(dir: &Path, synthetic: &Synthetic, config: &Config) -> Value {
    let (attribute, metrics, out) = (dir.join("attribute"), dir.join("metrics"), dir.join("out"));
    fs_err::create_dir_all(&attribute).unwrap();
    fs_err::create_dir_all(&metrics).unwrap();
    synthetic.write(&attribute, &metrics).unwrap();
    let outputs = run_with(config, &attribute, &metrics, &out, &QUIET).unwrap();
    assert_eq!(outputs.images, synthetic.images);
    serde_json::from_str(&fs_err::read_to_string(&outputs.json).unwrap()).unwrap()
}

fn rows<'a>(json: &'a Value, key: &str) -> &'a Vec<Value> {
    json[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is not an array"))
}

#[test]
fn consistent_rankings_give_alpha_one_and_known_scores() {
    let dir = tempfile::tempdir().unwrap();
    let synthetic = Synthetic::paper_like(60, 100, Structure::Consistent, 1);
    let json = run_stage(dir.path(), &synthetic, &config(50));

    assert_eq!(json["aopc_steps"], serde_json::json!([20, 40, 60, 80, 100]));
    let reliability = rows(&json, "reliability");
    // 2 fills x (F + 4 curve metrics (AOPC MoRF, LeRF, SRG, AUC_MoRF) x 5 L) x 2 subsets.
    assert_eq!(reliability.len(), 2 * 21 * 2);
    for metric in ["srg", "auc_morf"] {
        assert_eq!(
            reliability.iter().filter(|r| r["metric"] == metric).count(),
            2 * 5 * 2,
            "{metric} has its Table 1 rows (with and without edge)"
        );
    }
    for row in reliability {
        assert_eq!(row["alpha"], 1.0, "{row}");
        assert_eq!(row["alpha_ci"], serde_json::json!([1.0, 1.0]), "{row}");
        let ranks: Vec<f64> = row["mean_rank"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let expected: Vec<f64> = (1..=ranks.len()).map(|r| r as f64).collect();
        assert_eq!(ranks, expected, "method 0 is best on every image: {row}");
    }
    // AOPC_l = p0 d l / (2 L): the global means of MoRF L=100 are mean(p0) d / 2 with d = 0.9 - 0.16 m.
    let attribute = Artifact::open(
        &dir.path().join("metrics/metrics.safetensors"),
        Kind::Metrics,
    )
    .unwrap();
    let p0 = attribute.read::<f64>("p0", &[60]).unwrap();
    let mean_p0 = p0.iter().sum::<f64>() / 60.0;
    for row in rows(&json, "global") {
        if row["metric"] == "aopc_morf" && row["steps"] == 100 {
            let m = synthetic
                .methods
                .iter()
                .position(|x| row["method"] == x.as_str())
                .unwrap();
            let expected = mean_p0 * (0.9 - 0.16 * m as f64) / 2.0;
            let mean = row["mean"].as_f64().unwrap();
            assert!((mean - expected).abs() < 1e-5, "{row}: expected {expected}");
            let ci: Vec<f64> = row["ci"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            assert!(ci[0] <= mean && mean <= ci[1], "{row}");
        }
        // The newer metrics on the lines d[k] = p0 d k / L (L = 100), worked by hand:
        // SRG_100 = AOPC_MoRF - AOPC_LeRF = p0 (d_MoRF - d_LeRF) / 2 with d_LeRF = 0.1 + 0.16 m;
        // AUC_100 = trapz of f_k = p0 (1 - d k / L), k = 1..L
        //         = p0 (L - d (L+1)/2) - p0 (2 - d/L - d)/2 = p0 (99 - 49.995 d).
        if row["steps"] == 100 && (row["metric"] == "srg" || row["metric"] == "auc_morf") {
            let m = synthetic
                .methods
                .iter()
                .position(|x| row["method"] == x.as_str())
                .unwrap() as f64;
            let (morf, lerf) = (0.9 - 0.16 * m, 0.1 + 0.16 * m);
            let expected = if row["metric"] == "srg" {
                mean_p0 * (morf - lerf) / 2.0
            } else {
                mean_p0 * (99.0 - 49.995 * morf)
            };
            let mean = row["mean"].as_f64().unwrap();
            assert!((mean - expected).abs() < 1e-9, "{row}: expected {expected}");
        }
        if row["metric"] == "faithfulness" {
            let m = synthetic
                .methods
                .iter()
                .position(|x| row["method"] == x.as_str())
                .unwrap();
            assert!(
                (row["mean"].as_f64().unwrap() - (0.9 - 0.3 * m as f64)).abs() < 1e-6,
                "{row}"
            );
        }
    }
    // The random baseline: orderings have slopes 0.3, 0.4, 0.5, 0.6, so at L = 100 the
    // per-ordering means are mean(p0) d / 2 and their mean is mean(p0) 0.45 / 2.
    for row in rows(&json, "random_baseline") {
        if row["steps"] == 100 {
            assert!(
                (row["mean"].as_f64().unwrap() - mean_p0 * 0.45 / 2.0).abs() < 1e-5,
                "{row}"
            );
            assert_eq!(row["orderings"], 4);
        }
    }
    // Breakdowns: 10 labels and 2 confidence groups that partition the images.
    let groups = rows(&json, "groups");
    assert_eq!(groups.len(), 12);
    assert_eq!(
        groups[10]["images"].as_u64().unwrap() + groups[11]["images"].as_u64().unwrap(),
        60
    );
    assert!(groups.iter().all(|g| g["alpha"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["alpha"] == 1.0)));
}

#[test]
fn random_scores_give_alpha_near_zero_and_count_nan_faithfulness() {
    let dir = tempfile::tempdir().unwrap();
    let synthetic = Synthetic::paper_like(400, 20, Structure::Random, 2);
    let json = run_stage(dir.path(), &synthetic, &config(200));
    for row in rows(&json, "reliability") {
        let alpha = row["alpha"].as_f64().unwrap();
        assert!(alpha.abs() < 0.05, "{row}");
        let ci: Vec<f64> = row["alpha_ci"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert!(ci[0] <= alpha && alpha <= ci[1], "{row}");
        // Faithfulness is drawn independently per method; AOPC = p0 d l / (2 L) shares the
        // image's p0 across methods, a correlation of about 0.1 for p0 ~ U(0.5, 1), d ~ U(0, 1).
        // SRG = p0 (d_MoRF - d_LeRF) l / (2 L) has mean 0 given p0: no shared part either.
        // The AUC carries p0 itself, (L - 1) p0 minus the drops' part: methods correlate
        // through p0 (about 0.5 for these uniform draws).
        let rho = row["inter_method_rho"].as_f64().unwrap();
        match row["metric"].as_str().unwrap() {
            "faithfulness" | "srg" => assert!(rho.abs() < 0.05, "{row}"),
            "auc_morf" => assert!(rho > 0.3 && rho < 0.7, "{row}"),
            _ => assert!(rho > 0.02 && rho < 0.2, "{row}"),
        }
    }
    // NaN faithfulness: counted, left out of means and ranks (missing values of alpha).
    let metrics = Artifact::open(
        &dir.path().join("metrics/metrics.safetensors"),
        Kind::Metrics,
    )
    .unwrap();
    for row in rows(&json, "faithfulness_nan") {
        let f = metrics
            .read::<f32>(
                &format!(
                    "faithfulness.{}.{}",
                    row["method"].as_str().unwrap(),
                    row["fill"].as_str().unwrap()
                ),
                &[400],
            )
            .unwrap();
        let expected = f.iter().filter(|v| v.is_nan()).count();
        assert!(expected > 0);
        assert_eq!(row["count"].as_u64().unwrap() as usize, expected);
    }
    let faithfulness_all = rows(&json, "reliability")
        .iter()
        .find(|r| r["metric"] == "faithfulness" && r["subset"] == "all" && r["fill"] == "mean")
        .unwrap();
    assert!(faithfulness_all["missing"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m.as_u64().unwrap() > 0));
}

#[test]
fn aopc_steps_beyond_the_curves_are_skipped_and_outputs_are_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let synthetic = Synthetic::paper_like(30, 20, Structure::Random, 3);
    let json = run_stage(dir.path(), &synthetic, &config(20));
    assert_eq!(json["aopc_steps"], serde_json::json!([20]));
    assert_eq!(
        json["skipped_aopc_steps"],
        serde_json::json!([40, 60, 80, 100])
    );
    assert_eq!(json["consistency_steps"], 20);
    let out = dir.path().join("out");
    let first = (
        fs_err::read(out.join("stats.safetensors")).unwrap(),
        fs_err::read(out.join("stats.json")).unwrap(),
    );
    let again = dir.path().join("again");
    run_with(
        &config(20),
        &dir.path().join("attribute"),
        &dir.path().join("metrics"),
        &again,
        &QUIET,
    )
    .unwrap();
    assert_eq!(
        fs_err::read(again.join("stats.safetensors")).unwrap(),
        first.0,
        "stats.safetensors differs between runs"
    );
    assert_eq!(
        fs_err::read(again.join("stats.json")).unwrap(),
        first.1,
        "stats.json differs between runs"
    );
}

#[test]
fn tensors_match_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let synthetic = Synthetic::paper_like(50, 100, Structure::Random, 4);
    let json = run_stage(dir.path(), &synthetic, &config(30));
    let stats = Artifact::open(&dir.path().join("out/stats.safetensors"), Kind::Stats).unwrap();
    assert_eq!(stats.meta().inputs.len(), 2);
    assert_eq!(stats.meta().extra["methods"], json["methods"]);
    let (m, k) = (5, 5);
    assert_eq!(
        stats.read::<u32>("aopc_steps", &[k]).unwrap(),
        [20, 40, 60, 80, 100]
    );
    // alpha.aopc_lerf.uniform.without_edge [K, 3], row for L = 60.
    let alpha = stats
        .read::<f64>("alpha.aopc_lerf.uniform.without_edge", &[k, 3])
        .unwrap();
    let row = rows(&json, "reliability")
        .iter()
        .find(|r| {
            r["metric"] == "aopc_lerf"
                && r["fill"] == "uniform"
                && r["subset"] == "without_edge"
                && r["steps"] == 60
        })
        .unwrap();
    // serde_json's default float parser may be 1 ulp off the written value.
    let same = |a: f64, b: &Value| (a - b.as_f64().unwrap()).abs() <= 1e-15 * a.abs().max(1.0);
    assert!(
        same(alpha[2 * 3], &row["alpha"]),
        "{} vs {}",
        alpha[6],
        row["alpha"]
    );
    assert!(same(alpha[2 * 3 + 1], &row["alpha_ci"][0]));
    assert_eq!(
        stats
            .read::<f64>("mean_rank.aopc_lerf.uniform.without_edge", &[k, 4])
            .unwrap()
            .len(),
        20
    );
    // spearman.faithfulness.mean [M, M]: symmetric with a unit diagonal.
    let s = stats
        .read::<f64>("spearman.faithfulness.mean", &[m, m])
        .unwrap();
    for a in 0..m {
        assert_eq!(s[a * m + a], 1.0);
        for b in 0..m {
            assert_eq!(s[a * m + b], s[b * m + a]);
        }
    }
    // global.faithfulness.mean [M, 7]: the mean of method 2.
    let g = stats
        .read::<f64>("global.faithfulness.mean", &[m, 7])
        .unwrap();
    let row = rows(&json, "global")
        .iter()
        .find(|r| {
            r["metric"] == "faithfulness" && r["fill"] == "mean" && r["method"] == "deep_taylor"
        })
        .unwrap();
    assert!(same(g[2 * 7], &row["mean"]));
    assert_eq!(
        stats
            .read::<f64>("global.aopc_morf.uniform", &[k, m, 7])
            .unwrap()
            .len(),
        k * m * 7
    );
    assert_eq!(
        stats
            .read::<f64>("group.aopc_morf.mean", &[12, k, m, 3])
            .unwrap()
            .len(),
        12 * k * m * 3
    );
    assert_eq!(
        stats
            .read::<f64>("group.alpha.faithfulness.mean.all", &[12])
            .unwrap()
            .len(),
        12
    );
    assert_eq!(
        stats
            .read::<u32>("group.images", &[12])
            .unwrap()
            .iter()
            .sum::<u32>(),
        2 * 50
    );
    assert_eq!(
        stats
            .read::<f64>("consistency.aopc_morf_fills.mean.uniform", &[m])
            .unwrap()
            .len(),
        m
    );
    assert_eq!(
        stats.read::<f64>("random.mean", &[k, 5]).unwrap().len(),
        k * 5
    );
    assert_eq!(
        stats
            .read::<f64>("inter_method.faithfulness.mean.all", &[])
            .unwrap()
            .len(),
        1
    );
    // The newer metrics' tensors, by the same names as the paper's.
    assert_eq!(
        stats
            .read::<f64>("alpha.srg.mean.without_edge", &[k, 3])
            .unwrap()
            .len(),
        k * 3
    );
    assert_eq!(
        stats
            .read::<f64>("global.auc_morf.uniform", &[k, m, 7])
            .unwrap()
            .len(),
        k * m * 7
    );
    assert_eq!(
        stats
            .read::<f64>("spearman.srg.uniform", &[k, m, m])
            .unwrap()
            .len(),
        k * m * m
    );
    assert_eq!(
        stats
            .read::<f64>("group.alpha.auc_morf.mean.all", &[12, k])
            .unwrap()
            .len(),
        12 * k
    );
    for name in [
        "consistency.faithfulness_vs_srg.mean",
        "consistency.aopc_morf_vs_auc_morf.uniform",
        "consistency.srg_fills.mean.uniform",
        "consistency.auc_morf_fills.mean.uniform",
    ] {
        assert_eq!(stats.read::<f64>(name, &[m]).unwrap().len(), m, "{name}");
    }
    assert_eq!(
        stats.meta().extra["metrics"],
        serde_json::json!(["faithfulness", "aopc_morf", "aopc_lerf", "srg", "auc_morf"])
    );
    let metrics = rows(&json, "metrics");
    assert_eq!(metrics.len(), 5);
    assert_eq!(metrics[3]["name"], "srg");
    assert_eq!(metrics[3]["direction"], "descending");
    assert_eq!(metrics[3]["in_paper"], false);
    assert_eq!(metrics[4]["direction"], "ascending");
    assert_eq!(metrics[0]["steps"], false);
    // Table 2: the paper's 3 within-fill pairs and 2 new ones per fill, then 5 metrics across
    // the one pair of fills; one row per method each.
    let consistency = rows(&json, "consistency");
    assert_eq!(consistency.len(), (2 * (3 + 2) + 5) * m);
    let comparisons: Vec<&str> = consistency
        .iter()
        .step_by(m)
        .map(|c| c["comparison"].as_str().unwrap())
        .collect();
    assert_eq!(
        comparisons[..5],
        [
            "faithfulness_vs_aopc_morf",
            "faithfulness_vs_aopc_lerf",
            "aopc_morf_vs_aopc_lerf",
            "faithfulness_vs_srg",
            "aopc_morf_vs_auc_morf"
        ]
    );
    assert!(stats.names().all(|name| !name.is_empty()));
}

#[test]
fn mismatched_images_and_missing_tensors_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (attribute, metrics) = (dir.path().join("attribute"), dir.path().join("metrics"));
    fs_err::create_dir_all(&attribute).unwrap();
    fs_err::create_dir_all(&metrics).unwrap();
    Synthetic::paper_like(20, 10, Structure::Random, 5)
        .write(&attribute, &metrics)
        .unwrap();
    // Metrics of other images (30 instead of 20).
    let other = dir.path().join("other");
    fs_err::create_dir_all(&other).unwrap();
    Synthetic::paper_like(30, 10, Structure::Random, 5)
        .write(&other, &metrics)
        .unwrap();
    let err = run_with(
        &config(10),
        &attribute,
        &metrics,
        &dir.path().join("out"),
        &QUIET,
    )
    .unwrap_err();
    assert!(matches!(err, StatsError::BadInput { .. }), "{err}");
    assert!(
        err.to_string().contains("metrics.safetensors") && err.to_string().contains("image_index"),
        "{err}"
    );
    // A method without metrics: the saliency file names 6 methods.
    let mut six = Synthetic::paper_like(30, 10, Structure::Random, 5);
    six.methods.push("extra".to_owned());
    six.write(&attribute, &other).unwrap();
    let err = run_with(
        &config(10),
        &attribute,
        &metrics,
        &dir.path().join("out"),
        &QUIET,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("metrics.safetensors") && err.contains("drop.extra.morf.mean"),
        "{err}"
    );
    assert!(
        !dir.path().join("out/stats.json").exists(),
        "no output after a failure"
    );
}
