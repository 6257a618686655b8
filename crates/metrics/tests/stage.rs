//! The stage end to end on tiny inputs: contents, resume after a kill, shards + merge, all
//! byte-identical to an uninterrupted run.

mod common;

use std::path::{Path, PathBuf};

use sal_artifact::{Artifact, Kind};
use sal_metrics::{merge, run_with_classifier, Inputs, Options, ShardSpec};

fn run(
    config: &sal_config::Config,
    inputs: &Inputs,
    out: &Path,
    options: &Options,
) -> sal_metrics::Outputs {
    let mut model = common::Linear::random(10, 7);
    run_with_classifier(config, inputs, out, options, &mut model).unwrap()
}

fn fixture() -> (tempfile::TempDir, Inputs) {
    let dir = tempfile::tempdir().unwrap();
    let inputs = common::write_inputs(dir.path(), &mut common::Linear::random(10, 7));
    (dir, inputs)
}

fn bytes(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join("metrics.safetensors")).unwrap()
}

#[test]
fn writes_every_tensor_with_its_shape() {
    let (dir, inputs) = fixture();
    let config = common::config();
    let out = dir.path().join("out");
    let outputs = run(&config, &inputs, &out, &Options::default());
    assert_eq!(
        outputs.path.as_deref(),
        Some(out.join("metrics.safetensors").as_path())
    );
    assert_eq!(
        (
            outputs.images,
            outputs.computed_images,
            outputs.resumed_images
        ),
        (10, 10, 0)
    );
    assert!(
        !out.join("checkpoint").exists(),
        "the checkpoint folder is removed at the end"
    );
    let a = Artifact::open(&out.join("metrics.safetensors"), Kind::Metrics).unwrap();
    let (n, l, r, p) = (10, 5, 3, 16);
    // Saturation counters, each the f32 and the f64 way: p0, 2 fills, 3 methods x 2 fills,
    // 3 x 2 orders x 2 fills.
    let saturation_columns = 2 * (1 + 2 + 6 + 12);
    let mut expected: Vec<(String, Vec<usize>)> = vec![
        ("image_index".into(), vec![n]),
        ("predicted".into(), vec![n]),
        ("p0".into(), vec![n]),
        ("q0".into(), vec![n]),
        ("saturation".into(), vec![n, saturation_columns]),
        ("random_orders".into(), vec![r, 1024]),
        ("faithfulness_pixels".into(), vec![p]),
        ("fill_image.uniform".into(), vec![n, 3, 32, 32]),
    ];
    // Methods in the saliency metadata's order.
    for m in ["beta", "alpha", "flat"] {
        for o in ["morf", "lerf"] {
            expected.push((format!("order.{m}.{o}"), vec![n, l]));
            for f in ["mean", "uniform"] {
                expected.push((format!("drop.{m}.{o}.{f}"), vec![n, l + 1]));
            }
        }
        for f in ["mean", "uniform"] {
            expected.push((format!("faithfulness.{m}.{f}"), vec![n]));
        }
    }
    for f in ["mean", "uniform"] {
        expected.push((format!("drop.random_mean.{f}"), vec![n, l + 1]));
        expected.push((format!("aopc.random.{f}"), vec![r, l + 1]));
        expected.push((format!("delta.{f}"), vec![n, p]));
    }
    let mut names: Vec<&str> = a.names().collect();
    names.sort_unstable();
    let mut want: Vec<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    want.sort_unstable();
    assert_eq!(names, want, "no drop.random.* unless store_random_curves");
    for (name, shape) in &expected {
        assert_eq!(a.shape(name).unwrap(), shape.as_slice(), "{name}");
    }
    let meta = a.meta();
    assert_eq!(
        meta.extra["methods"],
        serde_json::json!(["beta", "alpha", "flat"])
    );
    assert_eq!(
        meta.extra["faithfulness_nan"]["flat"]["mean"],
        serde_json::json!(10)
    );
    assert_eq!(
        meta.extra["faithfulness_nan"]["alpha"]["uniform"],
        serde_json::json!(0)
    );
    assert_eq!(outputs.faithfulness_nan["flat"]["uniform"], 10);
    assert_eq!(meta.inputs.len(), 3);
    assert!(!meta.extra.contains_key("shard"));
    // The image order and the curves' first column.
    assert_eq!(
        a.read::<u32>("image_index", &[n]).unwrap(),
        [0, 2, 3, 4, 5, 6, 8, 9, 10, 11]
    );
    let p0 = a.read::<f64>("p0", &[n]).unwrap();
    let q0 = a.read::<f64>("q0", &[n]).unwrap();
    let curve = a
        .read::<f64>("drop.alpha.morf.uniform", &[n, l + 1])
        .unwrap();
    for i in 0..n {
        assert_eq!(curve[i * (l + 1)], 0.0);
        assert!((p0[i] + q0[i] - 1.0).abs() < 1e-12);
    }
    // The saturation totals in the metadata are the column sums of the tensor.
    let columns: Vec<String> =
        serde_json::from_value(meta.extra["saturation_columns"].clone()).unwrap();
    let rows = a
        .read::<u32>("saturation", &[n, saturation_columns])
        .unwrap();
    for (c, name) in columns.iter().enumerate() {
        let total: u64 = (0..n).map(|i| u64::from(rows[i * columns.len() + c])).sum();
        assert_eq!(
            meta.extra["saturation"][name],
            serde_json::json!(total),
            "{name}"
        );
    }
    // The constant map's F is undefined both ways.
    assert_eq!(
        meta.extra["saturation"]["f64.faithfulness_nan.flat.mean"],
        serde_json::json!(10)
    );
    // Column 0 of the random AOPC is AOPC_0 = 0.
    let aopc = a.read::<f64>("aopc.random.mean", &[r, l + 1]).unwrap();
    assert!((0..r).all(|o| aopc[o * (l + 1)] == 0.0));
}

