//! The pipeline, status and path commands against a fake `sal` (see support/fake_sal.sh).

mod support;

use std::time::{Duration, Instant};

use sal_config::Stage;
use support::{with_action, Fixture, ALL, CONFIG};
use xtask::pipeline::Action;
use xtask::status::{states, State};
use xtask::store;
use xtask::Plan;

#[test]
fn a_second_run_is_all_cached() {
    let fx = Fixture::new();
    let first = fx.pipeline(None, &[]).unwrap();
    assert_eq!(with_action(&first, Action::Ran), ALL);
    assert_eq!(
        fx.take_calls(),
        [
            "data",
            "train --data",
            "attribute --data --train",
            "metrics --data --train --attribute",
            "stats --attribute --metrics",
            "sanity --data --train --attribute --metrics --random-labels",
            "report --data --train --attribute --metrics --stats --sanity"
        ]
    );
    let second = fx.pipeline(None, &[]).unwrap();
    assert_eq!(with_action(&second, Action::Cached), ALL);
    assert!(fx.take_calls().is_empty());
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.folder, b.folder);
    }

    // Each folder holds the stage's files and a key.json whose key is the planned key, which is
    // also what sal_artifact::input_key reports for the artifact.
    let config = sal_config::Config::load(&fx.config).unwrap();
    let plan = Plan::new(&fx.project, &config, &fx.config).unwrap();
    let dataset = first[0].folder.join("dataset.safetensors");
    assert!(dataset.is_file());
    assert_eq!(
        sal_artifact::input_key(&dataset).unwrap(),
        plan.key(Stage::Data).key
    );
    for outcome in &first {
        let record = store::read_record(&outcome.folder).unwrap().unwrap();
        assert_eq!(record.key, plan.key(outcome.stage).key);
        assert_eq!(record.stage, outcome.stage.name());
        assert!(!outcome.folder.join("partial.bin").exists());
    }
    assert!(fx.tmp_entries().is_empty(), "{:?}", fx.tmp_entries());
}

#[test]
fn changing_the_data_seed_reruns_everything_and_stats_only_stats_and_report() {
    let fx = Fixture::new();
    fx.pipeline(None, &[]).unwrap();
    fx.take_calls();

    fx.set_config(&CONFIG.replace("seed = 0", "seed = 5"));
    let out = fx.pipeline(None, &[]).unwrap();
    assert_eq!(with_action(&out, Action::Ran), ALL);
    assert_eq!(fx.take_ran(), ALL);

    fx.set_config(
        &CONFIG
            .replace("seed = 0", "seed = 5")
            .replace("bootstrap = 200", "bootstrap = 300"),
    );
    let out = fx.pipeline(None, &[]).unwrap();
    assert_eq!(with_action(&out, Action::Ran), ["stats", "report"]);
    assert_eq!(fx.take_ran(), ["stats", "report"]);

    // The folders of the first config are still there: going back is all cached.
    fx.set_config(CONFIG);
    let out = fx.pipeline(None, &[]).unwrap();
    assert_eq!(with_action(&out, Action::Cached), ALL);
    assert_eq!(fx.stage_folders(Stage::Data).len(), 2);
    assert_eq!(fx.stage_folders(Stage::Stats).len(), 3);
}

#[test]
fn changing_a_stage_crate_reruns_that_stage_and_what_follows() {
    let fx = Fixture::new();
    fx.pipeline(None, &[]).unwrap();
    fx.take_calls();
    support::write(
        &fx.project.root.join("crates/metrics/src/lib.rs"),
        "//! metrics, edited\n",
    );
    fx.pipeline(None, &[]).unwrap();
    assert_eq!(fx.take_ran(), ["metrics", "stats", "sanity", "report"]);
    // A crate appearing where there was none changes the code of the stages it belongs to.
    fs_err::remove_dir_all(fx.project.root.join("crates/psychometrics")).unwrap();
    fx.pipeline(None, &[]).unwrap();
    assert_eq!(fx.take_ran(), ["stats", "sanity", "report"]);
}

