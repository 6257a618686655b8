//! The `data` stage: batch files in, `dataset.safetensors` out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sal_artifact::{Kind, Meta};
use sal_config::{Config, Stage};
use tracing::{debug, info};

use crate::batch::{read_batch_with_progress, sha256_hex, Batch};
use crate::error::{DataError, Result};
use crate::official::{
    batch_files, CLASSES, CLASS_NAMES, FILE_BYTES, IMAGE_BYTES, META_FILE, RECORDS_PER_FILE,
    TRAIN_FILES,
};
use crate::progress::bytes_bar;
use crate::source::{locate_or_download, Source};
use crate::split::split;
use crate::stats::{channel_stats, ChannelStats};
use sal_artifact::dataset::{Dataset, Part, META_SOURCE_SHA256, META_VERIFIED};

/// Where [`run`] downloads the official archive, relative to the current folder.
pub const DEFAULT_DOWNLOADS_DIR: &str = "artifacts/downloads";

/// How [`run_with`] runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Folder for the downloaded archive and its unpacked batches (used only when neither
    /// `data.dir` nor `SAL_CIFAR10_DIR` is set).
    pub downloads_dir: PathBuf,
    /// Draw progress bars (on stderr, and only when it is a terminal).
    pub progress: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            downloads_dir: PathBuf::from(DEFAULT_DOWNLOADS_DIR),
            progress: true,
        }
    }
}

/// What the stage wrote and what it read.
#[derive(Debug, Clone)]
pub struct DataOutputs {
    /// `out_dir/dataset.safetensors`.
    pub dataset: PathBuf,
    /// Where the batch files were read from.
    pub source: Source,
    /// Whether every batch file matched its official SHA-256.
    pub verified: bool,
    /// SHA-256 of every file read, by file name.
    pub source_sha256: BTreeMap<String, String>,
    /// Images in the training, validation and test parts.
    pub sizes: [usize; 3],
    /// Channel statistics of the training split (f64, before rounding to the stored f32).
    pub stats: ChannelStats,
}

/// Runs the stage with the default options (downloads into [`DEFAULT_DOWNLOADS_DIR`]).
pub fn run(config: &Config, out_dir: &Path) -> Result<DataOutputs> {
    run_with(config, out_dir, &RunOptions::default())
}

/// Runs the stage: locate (or download) the batches, read and check all six, split the
/// training set, compute the channel statistics, and write `out_dir/dataset.safetensors`.
///
/// Everything is read and checked before anything is written: on any error `out_dir` is left
/// untouched (not even created). The output depends only on the bytes of the batch files and
/// on `[data]` (`seed`, `verify`): the same inputs give a byte-identical file.
pub fn run_with(config: &Config, out_dir: &Path, options: &RunOptions) -> Result<DataOutputs> {
    let source = locate_or_download(config, &options.downloads_dir, options.progress)?;
    info!(dir = %source.dir.display(), from = %source.origin, "reading the CIFAR-10 batches");
    for name in batch_files() {
        let path = source.dir.join(name);
        if !path.is_file() {
            return Err(DataError::MissingFile {
                path,
                origin: source.origin.to_string(),
            });
        }
    }

    let verify = config.data.verify;
    let batches = read_all(&source.dir, verify, options.progress)?;
    let mut source_sha256: BTreeMap<String, String> = batch_files()
        .zip(&batches)
        .map(|(name, batch)| (name.to_owned(), batch.sha256.clone()))
        .collect();
    if verify {
        info!("all six batch files match their official SHA-256");
    } else {
        info!("data.verify = false: batch files not checked against the official SHA-256 (records validated)");
    }

    let class_names = read_class_names(&source.dir, &mut source_sha256)?;
    let (train_batches, test_batch) = batches.split_at(TRAIN_FILES.len());
    let split = split(config.data.seed);
    let train = gather(train_batches, &split.train);
    let val = gather(train_batches, &split.val);
    let test_batch = &test_batch[0];
    let test = Part {
        images: test_batch.images.clone(),
        labels: test_batch.labels.clone(),
        index: (0..test_batch.len() as u32).collect(),
    };
    drop(batches);
    let stats = channel_stats(&train.images)?;
    debug!(mean = ?stats.mean, std = ?stats.std, "channel statistics of the training split");

    let meta = Meta::new(
        Kind::Dataset,
        Stage::Data.name(),
        config.section_json(Stage::Data),
    )
    .with_extra(META_SOURCE_SHA256, serde_json::json!(source_sha256))
    .with_extra(META_VERIFIED, serde_json::json!(verify));
    let sizes = [train.len(), val.len(), test.len()];
    let dataset = Dataset {
        train,
        val,
        test,
        channel_mean: stats.mean_f32(),
        channel_std: stats.std_f32(),
        class_names,
        meta,
    };
    let path = dataset.write(&out_dir.join(Kind::Dataset.file_name()))?;
    info!(path = %path.display(), train = sizes[0], val = sizes[1], test = sizes[2], seed = config.data.seed, "wrote the data set");
    Ok(DataOutputs {
        dataset: path,
        source,
        verified: verify,
        source_sha256,
        sizes,
        stats,
    })
}

/// Reads the six batch files in parallel, with one progress bar over all their bytes.
///
/// On failure, the error of the first failing file in official order is returned, so the
/// message does not depend on thread timing.
fn read_all(dir: &Path, verify: bool, progress: bool) -> Result<Vec<Batch>> {
    let files: Vec<PathBuf> = batch_files().map(|name| dir.join(name)).collect();
    let bar = bytes_bar(
        Some(FILE_BYTES * files.len() as u64),
        if verify { "verifying" } else { "reading" },
        progress,
    );
    let results: Vec<Result<Batch>> = files
        .par_iter()
        .map(|path| read_batch_with_progress(path, verify, &bar))
        .collect();
    bar.finish_and_clear();
    results.into_iter().collect()
}

/// The images of the given official training indices, in that order.
///
/// # Shapes
/// `batches`: five batches of 10,000 images; returns a part of `indices.len()` images.
fn gather(batches: &[Batch], indices: &[u32]) -> Part {
    let mut images = Vec::with_capacity(indices.len() * IMAGE_BYTES);
    let mut labels = Vec::with_capacity(indices.len());
    for &i in indices {
        let i = i as usize;
        let batch = &batches[i / RECORDS_PER_FILE];
        images.extend_from_slice(batch.image(i % RECORDS_PER_FILE));
        labels.push(batch.labels[i % RECORDS_PER_FILE]);
    }
    Part {
        images,
        labels,
        index: indices.to_vec(),
    }
}

/// The class names from `batches.meta.txt` (non-empty lines, trimmed) when the file exists,
/// recording its SHA-256; else the official names.
fn read_class_names(
    dir: &Path,
    source_sha256: &mut BTreeMap<String, String>,
) -> Result<Vec<String>> {
    let path = dir.join(META_FILE);
    if !path.is_file() {
        debug!(path = %path.display(), "no class-name file; using the official names");
        return Ok(CLASS_NAMES.map(str::to_owned).to_vec());
    }
    let bytes = fs_err::read(&path)?;
    let text = String::from_utf8(bytes.clone()).map_err(|e| DataError::ClassNames {
        path: path.clone(),
        message: format!("not UTF-8 text: {e}"),
    })?;
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if names.len() != CLASSES {
        return Err(DataError::ClassNames {
            path,
            message: format!(
                "expected {CLASSES} class names (one a line), found {}; fix or remove the file (the official names are used without it)",
                names.len()
            ),
        });
    }
    source_sha256.insert(META_FILE.to_owned(), sha256_hex(&bytes));
    Ok(names)
}
