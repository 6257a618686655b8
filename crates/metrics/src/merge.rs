//! `sal merge metrics`: shard files -> the file an unsharded run writes.

use std::path::{Path, PathBuf};

use sal_artifact::names::metrics as names;
use sal_artifact::{Artifact, Kind, Meta};
use sal_config::MetricsConfig;

use crate::error::{MetricsError, Result};
use crate::output::{assemble, schema, Globals, Mode, META_SHARD};
use crate::protocol::Layout;
use crate::shard::ShardInfo;
use crate::table::Table;

/// One shard file, read.
struct Shard {
    path: PathBuf,
    meta: Meta,
    info: ShardInfo,
    layout: Layout,
    table: Table,
    globals: Globals,
}

impl Shard {
    fn read(dir: &Path) -> Result<Shard> {
        let path = dir.join(Kind::Metrics.file_name());
        let artifact = Artifact::open(&path, Kind::Metrics)?;
        let bad = |message: String| MetricsError::Merge {
            path: path.clone(),
            message,
        };
        let meta = artifact.meta().clone();
        let info_json = meta
            .extra
            .get(META_SHARD)
            .ok_or_else(|| bad("not a shard file (no `shard` metadata); write shards with `sal metrics --shard I/N`".to_owned()))?;
        let info: ShardInfo = serde_json::from_value(info_json.clone())
            .map_err(|e| bad(format!("bad `shard` metadata: {e}")))?;
        let layout = Layout::from_fields(&meta.extra).map_err(bad)?;
        let table = Table::read(&artifact, &schema(&layout))?;
        if table.images != info.end - info.first {
            return Err(bad(format!(
                "holds {} images, its metadata says positions {}..{}",
                table.images, info.first, info.end
            )));
        }
        let globals = Globals {
            random_orders: artifact.read(
                names::RANDOM_ORDERS,
                &[layout.random_orderings, sal_perturbation::PIXELS],
            )?,
            faithfulness_pixels: artifact
                .read(names::FAITHFULNESS_PIXELS, &[layout.faithfulness_pixels])?,
        };
        Ok(Shard {
            path,
            meta,
            info,
            layout,
            table,
            globals,
        })
    }
}

/// Joins the shard files in `shard_dirs` (each holding the `metrics.safetensors` of one
/// `sal metrics --shard I/N` run, in any order) into `<out_dir>/metrics.safetensors`, the same
/// bytes an unsharded run writes.
///
/// Every shard of the run must be present exactly once, and all must come from the same
/// config, inputs and code version.
pub fn merge(shard_dirs: &[PathBuf], out_dir: &Path) -> Result<PathBuf> {
    let mut shards = shard_dirs
        .iter()
        .map(|d| Shard::read(d))
        .collect::<Result<Vec<_>>>()?;
    let Some(first) = shards.first() else {
        return Err(MetricsError::Merge {
            path: out_dir.to_owned(),
            message: "no shard folders given".to_owned(),
        });
    };
    let (count, total) = (first.info.count, first.info.images_total);
    for s in &shards[1..] {
        let differ = |what: &str| MetricsError::Merge {
            path: s.path.clone(),
            message: format!(
                "{what} differs from that of {}: the shards come from different runs",
                first.path.display()
            ),
        };
        if s.meta.config != first.meta.config {
            return Err(differ("the [metrics] config"));
        }
        if s.meta.inputs != first.meta.inputs {
            return Err(differ("the input artifacts"));
        }
        if s.meta.created_by != first.meta.created_by || s.meta.schema != first.meta.schema {
            return Err(differ("the sal version"));
        }
        if s.layout != first.layout || s.globals != first.globals {
            return Err(differ(
                "the layout (methods, fills, sizes, random orderings or faithfulness pixels)",
            ));
        }
        if (s.info.count, s.info.images_total) != (count, total) {
            return Err(differ("the shard count or image count"));
        }
    }
    shards.sort_by_key(|s| s.info.index);
    let mut next = 0;
    for (i, s) in shards.iter().enumerate() {
        if s.info.index != i || s.info.first != next {
            let message = if s.info.index < i {
                format!("shard {}/{count} is given twice", s.info.index)
            } else {
                format!("shard {i}/{count} is missing")
            };
            return Err(MetricsError::Merge {
                path: s.path.clone(),
                message,
            });
        }
        next = s.info.end;
    }
    if shards.len() != count || next != total {
        return Err(MetricsError::Merge {
            path: out_dir.to_owned(),
            message: format!(
                "{} of {count} shards given, covering {next} of {total} images",
                shards.len()
            ),
        });
    }

    let first = &shards[0];
    let config: MetricsConfig =
        serde_json::from_value(first.meta.config.clone()).map_err(|e| MetricsError::Merge {
            path: first.path.clone(),
            message: format!("the `config` metadata is not a [metrics] section: {e}"),
        })?;
    let base = Meta {
        extra: Default::default(),
        ..first.meta.clone()
    };
    let layout = first.layout.clone();
    let globals = first.globals.clone();
    let tables: Vec<Table> = shards.into_iter().map(|s| s.table).collect();
    let table = Table::concat(&tables)?;
    let writer = assemble(
        &layout,
        &table,
        &globals,
        base,
        &Mode::Final {
            store_random_curves: config.store_random_curves,
        },
    )?;
    fs_err::create_dir_all(out_dir)?;
    let path = out_dir.join(Kind::Metrics.file_name());
    writer.write(&path)?;
    tracing::info!(
        "merged {count} shards ({total} images) into {}",
        path.display()
    );
    Ok(path)
}