#[test]
fn a_failing_stage_leaves_no_finished_folder_and_is_redone() {
    let fx = Fixture::new();
    fx.control("fail_metrics", Some(""));
    let err = fx.pipeline(None, &[]).unwrap_err().to_string();
    assert!(
        err.contains("stage metrics failed") && err.contains("exited with code 1"),
        "{err}"
    );
    assert_eq!(fx.take_ran(), ["data", "train", "attribute", "metrics"]);
    assert!(fx.stage_folders(Stage::Metrics).is_empty());
    assert!(fx.stage_folders(Stage::Stats).is_empty());
    // Its temporary folder stays, for the next run to resume from; it never looks finished.
    let kept = fx.tmp_entries();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("metrics-"));
    assert!(!kept[0].join("key.json").exists());

    fx.control("fail_metrics", None);
    let out = fx.pipeline(None, &[]).unwrap();
    assert_eq!(
        with_action(&out, Action::Cached),
        ["data", "train", "attribute"]
    );
    assert_eq!(fx.take_ran(), ["metrics", "stats", "sanity", "report"]);
    assert_eq!(
        fx.resumed(),
        ["metrics"],
        "the re-run found what the failed run left"
    );
    assert!(fx.tmp_entries().is_empty(), "{:?}", fx.tmp_entries());
}

#[test]
fn a_killed_stage_leaves_no_finished_folder_and_is_redone() {
    let fx = Fixture::new();
    fx.control("kill_attribute", Some(""));
    let err = fx.pipeline(None, &[]).unwrap_err().to_string();
    assert!(
        err.contains("stage attribute failed") && err.contains("killed by signal 9"),
        "{err}"
    );
    assert!(fx.stage_folders(Stage::Attribute).is_empty());

    fx.control("kill_attribute", None);
    fx.take_calls();
    fx.pipeline(Some(Stage::Attribute), &[]).unwrap();
    assert_eq!(fx.take_ran(), ["attribute"]);
    assert_eq!(
        fx.resumed(),
        ["attribute"],
        "the killed run's folder is resumed"
    );
    let folder = &fx.stage_folders(Stage::Attribute)[0];
    assert!(folder.join("saliency.safetensors").is_file() && !folder.join("partial.bin").exists());
}

#[test]
fn a_resumable_folder_of_another_key_is_removed_not_resumed() {
    let fx = Fixture::new();
    fx.control("fail_train", Some(""));
    fx.pipeline(Some(Stage::Train), &[]).unwrap_err();
    assert_eq!(fx.tmp_entries().len(), 1);
    fx.control("fail_train", None);
    // Another train config: another key; the old partial folder is not this run's to resume.
    fx.set_config(&format!("{}\n[train]\nseed = 99\n", support::CONFIG));
    fx.take_calls();
    fx.pipeline(Some(Stage::Train), &[]).unwrap();
    assert!(fx.resumed().is_empty());
    assert!(fx.tmp_entries().is_empty(), "{:?}", fx.tmp_entries());
}

#[test]
fn leftovers_of_a_killed_pipeline_are_cleaned_and_never_mistaken_for_a_result() {
    let fx = Fixture::new();
    fx.pipeline(Some(Stage::Data), &[]).unwrap();
    fx.take_calls();
    // What a pipeline killed while building train leaves behind: a temporary folder with partial
    // output, even one holding a key.json (killed between writing it and the rename).
    let config = sal_config::Config::load(&fx.config).unwrap();
    let key = Plan::new(&fx.project, &config, &fx.config)
        .unwrap()
        .key(Stage::Train)
        .clone();
    let leftover = fx
        .project
        .tmp_dir()
        .join(format!("train-{}-99999", &key.key[..16]));
    support::write(&leftover.join("model.safetensors"), "partial");
    store::write_record(&leftover, &store::KeyRecord::new(&key, 1.0)).unwrap();

    let out = fx.pipeline(Some(Stage::Train), &[]).unwrap();
    assert_eq!(with_action(&out, Action::Ran), ["train"]);
    assert_eq!(fx.take_ran(), ["train"]);
    assert!(!leftover.exists());
    assert!(fx.tmp_entries().is_empty());
}

#[test]
fn forcing_a_stage_reruns_it_and_what_reads_it() {
    let fx = Fixture::new();
    fx.pipeline(None, &[]).unwrap();
    fx.take_calls();
    let out = fx.pipeline(None, &[Stage::Train]).unwrap();
    assert_eq!(with_action(&out, Action::Cached), ["data"]);
    assert_eq!(
        fx.take_ran(),
        ["train", "attribute", "metrics", "stats", "sanity", "report"]
    );
    // Still exactly one folder per stage: a forced run replaces the folder of its key.
    for stage in Stage::ALL {
        assert_eq!(fx.stage_folders(stage).len(), 1, "{stage}");
    }
    assert!(fx.tmp_entries().is_empty());
}

