//! `checkpoint.safetensors`: the [`FitState`] after an epoch, so a killed run resumes.
//!
//! The file is a safetensors file with the usual `sal` metadata under the schema
//! `train_checkpoint/1` (not a pipeline artifact: it lives only in the output folder of an
//! unfinished `train` stage and is deleted when the stage completes). Its metadata records
//! what the run depends on (the `[train]` section, the dataset's key, the backend); a
//! checkpoint that does not match the current run is ignored with a warning. Every number of
//! the state is stored exactly (weights f32, log f64), and epoch `e`'s random streams are
//! derived from `(seed, e)`, so no RNG state is needed.
//!
//! Tensors: `weights.<name>` and `best.<name>` (every tensor of `model.safetensors`),
//! `optim.<slot>.<name>` (see [`Optimizer::state_tensors`]), and `log.<field>` f64 `[epochs]`.

use std::path::Path;

use sal_artifact::{Artifact, ArtifactWriter, Meta};
use sal_config::TrainConfig;
use serde_json::{json, Value};

use crate::arch::CONV_LAYERS;
use crate::candle_net::net::named_tensors;
use crate::error::{ModelError, Result};
use crate::train::fit::{architecture, optimizer_settings, EpochLog, FitState};
use crate::train::optim::Optimizer;
use crate::weights::Weights;

/// The checkpoint's file name in the stage's output folder.
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
/// The `schema` of a checkpoint's metadata.
pub const CHECKPOINT_SCHEMA: &str = "train_checkpoint/1";

/// What a checkpoint must match to be resumed from.
#[derive(Debug, Clone, PartialEq)]
pub struct RunIdentity {
    /// The `[train]` section as it enters the cache key.
    pub config: Value,
    /// The dataset's cache key (`inputs.data`).
    pub data_key: String,
    /// The backend computing the steps (`fast` or `candle`).
    pub backend: String,
}

const LOG_FIELDS: [&str; 4] = [
    "train_loss",
    "train_accuracy",
    "val_accuracy",
    "learning_rate",
];

fn log_column(log: &[EpochLog], field: &str) -> Vec<f64> {
    log.iter()
        .map(|e| match field {
            "train_loss" => e.train_loss,
            "train_accuracy" => e.train_accuracy,
            "val_accuracy" => e.val_accuracy,
            _ => e.learning_rate,
        })
        .collect()
}

/// Writes `state` atomically to `path`.
pub fn save(path: &Path, identity: &RunIdentity, state: &FitState) -> Result<()> {
    let meta = Meta {
        schema: CHECKPOINT_SCHEMA.to_owned(),
        stage: "train".to_owned(),
        config: identity.config.clone(),
        inputs: [("data".to_owned(), identity.data_key.clone())]
            .into_iter()
            .collect(),
        created_by: sal_artifact::created_by(),
        extra: Default::default(),
    }
    .with_extra("backend", json!(identity.backend))
    .with_extra("epochs_done", json!(state.epochs_done()))
    .with_extra("best_epoch", json!(state.best_epoch))
    .with_extra("finished", json!(state.finished))
    .with_extra("optimizer_steps", json!(state.optimizer.steps()))
    .with_extra("threads", json!(rayon::current_num_threads()));
    let mut writer = ArtifactWriter::new(meta);
    for (prefix, weights) in [("weights", &state.weights), ("best", &state.best)] {
        for (name, shape, data) in named_tensors(weights) {
            writer.add(&format!("{prefix}.{name}"), &shape, data)?;
        }
    }
    for (name, data) in state.optimizer.state_tensors(&state.weights.params) {
        writer.add(&name, &[data.len()], data)?;
    }
    for field in LOG_FIELDS {
        writer.add(
            &format!("log.{field}"),
            &[state.log.len()],
            &log_column(&state.log, field),
        )?;
    }
    writer.write(path)?;
    Ok(())
}

/// Why a checkpoint cannot be resumed from, if it cannot.
fn mismatch(meta: &Meta, identity: &RunIdentity) -> Option<String> {
    if meta.schema != CHECKPOINT_SCHEMA {
        return Some(format!(
            "schema `{}`, expected `{CHECKPOINT_SCHEMA}`",
            meta.schema
        ));
    }
    if meta.config != identity.config {
        return Some("it was written for another [train] configuration".to_owned());
    }
    if meta.inputs.get("data") != Some(&identity.data_key) {
        return Some("it was written for another dataset".to_owned());
    }
    if meta.extra.get("backend") != Some(&json!(identity.backend)) {
        return Some(format!(
            "it was written by another backend ({:?})",
            meta.extra.get("backend")
        ));
    }
    None
}