#[test]
fn stored_random_curves_give_the_random_mean_and_aopc() {
    let (dir, inputs) = fixture();
    let mut config = common::config();
    config.metrics.store_random_curves = true;
    let out = dir.path().join("out");
    run(&config, &inputs, &out, &Options::default());
    let a = Artifact::open(&out.join("metrics.safetensors"), Kind::Metrics).unwrap();
    let (n, w, r) = (10, 6, 3);
    let curves = a.read::<f64>("drop.random.uniform", &[r, n, w]).unwrap();
    let mean = a.read::<f64>("drop.random_mean.uniform", &[n, w]).unwrap();
    let aopc = a.read::<f64>("aopc.random.uniform", &[r, w]).unwrap();
    for i in 0..n {
        for k in 0..w {
            let m: f64 = (0..r).map(|o| curves[(o * n + i) * w + k]).sum::<f64>() / r as f64;
            assert!((mean[i * w + k] - m).abs() < 1e-15);
        }
    }
    for o in 0..r {
        let l = w - 1;
        let want: f64 = (0..n)
            .map(|i| sal_metrics::aopc(&curves[(o * n + i) * w..(o * n + i + 1) * w], l).unwrap())
            .sum::<f64>()
            / n as f64;
        assert!((aopc[o * w + l] - want).abs() < 1e-15);
    }
}