#[test]
fn a_stage_missing_from_sal_fails_up_front_and_until_stops_before_it() {
    let fx = Fixture::new();
    fx.control("stages", Some("data\ntrain\n"));
    let err = fx.pipeline(None, &[]).unwrap_err().to_string();
    assert!(
        err.contains("stage attribute is not available") && err.contains("--until train"),
        "{err}"
    );
    assert!(fx.take_calls().is_empty(), "nothing runs before the check");
    let out = fx.pipeline(Some(Stage::Train), &[]).unwrap();
    assert_eq!(with_action(&out, Action::Ran), ["data", "train"]);
}

#[test]
fn a_second_pipeline_waits_for_the_first_and_finds_its_work_cached() {
    let fx = std::sync::Arc::new(Fixture::new());
    fx.control("sleep_data", Some("1"));
    let first = {
        let fx = fx.clone();
        std::thread::spawn(move || {
            fx.pipeline(Some(Stage::Train), &[])
                .map(|o| with_action(&o, Action::Ran))
        })
    };
    // Wait until the first pipeline is inside the data stage (its temporary folder exists).
    let start = Instant::now();
    while !fx.tmp_entries().iter().any(|p| {
        p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("data-")
    }) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the first pipeline never started data"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = fx.pipeline(Some(Stage::Train), &[]).unwrap();
    assert_eq!(first.join().unwrap().unwrap(), ["data", "train"]);
    assert_eq!(with_action(&second, Action::Cached), ["data", "train"]);
    assert_eq!(fx.take_ran(), ["data", "train"], "each stage ran once");
}

#[test]
fn status_says_fresh_stale_with_the_reason_or_missing() {
    let fx = Fixture::new();
    let config = |fx: &Fixture| sal_config::Config::load(&fx.config).unwrap();
    let names = |s: &[(Stage, State)]| s.iter().map(|(_, st)| st.name()).collect::<Vec<_>>();
    assert_eq!(
        names(&states(&fx.project, &config(&fx), &fx.config).unwrap()),
        ["missing"; 7]
    );

    fx.pipeline(Some(Stage::Metrics), &[]).unwrap();
    let now = states(&fx.project, &config(&fx), &fx.config).unwrap();
    assert_eq!(
        names(&now),
        ["fresh", "fresh", "fresh", "fresh", "missing", "missing", "missing"]
    );
    assert!(
        matches!(&now[0].1, State::Fresh(folder) if folder.join("dataset.safetensors").is_file())
    );

    fx.pipeline(None, &[]).unwrap();
    fx.set_config(&CONFIG.replace("bootstrap = 200", "bootstrap = 300"));
    let now = states(&fx.project, &config(&fx), &fx.config).unwrap();
    assert_eq!(
        names(&now),
        ["fresh", "fresh", "fresh", "fresh", "stale", "fresh", "stale"]
    );
    let State::Stale { reasons, .. } = &now[4].1 else {
        unreachable!()
    };
    assert_eq!(
        reasons,
        &["config section [stats] changed (bootstrap: 200 -> 300)"]
    );
    let State::Stale { reasons, .. } = &now[6].1 else {
        unreachable!()
    };
    assert_eq!(reasons, &["input stats changed"]);

    fx.set_config(CONFIG);
    support::write(
        &fx.project.root.join("crates/model/src/lib.rs"),
        "//! model, edited\n",
    );
    let now = states(&fx.project, &config(&fx), &fx.config).unwrap();
    assert_eq!(
        names(&now),
        ["fresh", "stale", "stale", "stale", "stale", "stale", "stale"]
    );
    let State::Stale { reasons, .. } = &now[2].1 else {
        unreachable!()
    };
    assert_eq!(
        reasons,
        &["input train changed", "code changed (crates/model)"]
    );
    let State::Stale { reasons, .. } = &now[4].1 else {
        unreachable!()
    };
    assert_eq!(
        reasons,
        &["input attribute changed", "input metrics changed"]
    );
}

