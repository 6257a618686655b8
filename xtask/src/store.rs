//! Stage folders on disk: `key.json`, finished folders, temporary folders, installing.
//!
//! A stage folder is *finished* when it sits at `artifacts/<stage>/<key prefix>/` and holds a
//! `key.json` whose `key` is the full expected key. `key.json` is written last, inside the
//! temporary folder, and the folder is renamed into place after that: an interrupted run never
//! leaves a folder that looks finished.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sal_artifact::meta::KEY_FILE;
use sal_config::Stage;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::key::{Field, StageKey};
use crate::project::{short_key, Project};

/// The contents of `key.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The full cache key (read by `sal_artifact::input_key`).
    pub key: String,
    /// The stage name (`random_labels` for the random-label model's folder).
    pub stage: String,
    /// Every field that went into the key, by name.
    pub fields: BTreeMap<String, Value>,
    /// How long the stage took to run.
    pub wall_seconds: f64,
    /// `sal <version>` of the orchestrated build.
    pub sal_version: String,
}

impl KeyRecord {
    /// The record of a stage that ran for `wall_seconds`.
    pub fn new(key: &StageKey, wall_seconds: f64) -> Self {
        Self::of(&key.key, key.stage.name(), &key.fields, wall_seconds)
    }

    /// The record of any cached unit (a stage, or the random-label model) of key `key`, named
    /// `unit`, with its key fields.
    pub fn of(key: &str, unit: &str, fields: &[Field], wall_seconds: f64) -> Self {
        KeyRecord {
            key: key.to_owned(),
            stage: unit.to_owned(),
            fields: fields
                .iter()
                .map(|f| (f.name.clone(), f.value.clone()))
                .collect(),
            wall_seconds,
            sal_version: sal_artifact::created_by(),
        }
    }
}

/// Reads `<folder>/key.json`; `None` if there is none.
pub fn read_record(folder: &Path) -> anyhow::Result<Option<KeyRecord>> {
    let path = folder.join(KEY_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let text = fs_err::read_to_string(&path)?;
    let record = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a key.json written by xtask", path.display()))?;
    Ok(Some(record))
}

/// Writes `<folder>/key.json` (pretty, keys sorted).
pub fn write_record(folder: &Path, record: &KeyRecord) -> anyhow::Result<()> {
    let value = serde_json::to_value(record).context("key.json is representable as JSON")?;
    let text = serde_json::to_string_pretty(&sort(value)).context("printing key.json")?;
    fs_err::write(folder.join(KEY_FILE), text + "\n")?;
    Ok(())
}

/// The same JSON with object keys sorted at every depth (whatever serde_json's map type).
fn sort(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, sort(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort).collect()),
        scalar => scalar,
    }
}

/// The finished folder of this key and its record, if there is one.
pub fn finished(project: &Project, key: &StageKey) -> anyhow::Result<Option<(PathBuf, KeyRecord)>> {
    let folder = project.folder(key.stage, &key.key);
    Ok(readable_record(&folder)?
        .filter(|r| r.key == key.key)
        .map(|r| (folder, r)))
}

/// [`read_record`], but a `key.json` that does not parse counts as absent (with a warning):
/// such a folder is not finished, and the next pipeline run replaces it.
pub(crate) fn readable_record(folder: &Path) -> anyhow::Result<Option<KeyRecord>> {
    match read_record(folder) {
        Ok(record) => Ok(record),
        Err(err) => {
            eprintln!("xtask: ignoring {}: {err:#}", folder.display());
            Ok(None)
        }
    }
}

