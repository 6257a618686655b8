//! Checkpoints: the finished chunks of a run, in `<out>/checkpoint/`, so a killed run resumes.
//!
//! A chunk file is a metrics artifact holding the per-image tensors of its images, with the
//! run's config, inputs and code version in its metadata plus a `checkpoint` field naming the
//! positions it covers. It is reused only if all of these match the current run and its
//! `image_index` is the expected one; anything else is recomputed (and overwritten).

use std::path::{Path, PathBuf};

use sal_artifact::names::metrics as names;
use sal_artifact::{Artifact, Kind, Meta};

use crate::error::Result;
use crate::output::{assemble, schema, Globals, Mode};
use crate::protocol::Layout;
use crate::table::Table;

/// The metadata field of a chunk file.
pub const META_CHECKPOINT: &str = "checkpoint";

/// The checkpoint folder of one run.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    dir: PathBuf,
    base: Meta,
    layout: Layout,
}

impl Checkpoints {
    /// The checkpoints of the run writing into `out_dir` with this base metadata and layout.
    pub fn new(out_dir: &Path, base: Meta, layout: Layout) -> Self {
        Checkpoints {
            dir: out_dir.join("checkpoint"),
            base,
            layout,
        }
    }

    /// The folder (`<out>/checkpoint`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of the chunk covering positions `first..end`.
    pub fn path(&self, first: usize, end: usize) -> PathBuf {
        self.dir
            .join(format!("chunk-{first:06}-{end:06}.safetensors"))
    }

    fn description(first: usize, end: usize) -> serde_json::Value {
        serde_json::json!({ "first": first, "end": end })
    }

    /// The chunk's table if a matching checkpoint exists; `None` (with a warning when a file was
    /// there but did not match) otherwise.
    ///
    /// # Shapes
    /// `index`: `[end - first]`, the test-set indices the chunk must hold.
    pub fn load(&self, first: usize, end: usize, index: &[u32]) -> Option<Table> {
        let path = self.path(first, end);
        if !path.is_file() {
            return None;
        }
        match self.try_load(&path, first, end, index) {
            Ok(Some(table)) => Some(table),
            Ok(None) => {
                tracing::warn!(
                    "{}: from another run (config, inputs, code or images differ); recomputing",
                    path.display()
                );
                None
            }
            Err(err) => {
                tracing::warn!(
                    "{}: unreadable checkpoint ({err}); recomputing",
                    path.display()
                );
                None
            }
        }
    }

    fn try_load(
        &self,
        path: &Path,
        first: usize,
        end: usize,
        index: &[u32],
    ) -> Result<Option<Table>> {
        let artifact = Artifact::open(path, Kind::Metrics)?;
        let meta = artifact.meta();
        let same_run = meta.config == self.base.config
            && meta.inputs == self.base.inputs
            && meta.created_by == self.base.created_by
            && meta.extra.get(META_CHECKPOINT) == Some(&Self::description(first, end))
            && Layout::from_fields(&meta.extra).as_ref() == Ok(&self.layout);
        if !same_run {
            return Ok(None);
        }
        let table = Table::read(&artifact, &schema(&self.layout))?;
        let stored = table
            .column(names::IMAGE_INDEX)
            .and_then(|c| c.data.as_u32());
        Ok((stored == Some(index)).then_some(table))
    }

    /// Writes the chunk's table atomically.
    pub fn save(&self, first: usize, end: usize, table: &Table, globals: &Globals) -> Result<()> {
        let mode = Mode::Partial {
            field: META_CHECKPOINT,
            description: Self::description(first, end),
        };
        let writer = assemble(&self.layout, table, globals, self.base.clone(), &mode)?;
        writer.write(&self.path(first, end))?;
        Ok(())
    }

    /// Removes the folder (after the final file is written).
    pub fn remove(&self) -> Result<()> {
        if self.dir.exists() {
            fs_err::remove_dir_all(&self.dir)?;
        }
        Ok(())
    }
}