#[test]
fn path_prints_the_current_folder_or_says_how_to_make_it() {
    let fx = Fixture::new();
    let err = xtask::path::find(&fx.project, Some(&fx.config), Stage::Data)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no artifacts yet")
            && err.contains("cargo xtask pipeline --config")
            && err.contains("--until data"),
        "{err}"
    );

    let out = fx.pipeline(Some(Stage::Data), &[]).unwrap();
    let folder = xtask::path::find(&fx.project, Some(&fx.config), Stage::Data).unwrap();
    assert_eq!(folder, out[0].folder);
    assert!(
        folder.starts_with(fx.project.artifacts.join("data"))
            && folder.join("dataset.safetensors").is_file()
    );

    fx.set_config(&CONFIG.replace("seed = 0", "seed = 1"));
    let err = xtask::path::find(&fx.project, Some(&fx.config), Stage::Data)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("stale") && err.contains("seed: 0 -> 1"),
        "{err}"
    );
}

#[test]
fn keys_hold_no_absolute_path_and_do_not_depend_on_where_the_repository_is() {
    let a = Fixture::new();
    let b = Fixture::new();
    let config = sal_config::Config::load(&a.config).unwrap();
    let plan_a = Plan::new(&a.project, &config, &a.config).unwrap();
    let plan_b = Plan::new(&b.project, &config, &b.config).unwrap();
    for (ka, kb) in plan_a.keys.iter().zip(&plan_b.keys) {
        assert_eq!(ka.key, kb.key, "{}", ka.stage);
    }
    a.pipeline(None, &[]).unwrap();
    let root = a.dir.path().to_str().unwrap();
    for stage in Stage::ALL {
        let text = fs_err::read_to_string(a.stage_folders(stage)[0].join("key.json")).unwrap();
        assert!(!text.contains(root), "{text}");
        assert!(
            text.contains("\"code.sal_version\"") && text.contains("\"wall_seconds\""),
            "{text}"
        );
    }
}

#[test]
fn unverified_batch_files_enter_the_data_key() {
    let fx = Fixture::new();
    let cifar = fx.project.root.join("cifar");
    for name in xtask::plan::BATCH_FILES {
        support::write(&cifar.join(name), name);
    }
    let key = |text: &str| {
        fx.set_config(text);
        let config = sal_config::Config::load(&fx.config).unwrap();
        Plan::new(&fx.project, &config, &fx.config)
            .unwrap()
            .key(Stage::Data)
            .key
            .clone()
    };
    let unverified = "[data]\ndir = \"../cifar\"\nverify = false\n";
    let verified = "[data]\ndir = \"../cifar\"\n";
    let (u1, v1) = (key(unverified), key(verified));
    support::write(&cifar.join("test_batch.bin"), "altered");
    let (u2, v2) = (key(unverified), key(verified));
    assert_ne!(
        u1, u2,
        "an altered batch file changes the key without checksums"
    );
    assert_eq!(
        v1, v2,
        "with checksums the content is pinned and not hashed"
    );
    assert_ne!(u1, v1);
}

#[test]
fn bench_runs_sal_bench() {
    let fx = Fixture::new();
    xtask::bench::run(
        &fx.project,
        &xtask::flags::Bench {
            json: true,
            features: Vec::new(),
        },
        &fx.sal(),
    )
    .unwrap();
    assert_eq!(fx.take_calls(), ["bench --json"]);
}