#[test]
fn a_killed_run_resumes_and_writes_the_same_bytes() {
    let (dir, inputs) = fixture();
    let config = common::config();
    let whole = dir.path().join("whole");
    run(&config, &inputs, &whole, &Options::default());

    let resumed = dir.path().join("resumed");
    let stopped = run(
        &config,
        &inputs,
        &resumed,
        &Options {
            stop_after_chunks: Some(2),
            ..Options::default()
        },
    );
    assert!(stopped.path.is_none());
    assert!(
        !resumed.join("metrics.safetensors").exists(),
        "no output until the run is complete"
    );
    let mut chunks: Vec<String> = std::fs::read_dir(resumed.join("checkpoint"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    chunks.sort();
    assert_eq!(
        chunks,
        [
            "chunk-000000-000003.safetensors",
            "chunk-000003-000006.safetensors"
        ]
    );

    let finished = run(&config, &inputs, &resumed, &Options::default());
    assert_eq!((finished.resumed_images, finished.computed_images), (6, 4));
    assert!(
        bytes(&resumed) == bytes(&whole),
        "resumed output differs from the uninterrupted one"
    );
    assert!(!resumed.join("checkpoint").exists());

    // A checkpoint of another config is not reused.
    let other = dir.path().join("other");
    run(
        &config,
        &inputs,
        &other,
        &Options {
            stop_after_chunks: Some(1),
            ..Options::default()
        },
    );
    let mut changed = config.clone();
    changed.metrics.seed += 1;
    let rerun = run(&changed, &inputs, &other, &Options::default());
    assert_eq!(rerun.resumed_images, 0);
}

#[test]
fn shards_merge_into_the_bytes_of_an_unsharded_run() {
    let (dir, inputs) = fixture();
    let config = common::config();
    let whole = dir.path().join("whole");
    run(&config, &inputs, &whole, &Options::default());

    for count in [1, 3, 4] {
        let shard_dirs: Vec<PathBuf> = (0..count)
            .map(|i| dir.path().join(format!("shard-{count}-{i}")))
            .collect();
        // Run them in reverse order and give them to the merge shuffled: order must not matter.
        for (i, d) in shard_dirs.iter().enumerate().rev() {
            let out = run(
                &config,
                &inputs,
                d,
                &Options {
                    shard: Some(ShardSpec { index: i, count }),
                    ..Options::default()
                },
            );
            let a = Artifact::open(out.path.as_deref().unwrap(), Kind::Metrics).unwrap();
            assert_eq!(a.meta().extra["shard"]["count"], serde_json::json!(count));
            assert!(
                a.has("drop.random.mean"),
                "shards always keep the random curves"
            );
        }
        let mut given = shard_dirs.clone();
        given.rotate_left(1);
        let merged = dir.path().join(format!("merged-{count}"));
        merge(&given, &merged).unwrap();
        assert!(
            bytes(&merged) == bytes(&whole),
            "{count} shards merged differ from the unsharded run"
        );
    }

    // Missing and duplicated shards are refused.
    let d = |i: usize| dir.path().join(format!("shard-3-{i}"));
    let err = merge(&[d(0), d(2)], &dir.path().join("bad"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("shard 1/3 is missing"), "{err}");
    let err = merge(&[d(0), d(1), d(1), d(2)], &dir.path().join("bad"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("twice"), "{err}");
    let err = merge(
        &[d(0), dir.path().join("shard-4-1")],
        &dir.path().join("bad"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("shard count"), "{err}");
    let err = merge(std::slice::from_ref(&whole), &dir.path().join("bad"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a shard file"), "{err}");
}

#[test]
fn mismatched_predictions_name_the_image() {
    let (dir, inputs) = fixture();
    let mut other_model = common::Linear::random(10, 8);
    let err = run_with_classifier(
        &common::config(),
        &inputs,
        &dir.path().join("out"),
        &Options::default(),
        &mut other_model,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("test image") && err.contains("saliency.safetensors"),
        "{err}"
    );
}

/// In a build without `--features cuda` (and before the model file is read).
#[test]
fn a_gpu_device_is_refused_not_run_on_the_cpu() {
    let (dir, inputs) = fixture();
    let mut config = common::config();
    config.metrics.device = "cuda:0".into();
    let err = sal_metrics::run(
        &config,
        &inputs,
        &dir.path().join("out"),
        &Options::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("cuda:0") && err.contains("device"), "{err}");
    assert!(!dir.path().join("out/metrics.safetensors").exists());
}
