//! The `stats` stage on a case small enough to solve by hand: 4 images, 3 methods, one fill,
//! L = 2, R = 5. Every pinned number below is worked out in the comments from the inputs.

use std::path::Path;

use sal_artifact::names::{metrics as mn, saliency as sn};
use sal_artifact::{ArtifactWriter, Kind, Meta};
use sal_config::Config;
use sal_psychometrics::{run_with, Options};
use serde_json::{json, Value};

const METHODS: [&str; 3] = ["a", "b", "edge"];

/// AOPC_2 of each method on images 0..4 (MoRF), chosen without ties:
/// ranks over images: a (1, 2, 3, 4), b (4, 1, 2, 3), edge (2, 3, 1, 4).
const MORF: [[f64; 4]; 3] = [
    [0.1, 0.2, 0.3, 0.4],
    [0.4, 0.1, 0.2, 0.3],
    [0.2, 0.3, 0.1, 0.5],
];
/// LeRF: a increasing (ranks 1..4, like its MoRF), b decreasing, edge (3, 1, 4, 2).
const LERF: [[f64; 4]; 3] = [
    [0.05, 0.06, 0.07, 0.08],
    [0.09, 0.07, 0.05, 0.03],
    [0.3, 0.1, 0.4, 0.2],
];
/// F: a ranks (4, 1, 3, 2).
const F: [[f32; 4]; 3] = [
    [0.5, 0.1, 0.3, 0.2],
    [0.2, 0.6, 0.1, 0.4],
    [0.0, 0.1, 0.2, 0.3],
];
/// f(x) of each image (`p0`), for the AUC.
const P0: [f64; 4] = [0.9, 0.95, 0.7, 0.99];
/// AOPC_2 of each random ordering, averaged over images.
const RANDOM: [f64; 5] = [0.3, 0.1, 0.5, 0.2, 0.4];

/// A drop curve with AOPC_1 = 0 and AOPC_2 = v: drops (0, 0, 3v).
fn curve(v: f64) -> [f64; 3] {
    [0.0, 0.0, 3.0 * v]
}

fn write_inputs(attribute: &Path, metrics: &Path) {
    let n = 4;
    let index: Vec<u32> = vec![3, 10, 21, 30];
    let mut s = ArtifactWriter::new(Meta::new(
        Kind::Saliency,
        "attribute",
        json!({ "methods": METHODS }),
    ));
    s.add(sn::IMAGE_INDEX, &[n], &index).unwrap();
    s.add(sn::LABEL, &[n], &[0u8, 1, 2, 3]).unwrap();
    s.add(sn::PREDICTED, &[n], &[0u8, 1, 2, 3]).unwrap();
    s.add(sn::CONFIDENCE, &[n], &[0.9f32, 0.95, 0.7, 0.99])
        .unwrap();
    for (m, method) in METHODS.iter().enumerate() {
        let map: Vec<f32> = (0..n * 1024).map(|p| ((p + m) % 7) as f32).collect();
        s.add(&sn::map(method), &[n, 32, 32], &map).unwrap();
    }
    fs_err::create_dir_all(attribute).unwrap();
    s.write(&attribute.join(Kind::Saliency.file_name()))
        .unwrap();

    let mut w = ArtifactWriter::new(Meta::new(
        Kind::Metrics,
        "metrics",
        json!({ "fills": ["mean"], "steps": 2 }),
    ));
    w.add(mn::IMAGE_INDEX, &[n], &index).unwrap();
    w.add(mn::P0, &[n], &P0).unwrap();
    for (m, method) in METHODS.iter().enumerate() {
        for (order, values) in [("morf", &MORF[m]), ("lerf", &LERF[m])] {
            let drops: Vec<f64> = values.iter().flat_map(|&v| curve(v)).collect();
            w.add(&mn::drop(method, order, "mean"), &[n, 3], &drops)
                .unwrap();
        }
        w.add(&mn::faithfulness(method, "mean"), &[n], &F[m])
            .unwrap();
    }
    let mean: Vec<f64> = (0..n).flat_map(|_| curve(0.3)).collect();
    w.add(&mn::random_mean_drop("mean"), &[n, 3], &mean)
        .unwrap();
    let per_ordering: Vec<f64> = RANDOM.iter().flat_map(|&v| [0.0, 0.0, v]).collect();
    w.add(&mn::random_aopc("mean"), &[5, 3], &per_ordering)
        .unwrap();
    fs_err::create_dir_all(metrics).unwrap();
    w.write(&metrics.join(Kind::Metrics.file_name())).unwrap();
}

fn stats() -> Value {
    let dir = tempfile::tempdir().unwrap();
    let (attribute, metrics) = (dir.path().join("attribute"), dir.path().join("metrics"));
    write_inputs(&attribute, &metrics);
    let mut config = Config::default();
    config.stats.aopc_steps = vec![2];
    config.stats.bootstrap = 20;
    let out = run_with(
        &config,
        &attribute,
        &metrics,
        &dir.path().join("out"),
        &Options { progress: false },
    )
    .unwrap();
    serde_json::from_str(&fs_err::read_to_string(&out.json).unwrap()).unwrap()
}

fn close(got: &Value, want: f64) {
    let got = got.as_f64().unwrap_or(f64::NAN);
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
}