#[test]
fn an_external_command_replaces_a_stage_with_the_same_arguments() {
    let fx = Fixture::new();
    // A trivial external `attribute`: checks its arguments and writes the artifact file.
    let script = "#!/bin/sh\nset -eu\n[ \"$1\" = --config ] && [ \"$3\" = --out ] && [ \"$5\" = --data ] && [ \"$7\" = --train ]\n\
                  [ -f \"$6/key.json\" ] && [ -f \"$8/key.json\" ]\necho external >> calls.log\necho maps > \"$4/saliency.safetensors\"\n";
    let script_path = fx.config.with_file_name("maps.sh");
    support::write(&script_path, script);
    std::fs::set_permissions(
        &script_path,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let external = format!("{CONFIG}\n[external]\nattribute = [\"./maps.sh\"]\n");

    fx.pipeline(None, &[]).unwrap();
    fx.take_calls();
    fx.set_config(&external);
    let config = sal_config::Config::load(&fx.config).unwrap();
    let now = states(&fx.project, &config, &fx.config).unwrap();
    let State::Stale { reasons, .. } = &now[2].1 else {
        panic!("{:?}", now[2])
    };
    assert_eq!(
        reasons,
        &["the stage now runs an [external] command instead of sal"]
    );
    let out = fx.pipeline(None, &[]).unwrap();
    assert_eq!(
        with_action(&out, Action::Ran),
        ["attribute", "metrics", "stats", "sanity", "report"]
    );
    assert_eq!(
        fx.take_ran(),
        ["metrics", "stats", "sanity", "report"],
        "sal did not run attribute"
    );
    let log = fx.config.with_file_name("calls.log");
    assert_eq!(
        fs_err::read_to_string(&log).unwrap(),
        "external\n",
        "the script ran in the config's folder"
    );
    assert!(out[2].folder.join("saliency.safetensors").is_file());

    // Editing the script re-runs the stage; status says why.
    support::write(
        &script_path,
        &script.replace("echo maps", "echo other maps"),
    );
    let config = sal_config::Config::load(&fx.config).unwrap();
    let now = states(&fx.project, &config, &fx.config).unwrap();
    let State::Stale { reasons, .. } = &now[2].1 else {
        panic!("{:?}", now[2])
    };
    assert_eq!(reasons, &["files of the [external] command changed"]);
    let out = fx.pipeline(None, &[]).unwrap();
    assert_eq!(
        with_action(&out, Action::Ran),
        ["attribute", "metrics", "stats", "sanity", "report"]
    );

    // Back to sal: cached, the earlier folders of sal's attribute are still there.
    fx.take_calls();
    fx.set_config(CONFIG);
    let out = fx.pipeline(None, &[]).unwrap();
    assert_eq!(with_action(&out, Action::Cached), ALL);
}

#[test]
fn a_pipeline_of_external_stages_never_needs_sal() {
    let fx = Fixture::new();
    support::write(
        &fx.config.with_file_name("data.sh"),
        "#!/bin/sh\necho x > \"$4/dataset.safetensors\"\n",
    );
    fx.set_config(&format!(
        "{CONFIG}\n[external]\ndata = [\"sh\", \"data.sh\"]\n"
    ));
    let no_sal = xtask::SalSource::Given(fx.dir.path().join("no/such/sal"));
    let out =
        xtask::pipeline::run(&fx.project, &fx.flags(Some(Stage::Data), &[]), &no_sal).unwrap();
    assert_eq!(with_action(&out, Action::Ran), ["data"]);
    let err =
        xtask::pipeline::run(&fx.project, &fx.flags(Some(Stage::Train), &[]), &no_sal).unwrap_err();
    assert!(err.to_string().contains("no/such/sal"), "{err}");
}

#[test]
fn sources_edited_while_sal_is_prepared_give_keys_of_the_code_that_ran() {
    let fx = Fixture::new();
    let source = fx.project.root.join("crates/data/src/lib.rs");
    fx.control("edit_on_help", Some(source.to_str().unwrap()));
    let out = fx.pipeline(Some(Stage::Data), &[]).unwrap();
    assert!(fs_err::read_to_string(&source).unwrap().contains("edited"));
    let config = sal_config::Config::load(&fx.config).unwrap();
    let now = Plan::new(&fx.project, &config, &fx.config).unwrap();
    let record = store::read_record(&out[0].folder).unwrap().unwrap();
    assert_eq!(
        record.key,
        now.key(Stage::Data).key,
        "the data folder is keyed by the edited sources"
    );
    assert_eq!(fx.take_ran(), ["data"]);
}

#[test]
fn a_stage_that_succeeds_without_writing_its_artifact_leaves_no_finished_folder() {
    let fx = Fixture::new();
    support::write(
        &fx.config.with_file_name("lazy.sh"),
        "#!/bin/sh\necho forgot > \"$4/notes.txt\"\n",
    );
    fx.set_config(&format!(
        "{CONFIG}\n[external]\ndata = [\"sh\", \"lazy.sh\"]\n"
    ));
    let err = fx.pipeline(Some(Stage::Data), &[]).unwrap_err().to_string();
    assert!(err.contains("did not write dataset.safetensors"), "{err}");
    assert!(fx.stage_folders(Stage::Data).is_empty());
    // What it wrote stays in its temporary folder (kept for a re-run), never installed.
    let kept = fx.tmp_entries();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].join("notes.txt").is_file() && !kept[0].join("key.json").exists());
}

