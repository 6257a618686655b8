//! The random-label model of the `sanity` stage, cached on its own.
//!
//! Training the network on permuted labels (`sal_sanity::random_labels`) is the sanity stage's
//! longest part (hours on the paper's 45,000 images) and depends on far less than the stage:
//! the dataset, the `[train]` recipe it inherits, `[sanity] seed` and the `random_labels_*`
//! keys (all combined by `SanityConfig::random_labels_train`), and the training code. So its
//! model lives in a folder of its own, `artifacts/random_labels/<key>/`, keyed by exactly
//! those, and `sal sanity` gets that folder as `--random-labels DIR`: it reuses the finished
//! model there, or trains into it (checkpointing, so a killed run resumes). A change of
//! `[sanity] bootstrap`, say, re-runs the sanity stage with the cached model.
//!
//! The folder follows the stage folders' rules: built in `artifacts/.tmp/random_labels-<key>/`
//! and renamed into place with `key.json` once `random_labels.safetensors` (written last and
//! atomically by `sal`) is there. Only `sal`'s sanity stage gets the argument: an `[external]`
//! sanity program keeps the plain stage interface, and no key is computed for it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sal_artifact::Kind;
use sal_config::{Config, Stage};
use serde_json::{json, Value};

use crate::key::{hash_fields, schemas, Field, KEY_FORMAT};
use crate::project::{short_key, Project};
use crate::sources::SourceHasher;
use crate::store::{self, KeyRecord};

/// The unit's name: its folder under `artifacts/` and the `stage` of its `key.json`.
pub const UNIT: &str = "random_labels";

/// The finished model in the folder (`sal_sanity::random_labels::MODEL_FILE`).
pub const MODEL_FILE: &str = "random_labels.safetensors";

/// The crates whose sources identify the training code: the format, the config (the recipe),
/// the model and its training loop.
pub const CRATES: [&str; 3] = ["crates/artifact", "crates/config", "crates/model"];

/// Single source files that identify it too: of the sanity crate, only the module that trains
/// (its other files cannot change the model, and editing them must not retrain it).
pub const FILES: [&str; 1] = ["crates/sanity/src/random_labels.rs"];

/// The random-label model's cache key and the fields it was computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomLabelsKey {
    /// 64 hex digits of blake3.
    pub key: String,
    /// What went into the key, in hashing order.
    pub fields: Vec<Field>,
}

impl RandomLabelsKey {
    /// The value of a field, if present.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| &f.value)
    }

    /// `key.json` of a folder built in `wall_seconds` (the sanity run that trained it).
    pub fn record(&self, wall_seconds: f64) -> KeyRecord {
        KeyRecord::of(&self.key, UNIT, &self.fields, wall_seconds)
    }
}

/// The key of the random-label model of `config` on the dataset of key `data_key`, or `None`
/// when there is none to cache (`random_labels_images = 0`, or an `[external]` sanity stage).
///
/// Fields: `format`, `unit`, `schemas.reads` (the dataset), `config` (`{images, train}`: the
/// configured image count and the whole `[train]` section the run trains with, which is what
/// determines the model and nothing else), `input.data`, and the code of [`CRATES`] and
/// [`FILES`].
pub fn key(
    config: &Config,
    data_key: &str,
    hasher: &mut SourceHasher,
) -> anyhow::Result<Option<RandomLabelsKey>> {
    let sanity = &config.sanity;
    if sanity.random_labels_images == 0 || config.external.command(Stage::Sanity).is_some() {
        return Ok(None);
    }
    let recipe = serde_json::to_value(sanity.random_labels_train(&config.train))
        .context("the random-label recipe is representable as JSON")?;
    let mut fields = vec![
        Field::new("format", KEY_FORMAT),
        Field::new("unit", UNIT),
        Field::new("schemas.reads", schemas(&[Kind::Dataset])),
        Field::new(
            "config",
            json!({"images": sanity.random_labels_images, "train": recipe}),
        ),
        Field::new("input.data", data_key),
    ];
    fields.extend(hasher.code_fields_of(&CRATES, &FILES)?);
    Ok(Some(RandomLabelsKey {
        key: hash_fields(&fields),
        fields,
    }))
}

/// `artifacts/random_labels/<key prefix>/`, the folder of the finished model.
pub fn folder(project: &Project, key: &RandomLabelsKey) -> PathBuf {
    project.artifacts.join(UNIT).join(short_key(&key.key))
}

/// `artifacts/.tmp/random_labels-<key prefix>/`, where the model is trained (and a killed
/// training's checkpoint waits for the next run).
pub fn tmp_folder(project: &Project, key: &RandomLabelsKey) -> PathBuf {
    project
        .tmp_dir()
        .join(format!("{UNIT}-{}", short_key(&key.key)))
}

/// The finished folder of this key and its record: `key.json` holds the full key and the model
/// file is there.
pub fn finished(
    project: &Project,
    key: &RandomLabelsKey,
) -> anyhow::Result<Option<(PathBuf, KeyRecord)>> {
    let folder = folder(project, key);
    Ok(store::readable_record(&folder)?
        .filter(|r| r.key == key.key && folder.join(MODEL_FILE).is_file())
        .map(|r| (folder, r)))
}