/// The state saved at `path` if the file exists and matches `identity`; `None` (with a
/// warning saying why) if it does not match or cannot be read, so the run starts afresh.
pub fn load(path: &Path, identity: &RunIdentity, config: &TrainConfig) -> Result<Option<FitState>> {
    if !path.exists() {
        return Ok(None);
    }
    let artifact = match Artifact::open_any(path) {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!("ignoring unreadable checkpoint: {e}");
            return Ok(None);
        }
    };
    if let Some(why) = mismatch(artifact.meta(), identity) {
        tracing::warn!(
            "{}: not resuming from this checkpoint: {why}",
            path.display()
        );
        return Ok(None);
    }
    let saved_threads = artifact.meta().extra.get("threads").and_then(Value::as_u64);
    if saved_threads != Some(rayon::current_num_threads() as u64) {
        tracing::warn!(
            "{}: written with {saved_threads:?} threads, resuming with {}: the result may differ in the last bits from an uninterrupted run",
            path.display(),
            rayon::current_num_threads()
        );
    }
    read_state(&artifact, config)
        .map(Some)
        .map_err(|e| match e {
            ModelError::Artifact(inner) => ModelError::Checkpoint {
                path: path.to_owned(),
                message: inner.to_string(),
            },
            other => other,
        })
}

fn read_state(artifact: &Artifact, config: &TrainConfig) -> Result<FitState> {
    let bad = |message: String| ModelError::Checkpoint {
        path: artifact.path().to_owned(),
        message,
    };
    let field = |name: &str| {
        artifact
            .meta()
            .extra
            .get(name)
            .and_then(Value::as_u64)
            .ok_or_else(|| bad(format!("metadata field `{name}` missing")))
    };
    let epochs_done = field("epochs_done")? as usize;
    let best_epoch = field("best_epoch")? as usize;
    let steps = field("optimizer_steps")?;
    let finished = artifact
        .meta()
        .extra
        .get("finished")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if best_epoch > epochs_done {
        return Err(bad(format!(
            "best epoch {best_epoch} after the last epoch {epochs_done}"
        )));
    }
    let arch = architecture(config);
    let read_weights = |prefix: &str| -> Result<Weights> {
        let mut w = crate::train::init::init_weights(&arch, 0);
        let mut tensors: Vec<(String, Vec<usize>)> = named_tensors(&w)
            .into_iter()
            .map(|(name, shape, _)| (name, shape))
            .collect();
        let mut values = Vec::with_capacity(tensors.len());
        for (name, shape) in tensors.drain(..) {
            values.push(artifact.read_finite::<f32>(&format!("{prefix}.{name}"), &shape)?);
        }
        let mut it = values.into_iter();
        for l in 0..CONV_LAYERS {
            w.params.conv[l] = it.next().expect("one per tensor");
            w.params.bn_weight[l] = it.next().expect("one per tensor");
            w.params.bn_bias[l] = it.next().expect("one per tensor");
            w.running_mean[l] = it.next().expect("one per tensor");
            w.running_var[l] = it.next().expect("one per tensor");
        }
        w.params.classifier = it.next().expect("one per tensor");
        Ok(w)
    };
    let weights = read_weights("weights")?;
    let best = read_weights("best")?;
    let optimizer = Optimizer::restore(
        optimizer_settings(config),
        &weights.params,
        steps,
        |name, len| Ok(artifact.read_finite::<f32>(name, &[len])?),
    )?;
    let columns: Vec<Vec<f64>> = LOG_FIELDS
        .iter()
        .map(|f| artifact.read::<f64>(&format!("log.{f}"), &[epochs_done]))
        .collect::<std::result::Result<_, _>>()?;
    let log = (0..epochs_done)
        .map(|e| EpochLog {
            train_loss: columns[0][e],
            train_accuracy: columns[1][e],
            val_accuracy: columns[2][e],
            learning_rate: columns[3][e],
        })
        .collect();
    Ok(FitState {
        weights,
        optimizer,
        best,
        best_epoch,
        log,
        finished,
    })
}