#[test]
fn a_corrupt_key_json_is_not_a_finished_folder_and_is_replaced() {
    let fx = Fixture::new();
    let out = fx.pipeline(Some(Stage::Data), &[]).unwrap();
    fx.take_calls();
    fs_err::write(out[0].folder.join("key.json"), "{ truncated").unwrap();
    let config = sal_config::Config::load(&fx.config).unwrap();
    assert_eq!(
        states(&fx.project, &config, &fx.config).unwrap()[0].1,
        State::Missing
    );
    let again = fx.pipeline(Some(Stage::Data), &[]).unwrap();
    assert_eq!(with_action(&again, Action::Ran), ["data"]);
    assert_eq!(again[0].folder, out[0].folder);
    assert!(store::read_record(&again[0].folder).unwrap().is_some());
}

/// The test config with `[report] variants` naming `variant.toml` beside it as `other`.
fn with_variant() -> String {
    format!("{CONFIG}\n[report]\nvariants = [{{ name = \"other\", config = \"variant.toml\" }}]\n")
}

fn report_key(fx: &Fixture) -> xtask::key::StageKey {
    let config = sal_config::Config::load(&fx.config).unwrap();
    Plan::new(&fx.project, &config, &fx.config)
        .unwrap()
        .key(Stage::Report)
        .clone()
}

#[test]
fn a_report_variant_is_passed_once_finished_and_its_report_key_enters_the_key() {
    let fx = Fixture::new();
    let variant = fx.project.root.join("configs/variant.toml");
    support::write(
        &variant,
        &CONFIG.replace("bootstrap = 200", "bootstrap = 300"),
    );
    fx.set_config(&with_variant());

    // The variant has no report: the report says so, and its key holds "missing".
    let first = fx.pipeline(None, &[]).unwrap();
    assert_eq!(with_action(&first, Action::Ran), ALL);
    assert_eq!(
        fx.take_calls().last().unwrap(),
        "report --data --train --attribute --metrics --stats --sanity --variant-missing=other"
    );
    let missing = report_key(&fx);
    assert_eq!(missing.field("variant.other").unwrap(), "missing");
    // Nothing changed: nothing runs.
    fx.pipeline(None, &[]).unwrap();
    assert!(fx.take_calls().is_empty());
    assert_eq!(report_key(&fx), missing);

    // The variant's pipeline (never run by the main one) makes its report: the main report
    // runs again with it, keyed by the variant's report key.
    let variant_flags = xtask::flags::Pipeline {
        config: Some(variant.clone()),
        ..fx.flags(None, &[])
    };
    let ran = xtask::pipeline::run(&fx.project, &variant_flags, &fx.sal()).unwrap();
    assert_eq!(with_action(&ran, Action::Ran), ["stats", "report"]);
    let variant_report = ran.last().unwrap().folder.clone();
    fx.take_calls();
    let status = states(
        &fx.project,
        &sal_config::Config::load(&fx.config).unwrap(),
        &fx.config,
    )
    .unwrap();
    // (status compares with the newest report folder: the variant's own, which has none.)
    let State::Stale { reasons, .. } = &status[6].1 else {
        panic!("{:?}", status[6])
    };
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("the report of variant \"other\" changed ((none) -> ")),
        "{reasons:?}"
    );
    let again = fx.pipeline(None, &[]).unwrap();
    assert_eq!(with_action(&again, Action::Ran), ["report"]);
    assert_eq!(
        fx.take_calls(),
        ["report --data --train --attribute --metrics --stats --sanity --variant=other"]
    );
    let found = report_key(&fx);
    let variant_key = store::read_record(&variant_report).unwrap().unwrap().key;
    assert_eq!(found.field("variant.other").unwrap(), &variant_key);
    assert_ne!(found.key, missing.key);
    fx.pipeline(None, &[]).unwrap();
    assert!(fx.take_calls().is_empty(), "unchanged: cached");

    // The variant's config changes: its report key changes, and that report is missing again.
    support::write(
        &variant,
        &CONFIG.replace("bootstrap = 200", "bootstrap = 400"),
    );
    assert_eq!(report_key(&fx), missing);
    xtask::pipeline::run(&fx.project, &variant_flags, &fx.sal()).unwrap();
    let changed = report_key(&fx);
    assert_ne!(changed, found);
    assert_ne!(changed.field("variant.other").unwrap(), &variant_key);
    fx.take_calls();
    // The variant's code changes too (the report crate): both reports are stale, and the main
    // report's key follows the variant's new report key.
    support::write(
        &fx.project.root.join("crates/report/src/lib.rs"),
        "//! report, edited\n",
    );
    assert_eq!(report_key(&fx).field("variant.other").unwrap(), "missing");
}