#[test]
fn inter_method_rho_table2_and_random_interval_equal_hand_computed_values() {
    let json = stats();
    // Spearman with n = 4 and no ties: rho = 1 - 6 sum d^2 / (n (n^2 - 1)) = 1 - sum d^2 / 10.
    // MoRF: a-b d = (-3, 1, 1, 1), sum 12: -0.2; a-edge d = (-1, -1, 2, 0), sum 6: 0.4;
    // b-edge d = (2, -2, 1, -1), sum 10: 0.0. Mean with edge 0.2 / 3, without edge -0.2.
    let reliability = json["reliability"].as_array().unwrap();
    let find = |metric: &str, subset: &str| {
        reliability
            .iter()
            .find(|r| r["metric"] == metric && r["subset"] == subset && r["fill"] == "mean")
            .unwrap_or_else(|| panic!("{metric} {subset}"))
    };
    let all = find("aopc_morf", "all");
    close(&all["inter_method_rho"], 0.2 / 3.0);
    let pairs = all["pairs"].as_array().unwrap();
    let pair = |a: &str, b: &str| {
        &pairs
            .iter()
            .find(|p| p["a"] == a && p["b"] == b)
            .unwrap_or_else(|| panic!("pair {a} {b}: {pairs:?}"))["rho"]
    };
    close(pair("a", "b"), -0.2);
    close(pair("a", "edge"), 0.4);
    close(pair("b", "edge"), 0.0);
    close(&find("aopc_morf", "without_edge")["inter_method_rho"], -0.2);
    // LeRF ranks: a (1, 2, 3, 4), b (4, 3, 2, 1), edge (3, 1, 4, 2): a-b -1; a-edge d = (-2, 1,
    // -1, 2), sum 10: 0; b-edge d = (1, 2, -2, -1), sum 10: 0. Mean -1/3.
    close(&find("aopc_lerf", "all")["inter_method_rho"], -1.0 / 3.0);

    // Table 2, method a: F ranks (4, 1, 3, 2) vs MoRF (1, 2, 3, 4): d = (3, -1, 0, -2), sum 14:
    // -0.4; vs LeRF the same: -0.4; MoRF vs LeRF identical ranks: 1. Method b: MoRF (4, 1, 2, 3)
    // vs LeRF (4, 3, 2, 1): d = (0, -2, 0, 2), sum 8: 0.2.
    let consistency = json["consistency"].as_array().unwrap();
    let rho = |method: &str, comparison: &str| {
        &consistency
            .iter()
            .find(|c| c["method"] == method && c["comparison"] == comparison)
            .unwrap_or_else(|| panic!("{method} {comparison}"))["rho"]
    };
    close(rho("a", "faithfulness_vs_aopc_morf"), -0.4);
    close(rho("a", "faithfulness_vs_aopc_lerf"), -0.4);
    close(rho("a", "aopc_morf_vs_aopc_lerf"), 1.0);
    close(rho("b", "aopc_morf_vs_aopc_lerf"), 0.2);

    // Random baseline at L = 2: mean of (0.3, 0.1, 0.5, 0.2, 0.4) = 0.3; type-7 percentiles of
    // the sorted (0.1, ..., 0.5): 2.5% at h = 4 x 0.025 = 0.1 -> 0.11, 97.5% at h = 3.9 -> 0.49.
    let random = json["random_baseline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["steps"] == 2)
        .unwrap();
    close(&random["mean"], 0.3);
    close(&random["interval"][0], 0.11);
    close(&random["interval"][1], 0.49);

    // SRG_2 = AOPC_MoRF_2 - AOPC_LeRF_2 (drops (0, 0, 3v)): a (0.05, 0.14, 0.23, 0.32), mean
    // 0.185; b (0.31, 0.03, 0.15, 0.27). F vs SRG, method b: F ranks (2, 4, 1, 3), SRG ranks
    // (4, 1, 2, 3): d = (-2, 3, -1, 0), sum 14: -0.4.
    // AUC_2 = trapezoid over f after steps 1, 2 = (p0 + (p0 - 3 v)) / 2 = p0 - 1.5 v: method a
    // (0.75, 0.65, 0.25, 0.39), mean 0.51, ranks (4, 3, 1, 2); against its MoRF ranks
    // (1, 2, 3, 4): d = (-3, -1, 2, 2), sum 18: -0.8 (not -1: f(x) differs between images).
    let global = |method: &str, metric: &str| {
        &json["global"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["method"] == method && g["metric"] == metric && g["steps"] == 2)
            .unwrap_or_else(|| panic!("{method} {metric}"))["mean"]
    };
    close(global("a", "srg"), 0.185);
    close(global("a", "auc_morf"), 0.51);
    close(rho("b", "faithfulness_vs_srg"), -0.4);
    close(rho("a", "aopc_morf_vs_auc_morf"), -0.8);
    // Rank 1 = best: lower AUC is better, so on image 2 (a 0.25, b 0.7 - 0.3 = 0.4, edge
    // 0.7 - 0.15 = 0.55) a is first.
    let auc = find("auc_morf", "all");
    assert!(auc["mean_rank"].as_array().unwrap().len() == 3);
}