/// The most recently finished folder of a stage (by the modification time of its `key.json`),
/// whatever its key: what `status` compares a stale stage against.
pub fn newest(project: &Project, stage: Stage) -> anyhow::Result<Option<(PathBuf, KeyRecord)>> {
    let dir = project.stage_dir(stage);
    if !dir.is_dir() {
        return Ok(None);
    }
    let mut best: Option<(std::time::SystemTime, PathBuf, KeyRecord)> = None;
    for entry in fs_err::read_dir(&dir)? {
        let folder = entry
            .with_context(|| format!("listing {}", dir.display()))?
            .path();
        let Some(record) = readable_record(&folder)? else {
            continue;
        };
        let modified = fs_err::metadata(folder.join(KEY_FILE))?
            .modified()
            .context("file times are supported")?;
        // Ties (same mtime) are broken by path, so the answer does not depend on listing order.
        let better = best
            .as_ref()
            .is_none_or(|(t, p, _)| (modified, &folder) > (*t, p));
        if better {
            best = Some((modified, folder, record));
        }
    }
    Ok(best.map(|(_, folder, record)| (folder, record)))
}

/// The folder where a run of this key builds its outputs: `artifacts/.tmp/<stage>-<key prefix>/`.
///
/// It depends on the key only, so a stage that failed or was killed finds what it left there
/// (its checkpoints) when the pipeline runs it again, and resumes. The pipeline lock guarantees
/// one writer.
pub fn tmp_folder(project: &Project, key: &StageKey) -> PathBuf {
    project
        .tmp_dir()
        .join(format!("{}-{}", key.stage, short_key(&key.key)))
}

/// Creates (or reopens) the temporary folder of this key; returns it and whether an earlier,
/// interrupted run left files there to resume from.
pub fn create_tmp(project: &Project, key: &StageKey) -> anyhow::Result<(PathBuf, bool)> {
    let tmp = tmp_folder(project, key);
    let resumed = tmp.is_dir() && fs_err::read_dir(&tmp)?.next().is_some();
    fs_err::create_dir_all(&tmp)?;
    Ok((tmp, resumed))
}

/// Writes `key.json` into the temporary folder, then renames it into place (replacing a
/// previous folder of the same key, e.g. on `--force`). Returns the finished folder.
pub fn install(
    project: &Project,
    tmp: &Path,
    key: &StageKey,
    wall_seconds: f64,
) -> anyhow::Result<PathBuf> {
    let folder = project.folder(key.stage, &key.key);
    install_folder(project, tmp, &folder, &KeyRecord::new(key, wall_seconds))?;
    Ok(folder)
}

/// Writes `record` as `key.json` into `tmp`, then renames `tmp` to `folder` (moving a previous
/// folder there aside first and deleting it).
pub fn install_folder(
    project: &Project,
    tmp: &Path,
    folder: &Path,
    record: &KeyRecord,
) -> anyhow::Result<()> {
    write_record(tmp, record)?;
    if let Some(parent) = folder.parent() {
        fs_err::create_dir_all(parent)?;
    }
    if folder.exists() {
        // A directory cannot be renamed over a non-empty one: move the old one aside first.
        let old = project.tmp_dir().join(format!(
            "replaced-{}-{}-{}",
            record.stage,
            short_key(&record.key),
            std::process::id()
        ));
        fs_err::rename(folder, &old)?;
        fs_err::rename(tmp, folder)?;
        fs_err::remove_dir_all(&old)?;
    } else {
        fs_err::rename(tmp, folder)?;
    }
    Ok(())
}

/// Removes everything in `artifacts/.tmp/` except the folders in `keep` (the temporary folders
/// of the stages this pipeline may run, which hold what an interrupted run left to resume
/// from). Call it only while holding the pipeline lock: then no other pipeline is building
/// there, so whatever is left was abandoned by an interrupted run. Returns the removed entries.
pub fn clean_tmp(project: &Project, keep: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let tmp = project.tmp_dir();
    let mut removed = Vec::new();
    if !tmp.is_dir() {
        return Ok(removed);
    }
    let mut entries: Vec<PathBuf> = fs_err::read_dir(&tmp)?
        .map(|e| {
            e.map(|e| e.path())
                .with_context(|| format!("listing {}", tmp.display()))
        })
        .collect::<anyhow::Result<_>>()?;
    entries.sort();
    for path in entries {
        if keep.contains(&path) {
            continue;
        }
        if fs_err::symlink_metadata(&path)?.is_dir() {
            fs_err::remove_dir_all(&path)?;
        } else {
            fs_err::remove_file(&path)?;
        }
        removed.push(path);
    }
    Ok(removed)
}
