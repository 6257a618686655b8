//! The cache keys of every stage for one config, computed before anything runs.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use sal_config::{Config, Stage};
use serde_json::{Map, Value};

use crate::key::{head_fields, Field, StageKey};
use crate::project::Project;
use crate::random_labels::{self, RandomLabelsKey};
use crate::runner::config_dir;
use crate::sources::SourceHasher;
use crate::store;

/// The six CIFAR-10 batch files the `data` stage reads.
pub const BATCH_FILES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];

/// The keys of all stages for one config, chained in pipeline order.
#[derive(Debug, Clone)]
pub struct Plan {
    /// One key per stage, in the order of [`Stage::ALL`].
    pub keys: Vec<StageKey>,
    /// The key of the sanity stage's random-label model, cached on its own (`None` when the
    /// config trains none or the sanity stage is external).
    pub random_labels: Option<RandomLabelsKey>,
    /// The `[report] variants` of the config, resolved to their report keys (none when the
    /// report stage is `[external]`: an external report program keeps the plain interface).
    pub variants: Vec<ReportVariant>,
}

/// A `[report] variants` entry resolved by the pipeline: its report key, computed exactly as
/// `cargo xtask pipeline --config <its config>` computes it (its pipeline is never run), and
/// its finished report folder of that key, if there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportVariant {
    /// The row label.
    pub name: String,
    /// The variant's config file (absolute).
    pub config: PathBuf,
    /// Its report stage key.
    pub key: StageKey,
    /// Its finished report folder of that key; `None` when it is missing or stale.
    pub folder: Option<PathBuf>,
}

impl ReportVariant {
    /// What enters the report's key for this variant: its report key, or `missing`.
    pub fn key_value(&self) -> Value {
        match &self.folder {
            Some(_) => Value::String(self.key.key.clone()),
            None => Value::String("missing".to_owned()),
        }
    }
}

impl Plan {
    /// Computes every stage's key: its own fields plus the keys of its inputs.
    ///
    /// `project.root` holds the crates whose sources identify the code; `config_path` is where
    /// the config was loaded from (external commands and `[report] variants` are relative to
    /// its folder). The report's key holds, per variant, its name and its report key when
    /// `project.artifacts` has that report finished, else `missing`: the report runs again
    /// when a variant's report appears or changes.
    pub fn new(project: &Project, config: &Config, config_path: &Path) -> anyhow::Result<Self> {
        let mut hasher = SourceHasher::new(&project.root);
        Self::build(project, config, config_path, &mut hasher, &mut Vec::new())
    }

    /// [`Plan::new`] with a shared source hasher; `chain` holds the configs whose variants led
    /// here (a variant that leads back to one of them is an error, not an endless loop).
    fn build(
        project: &Project,
        config: &Config,
        config_path: &Path,
        hasher: &mut SourceHasher,
        chain: &mut Vec<PathBuf>,
    ) -> anyhow::Result<Self> {
        let mut keys: Vec<StageKey> = Vec::with_capacity(Stage::ALL.len());
        let mut variants = Vec::new();
        for stage in Stage::ALL {
            let mut fields = head_fields(stage, config.section_json(stage));
            for input in stage.inputs() {
                let upstream = keys
                    .iter()
                    .find(|k| k.stage == *input)
                    .expect("inputs precede their stage");
                fields.push(Field::new(format!("input.{input}"), upstream.key.clone()));
            }
            match config.external.command(stage) {
                Some(command) => fields.extend(external_fields(command, &config_dir(config_path))?),
                None => fields.extend(hasher.code_fields(stage)?),
            }
            if stage == Stage::Data && !config.data.verify {
                fields.push(Field::new("data.batch_files", batch_files(config)?));
            }
            if stage == Stage::Report && config.external.command(stage).is_none() {
                variants = report_variants(project, config, config_path, hasher, chain)?;
                for variant in &variants {
                    fields.push(Field::new(
                        format!("variant.{}", variant.name),
                        variant.key_value(),
                    ));
                }
            }
            keys.push(StageKey::new(stage, fields));
        }
        let data_key = &keys[0].key;
        let random_labels = random_labels::key(config, data_key, hasher)?;
        Ok(Plan {
            keys,
            random_labels,
            variants,
        })
    }

    /// The key of one stage.
    pub fn key(&self, stage: Stage) -> &StageKey {
        self.keys
            .iter()
            .find(|k| k.stage == stage)
            .expect("a plan holds every stage")
    }
}

/// The config's `[report] variants`, each resolved to its report key and finished folder.
fn report_variants(
    project: &Project,
    config: &Config,
    config_path: &Path,
    hasher: &mut SourceHasher,
    chain: &mut Vec<PathBuf>,
) -> anyhow::Result<Vec<ReportVariant>> {
    let canonical = |p: &Path| fs_err::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let mut out = Vec::new();
    chain.push(canonical(config_path));
    for variant in &config.report.variants {
        let path = &variant.config;
        let context = || {
            format!(
                "[report] variant {:?} of {}",
                variant.name,
                config_path.display()
            )
        };
        if chain.contains(&canonical(path)) {
            bail!(
                "{}: {} leads back to a config whose variants led to it (a cycle)",
                context(),
                path.display()
            );
        }
        let loaded = Config::load(path)
            .with_context(|| format!("loading config {}", path.display()))
            .with_context(context)?;
        let plan = Plan::build(project, &loaded, path, hasher, chain).with_context(context)?;
        let key = plan.key(Stage::Report).clone();
        let folder = store::finished(project, &key)?.map(|(folder, _)| folder);
        out.push(ReportVariant {
            name: variant.name.clone(),
            config: path.clone(),
            key,
            folder,
        });
    }
    chain.pop();
    Ok(out)
}

/// With `data.verify = false` the batch files are not pinned by checksums, so their content
/// enters the key: `{file name: blake3 hex or "missing"}`, or a note when no folder is
/// configured (the stage then downloads the official archive, which is checksummed).
fn batch_files(config: &Config) -> anyhow::Result<Value> {
    let Some(dir) = sal_config::cifar10_dir(config) else {
        return Ok(Value::String(
            "no folder configured: the official archive".to_owned(),
        ));
    };
    let mut files = Map::new();
    for name in BATCH_FILES {
        let path = dir.join(name);
        let value = if path.is_file() {
            hash_file(&path)?
        } else {
            "missing".to_owned()
        };
        files.insert(name.to_owned(), Value::String(value));
    }
    Ok(Value::Object(files))
}

/// The code identity of a stage replaced by an `[external]` command: the command as written,
/// and the blake3 of every argument that names a file (relative to the config's folder), so
/// editing the script re-runs the stage.
fn external_fields(command: &[String], config_dir: &Path) -> anyhow::Result<Vec<Field>> {
    let mut files = Map::new();
    for arg in command {
        let path = config_dir.join(arg);
        if !arg.is_empty() && path.is_file() {
            files.insert(arg.clone(), Value::String(hash_file(&path)?));
        }
    }
    Ok(vec![
        Field::new("code.external", Value::from(command.to_vec())),
        Field::new("code.external_files", Value::Object(files)),
    ])
}

fn hash_file(path: &Path) -> anyhow::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher
        .update_reader(fs_err::File::open(path)?)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(hasher.finalize().to_hex().to_string())
}