#[test]
fn report_variants_that_are_missing_or_lead_back_are_errors_naming_them() {
    let fx = Fixture::new();
    fx.set_config(&with_variant());
    let err = format!("{:#}", fx.pipeline(None, &[]).unwrap_err());
    assert!(
        err.contains("[report] variant \"other\"") && err.contains("variant.toml"),
        "{err}"
    );
    assert!(fx.take_calls().is_empty(), "nothing ran");

    support::write(
        &fx.project.root.join("configs/variant.toml"),
        &format!(
            "{CONFIG}\n[report]\nvariants = [{{ name = \"back\", config = \"test.toml\" }}]\n"
        ),
    );
    let err = format!("{:#}", fx.pipeline(None, &[]).unwrap_err());
    assert!(
        err.contains("a cycle") && err.contains("test.toml"),
        "{err}"
    );
}

#[test]
fn an_external_report_keeps_the_plain_interface() {
    let fx = Fixture::new();
    support::write(&fx.project.root.join("configs/variant.toml"), CONFIG);
    let report = fx.bin.display().to_string();
    fx.set_config(&format!(
        "{}\n[external]\nreport = [\"{report}\", \"report\"]\n",
        with_variant()
    ));
    fx.pipeline(None, &[]).unwrap();
    assert_eq!(
        fx.take_calls().last().unwrap(),
        "report --data --train --attribute --metrics --stats --sanity"
    );
    assert!(report_key(&fx).field("variant.other").is_none());
}

#[test]
fn xtask_variants_resolves_configs_to_their_fresh_reports() {
    let fx = Fixture::new();
    let variant = fx.project.root.join("configs/variant.toml");
    support::write(
        &variant,
        &CONFIG.replace("bootstrap = 200", "bootstrap = 300"),
    );
    let main = fx.pipeline(None, &[]).unwrap();
    let flags = xtask::flags::Variants {
        out: None,
        variants: vec![
            format!("main={}", fx.config.display()),
            format!("other={}", variant.display()),
            "dir=/some/report".to_owned(),
        ],
    };
    let args: Vec<String> = xtask::variants::sal_args(&fx.project, &flags)
        .unwrap()
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assert_eq!(args[..2], ["variants", "--missing"]);
    assert!(
        args[2].starts_with("other=stage report is stale for") && args[2].contains("variant.toml"),
        "{args:?}"
    );
    assert_eq!(
        args[3..],
        [
            "--".to_owned(),
            format!("main={}", main.last().unwrap().folder.display()),
            "dir=/some/report".to_owned()
        ]
    );
    xtask::variants::run(&fx.project, &flags, &fx.sal()).unwrap();
    assert_eq!(
        fx.take_calls().last().unwrap(),
        &format!("variants {}", args[1..].join(" "))
    );
}