/// Installs `tmp` as the finished folder if it holds the model (`sal` writes it last and
/// atomically, so it is whole); returns the folder, or `None` if the model is not there (the
/// training was interrupted: `tmp` stays for the next run to resume from).
pub fn install_if_trained(
    project: &Project,
    tmp: &Path,
    key: &RandomLabelsKey,
    wall_seconds: f64,
) -> anyhow::Result<Option<PathBuf>> {
    if !tmp.join(MODEL_FILE).is_file() {
        return Ok(None);
    }
    let folder = folder(project, key);
    store::install_folder(project, tmp, &folder, &key.record(wall_seconds))?;
    Ok(Some(folder))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, text).unwrap();
    }

    /// A repository with every crate the key reads.
    fn repository() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for krate in ["artifact", "config", "model", "sanity"] {
            write(
                &dir.path().join(format!("crates/{krate}/src/lib.rs")),
                "//! x\n",
            );
        }
        write(
            &dir.path().join("crates/sanity/src/random_labels.rs"),
            "//! trains\n",
        );
        dir
    }

    const BASE: &str = "[sanity]\nrandom_labels_images = 2000\nrandom_labels_epochs = 10\n\
        random_labels_optimizer = \"adam\"\nrandom_labels_learning_rate = 0.001\n";

    /// The key of the config `text`.
    fn key_of(root: &Path, text: &str, data_key: &str) -> Option<String> {
        let config = Config::parse(text).unwrap();
        key(&config, data_key, &mut SourceHasher::new(root))
            .unwrap()
            .map(|k| k.key)
    }

    /// BASE with `line` in `[section]`: replacing BASE's line of the same key, or added.
    fn with(section: &str, line: &str) -> String {
        let name = line.split(" =").next().unwrap();
        if section != "sanity" {
            return format!("{BASE}[{section}]\n{line}\n");
        }
        match BASE.lines().find(|l| l.starts_with(&format!("{name} ="))) {
            Some(old) => BASE.replace(old, line),
            None => format!("{BASE}{line}\n"),
        }
    }

    #[test]
    fn only_what_determines_the_model_enters_the_key() {
        let repo = repository();
        let root = repo.path();
        let base = key_of(root, BASE, "d").unwrap();
        assert_eq!(key_of(root, BASE, "d").unwrap(), base, "deterministic");

        // What the run replaces or does not read: the same model, the same key.
        for (section, line) in [
            ("sanity", "bootstrap = 77"),
            ("sanity", "images_per_class = 3"),
            ("sanity", "metric_images_per_class = 3"),
            ("sanity", "ci = 0.9"),
            ("sanity", "example_images = 1"),
            ("sanity", "cascade = false"),
            ("sanity", "deep_shap_background = 5"),
            ("train", "epochs = 3"),
            ("train", "seed = 77"),
            ("train", "patience = 1"),
            ("train", "crop_padding = 0"),
            ("train", "horizontal_flip = false"),
            ("train", "max_train_images = 100"),
            // Replaced by random_labels_optimizer / _learning_rate in BASE.
            ("train", "optimizer = \"adam\""),
            ("train", "learning_rate = 0.2"),
            ("metrics", "steps = 10"),
            ("attribute", "images_per_class = 3"),
        ] {
            assert_eq!(
                key_of(root, &with(section, line), "d").unwrap(),
                base,
                "[{section}] {line} changed the key"
            );
        }

        // What determines it: another key.
        for (section, line) in [
            ("sanity", "random_labels_epochs = 11"),
            ("sanity", "random_labels_images = 1000"),
            ("sanity", "seed = 6"),
            ("sanity", "random_labels_dropout = 0.0"),
            ("sanity", "random_labels_weight_decay = 0.0"),
            // Inherited from the recipe (no [sanity] replacement in BASE).
            ("train", "batch_size = 64"),
            ("train", "dropout = 0.1"),
            ("train", "weight_decay = 0.0"),
            ("train", "momentum = 0.5"),
            ("train", "schedule = \"constant\""),
            ("train", "warmup_epochs = 0.5"),
            ("train", "widths = [8, 8, 16, 16, 32, 32]"),
        ] {
            assert_ne!(
                key_of(root, &with(section, line), "d").unwrap(),
                base,
                "[{section}] {line} did not change the key"
            );
        }
        // The dataset (the data seed changes the data stage's key, which chains here).
        assert_ne!(key_of(root, BASE, "another data key").unwrap(), base);
    }

    #[test]
    fn the_training_code_enters_the_key_and_the_rest_of_the_sanity_crate_does_not() {
        let repo = repository();
        let root = repo.path();
        let base = key_of(root, BASE, "d").unwrap();
        write(&root.join("crates/sanity/src/lib.rs"), "//! edited\n");
        write(&root.join("crates/sanity/src/stage.rs"), "//! new\n");
        assert_eq!(key_of(root, BASE, "d").unwrap(), base);
        for file in [
            "crates/sanity/src/random_labels.rs",
            "crates/model/src/lib.rs",
            "crates/config/src/lib.rs",
            "crates/artifact/src/lib.rs",
        ] {
            let before = key_of(root, BASE, "d").unwrap();
            write(&root.join(file), "//! edited\n");
            assert_ne!(key_of(root, BASE, "d").unwrap(), before, "{file}");
        }
    }

    #[test]
    fn no_key_without_a_random_label_model_or_for_an_external_sanity_stage() {
        let repo = repository();
        let off = with("sanity", "random_labels_images = 0");
        assert!(key_of(repo.path(), &off, "d").is_none());
        let external = format!("{BASE}[external]\nsanity = [\"python3\", \"sanity.py\"]\n");
        assert!(key_of(repo.path(), &external, "d").is_none());
    }
}