/// The modification time of a file.
fn modified(path: &std::path::Path) -> std::time::SystemTime {
    fs_err::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn the_random_label_model_is_cached_on_its_own() {
    let fx = Fixture::new();
    fx.pipeline(None, &[]).unwrap();
    assert_eq!(fx.random_labels_log(), ["trained"]);
    let folders = fx.random_label_folders();
    assert_eq!(folders.len(), 1);
    let model = folders[0].join("random_labels.safetensors");
    let record = store::read_record(&folders[0]).unwrap().unwrap();
    assert_eq!(record.stage, "random_labels");
    let config = sal_config::Config::load(&fx.config).unwrap();
    let plan = Plan::new(&fx.project, &config, &fx.config).unwrap();
    assert_eq!(record.key, plan.random_labels.unwrap().key);
    assert_eq!(
        xtask::status::random_labels_state(&fx.project, &config, &fx.config).unwrap(),
        Some(State::Fresh(folders[0].clone()))
    );
    let built = modified(&model);
    fx.take_calls();

    // A [sanity] key that cannot change the model: the stage runs again with the cached one.
    let bootstrap = format!("{CONFIG}\n[sanity]\nbootstrap = 300\n");
    fx.set_config(&bootstrap);
    let out = fx.pipeline(None, &[]).unwrap();
    assert_eq!(with_action(&out, Action::Ran), ["sanity", "report"]);
    assert_eq!(
        fx.take_calls()[0],
        "sanity --data --train --attribute --metrics --random-labels"
    );
    assert_eq!(fx.random_labels_log(), ["cached"]);
    assert_eq!(fx.random_label_folders(), folders);
    assert_eq!(modified(&model), built, "the cached model is not rewritten");

    // So does the sanity crate's code outside the training module.
    support::write(
        &fx.project.root.join("crates/sanity/src/stage.rs"),
        "//! edited\n",
    );
    fx.pipeline(None, &[]).unwrap();
    assert_eq!(fx.take_ran(), ["sanity", "report"]);
    assert_eq!(fx.random_labels_log(), ["cached"]);

    // What determines the model trains another one, beside the first.
    fx.set_config(&format!("{bootstrap}random_labels_epochs = 3\n"));
    let epochs = sal_config::Config::load(&fx.config).unwrap();
    assert_eq!(
        xtask::status::random_labels_state(&fx.project, &epochs, &fx.config).unwrap(),
        Some(State::Missing)
    );
    fx.pipeline(None, &[]).unwrap();
    assert_eq!(fx.take_ran(), ["sanity", "report"]);
    assert_eq!(fx.random_labels_log(), ["trained"]);
    assert_eq!(fx.random_label_folders().len(), 2);
    support::write(
        &fx.project.root.join("crates/sanity/src/random_labels.rs"),
        "//! the training, edited\n",
    );
    fx.pipeline(None, &[]).unwrap();
    assert_eq!(fx.take_ran(), ["sanity", "report"]);
    assert_eq!(fx.random_labels_log(), ["trained"]);
    assert_eq!(fx.random_label_folders().len(), 3);
    // The data seed (through the data stage's key).
    fx.set_config(&bootstrap.replace("seed = 0", "seed = 5"));
    fx.pipeline(None, &[]).unwrap();
    assert_eq!(fx.take_ran(), ALL);
    assert_eq!(fx.random_labels_log(), ["trained"]);
    assert_eq!(fx.random_label_folders().len(), 4);

    // Forcing the sanity stage trains its model again, in place.
    fx.pipeline(None, &[Stage::Sanity]).unwrap();
    assert_eq!(fx.random_labels_log(), ["trained"]);
    assert_eq!(fx.random_label_folders().len(), 4);
    fx.set_config(
        &bootstrap
            .replace("seed = 0", "seed = 5")
            .replace("bootstrap = 300", "bootstrap = 400"),
    );
    fx.pipeline(None, &[]).unwrap();
    assert_eq!(fx.random_labels_log(), ["cached"]);
    assert!(fx.tmp_entries().is_empty(), "{:?}", fx.tmp_entries());

    // No data randomisation: no folder is passed.
    fx.set_config(&format!("{bootstrap}random_labels_images = 0\n"));
    fx.take_calls();
    fx.pipeline(None, &[]).unwrap();
    assert_eq!(
        fx.take_calls(),
        [
            "sanity --data --train --attribute --metrics",
            "report --data --train --attribute --metrics --stats --sanity"
        ]
    );
    assert!(fx.random_labels_log().is_empty());
}

#[test]
fn a_killed_training_resumes_and_a_trained_model_outlives_a_failed_sanity_stage() {
    let fx = Fixture::new();
    fx.control("kill_random_labels", Some(""));
    let err = fx.pipeline(None, &[]).unwrap_err().to_string();
    assert!(err.contains("stage sanity failed"), "{err}");
    assert!(fx.random_label_folders().is_empty());
    let tmp: Vec<String> = fx
        .tmp_entries()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        tmp.iter().any(|name| name.starts_with("random_labels-")),
        "{tmp:?}"
    );

    // The next run resumes the training; the model is kept although the stage fails later.
    fx.control("kill_random_labels", None);
    fx.control("fail_sanity", Some(""));
    fx.pipeline(None, &[]).unwrap_err();
    assert_eq!(fx.random_labels_log(), ["resumed", "trained"]);
    let folders = fx.random_label_folders();
    assert_eq!(folders.len(), 1);
    assert!(folders[0].join("key.json").is_file());
    assert!(!folders[0]
        .join("random_labels.checkpoint.safetensors")
        .exists());

    fx.control("fail_sanity", None);
    fx.pipeline(None, &[]).unwrap();
    assert_eq!(fx.random_labels_log(), ["cached"]);
    assert!(fx.tmp_entries().is_empty(), "{:?}", fx.tmp_entries());
}
