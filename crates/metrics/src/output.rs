//! From per-image results to `metrics.safetensors`: the tensors, their order and the one
//! assembly function that every path (uninterrupted, resumed, merged) goes through.

use std::collections::BTreeMap;

use sal_artifact::names::metrics as names;
use sal_artifact::{ArtifactWriter, Meta};

use crate::aopc::aopc_all;
use crate::engine::ImageResult;
use crate::error::Result;
use crate::protocol::Layout;
use crate::saturation;
use crate::table::{Column, ColumnSpec, Data, Dtype, Table};

/// `predicted` u8 `[N]`: the class whose probability the curves follow (from
/// `saliency.safetensors`, checked against the model).
pub const PREDICTED: &str = "predicted";

/// The metadata field holding the shard description of a shard file.
pub const META_SHARD: &str = "shard";
/// The metadata field holding the number of images.
pub const META_IMAGES: &str = "images";
/// The metadata field counting NaN faithfulness values, `{method: {fill: count}}`.
pub const META_FAITHFULNESS_NAN: &str = "faithfulness_nan";
/// The metadata field naming the columns of the `saturation` tensor.
pub const META_SATURATION_COLUMNS: &str = "saturation_columns";
/// The metadata field holding the `saturation` tensor's column totals, `{column: total}`.
pub const META_SATURATION: &str = "saturation";

/// The tensors shared by all images of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Globals {
    /// u16 `[R, 1024]`.
    pub random_orders: Vec<u16>,
    /// u32 `[P]`.
    pub faithfulness_pixels: Vec<u32>,
}

/// Which file is being assembled.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// The stage's `metrics.safetensors`; the full random curves only if asked for.
    Final {
        /// `[metrics] store_random_curves`.
        store_random_curves: bool,
    },
    /// A shard (or checkpoint) file: always every per-image tensor, so that the final file can
    /// be assembled from it; `description` goes into the metadata.
    Partial {
        /// The metadata field and its value (`shard` or `checkpoint`).
        field: &'static str,
        /// What part of the run this is.
        description: serde_json::Value,
    },
}

/// The per-image columns of a layout, in the order they are stored.
pub fn schema(layout: &Layout) -> Vec<ColumnSpec> {
    table_from_results(layout, &[])
        .map(|t| t.specs())
        .expect("an empty table always fits its schema")
}

/// The table of these images' results (in the given order).
///
/// This function defines the per-image columns and their order ([`schema`] calls it with no
/// results).
pub fn table_from_results(layout: &Layout, results: &[ImageResult]) -> Result<Table> {
    let f_count = layout.fills.len();
    let (steps, width, r_count) = (layout.steps, layout.steps + 1, layout.random_orderings);
    let p_count = layout.faithfulness_pixels;
    let n = results.len();
    let f64_rows = |slice: &dyn Fn(&ImageResult) -> &[f64]| -> Data {
        Data::F64(
            results
                .iter()
                .flat_map(|r| slice(r).iter().copied())
                .collect(),
        )
    };
    let mut columns = Vec::new();
    let mut add = |spec: ColumnSpec, data: Data| columns.push(Column { spec, data });

    add(
        ColumnSpec::new(names::IMAGE_INDEX.to_owned(), Dtype::U32, &[]),
        Data::U32(results.iter().map(|r| r.index).collect()),
    );
    add(
        ColumnSpec::new(PREDICTED.to_owned(), Dtype::U8, &[]),
        Data::U8(results.iter().map(|r| r.predicted).collect()),
    );
    add(
        ColumnSpec::new(names::P0.to_owned(), Dtype::F64, &[]),
        Data::F64(results.iter().map(|r| r.p0).collect()),
    );
    add(
        ColumnSpec::new(names::Q0.to_owned(), Dtype::F64, &[]),
        Data::F64(results.iter().map(|r| r.q0).collect()),
    );
    let saturation_columns = saturation::columns(layout);
    add(
        ColumnSpec::new(
            names::SATURATION.to_owned(),
            Dtype::U32,
            &[saturation_columns.len()],
        ),
        Data::U32(
            results
                .iter()
                .flat_map(|r| r.saturation.iter().copied())
                .collect(),
        ),
    );
    for (m, method) in layout.methods.iter().enumerate() {
        for (o, order) in layout.orders.iter().enumerate() {
            let mo = m * layout.orders.len() + o;
            for (f, fill) in layout.fills.iter().enumerate() {
                let c = mo * f_count + f;
                let data = f64_rows(&|r| &r.drops[c * width..(c + 1) * width]);
                add(
                    ColumnSpec::new(names::drop(method, order, fill), Dtype::F64, &[width]),
                    data,
                );
            }
            let data = Data::U16(
                results
                    .iter()
                    .flat_map(|r| r.orders[mo * steps..(mo + 1) * steps].iter().copied())
                    .collect(),
            );
            add(
                ColumnSpec::new(names::order(method, order), Dtype::U16, &[steps]),
                data,
            );
        }
    }
    // Per image, the Deltas of each fill start after those of the fills before it.
    let mut delta_start = 0;
    for (f, fill) in layout.fills.iter().enumerate() {
        let data = f64_rows(&|r| &r.random_mean[f * width..(f + 1) * width]);
        add(
            ColumnSpec::new(names::random_mean_drop(fill), Dtype::F64, &[width]),
            data,
        );
        // [R, n, L+1]: ordering-major.
        let mut curves = Vec::with_capacity(r_count * n * width);
        for o in 0..r_count {
            let c = f * r_count + o;
            for r in results {
                curves.extend_from_slice(&r.random_drops[c * width..(c + 1) * width]);
            }
        }
        let spec = ColumnSpec {
            image_axis: 1,
            ..ColumnSpec::new(names::random_drops(fill), Dtype::F64, &[r_count, width])
        };
        add(spec, Data::F64(curves));
        let names_of_deltas: Vec<String> = if layout.delta_per_method.contains(fill) {
            layout
                .methods
                .iter()
                .map(|m| names::method_delta(m, fill))
                .collect()
        } else {
            vec![names::delta(fill)]
        };
        for name in names_of_deltas {
            let (a, b) = (delta_start, delta_start + p_count);
            add(
                ColumnSpec::new(name, Dtype::F64, &[p_count]),
                f64_rows(&|r| &r.delta[a..b]),
            );
            delta_start = b;
        }
    }
    for (m, method) in layout.methods.iter().enumerate() {
        for (f, fill) in layout.fills.iter().enumerate() {
            let data = Data::F32(
                results
                    .iter()
                    .map(|r| r.faithfulness[m * f_count + f])
                    .collect(),
            );
            add(
                ColumnSpec::new(names::faithfulness(method, fill), Dtype::F32, &[]),
                data,
            );
        }
    }
    for (f, fill) in layout
        .fills
        .iter()
        .enumerate()
        .filter(|(_, fill)| layout.fill_images.contains(fill))
    {
        let data = Data::U8(
            results
                .iter()
                .flat_map(|r| r.fill_images[f].iter().flatten().copied())
                .collect(),
        );
        add(
            ColumnSpec::new(names::fill_image(fill), Dtype::U8, &[3, 32, 32]),
            data,
        );
    }
    Table::new(n, columns)
}

/// NaN faithfulness values per method and fill.
pub fn faithfulness_nan(
    layout: &Layout,
    table: &Table,
) -> BTreeMap<String, BTreeMap<String, usize>> {
    let mut counts = BTreeMap::new();
    for m in &layout.methods {
        let per_fill: &mut BTreeMap<String, usize> = counts.entry(m.clone()).or_default();
        for f in &layout.fills {
            let values = table
                .column(&names::faithfulness(m, f))
                .and_then(|c| c.data.as_f32())
                .unwrap_or(&[]);
            per_fill.insert(f.clone(), values.iter().filter(|v| v.is_nan()).count());
        }
    }
    counts
}

/// Per random ordering r and step count L', AOPC_L' averaged over the images (in f64, in
/// image order).
///
/// # Shapes
/// `random_drops`: `[R, n, L+1]` drop curves; returns `[R, L+1]` (column 0 is 0).
pub fn random_aopc(
    random_drops: &[f64],
    orderings: usize,
    images: usize,
    width: usize,
) -> Vec<f64> {
    let mut out = Vec::with_capacity(orderings * width);
    for r in 0..orderings {
        let mut sums = vec![0.0f64; width];
        for i in 0..images {
            let start = (r * images + i) * width;
            for (s, a) in sums
                .iter_mut()
                .zip(aopc_all(&random_drops[start..start + width]))
            {
                *s += a;
            }
        }
        out.extend(sums.iter().map(|s| s / images as f64));
    }
    out
}

/// Builds the artifact of a whole run (or a shard, or a checkpoint) from its table.
///
/// `meta` is the base metadata (schema, stage, config, inputs, created_by) with no extra
/// fields; this adds the layout, the image count, the NaN counts and, for partial files, their
/// description. The same table and base metadata always give the same bytes.
pub fn assemble(
    layout: &Layout,
    table: &Table,
    globals: &Globals,
    mut meta: Meta,
    mode: &Mode,
) -> Result<ArtifactWriter> {
    let nan = faithfulness_nan(layout, table);
    let saturation_columns = saturation::columns(layout);
    let saturation_rows = table
        .column(names::SATURATION)
        .and_then(|c| c.data.as_u32())
        .unwrap_or(&[]);
    let saturation_totals = saturation::totals(&saturation_columns, saturation_rows);
    meta.extra.extend(layout.to_fields());
    meta.extra.insert(
        META_SATURATION_COLUMNS.to_owned(),
        serde_json::json!(saturation_columns),
    );
    meta.extra.insert(
        META_SATURATION.to_owned(),
        serde_json::json!(saturation_totals),
    );
    meta.extra
        .insert(META_IMAGES.to_owned(), serde_json::json!(table.images));
    meta.extra
        .insert(META_FAITHFULNESS_NAN.to_owned(), serde_json::json!(nan));
    let store_random = match mode {
        Mode::Final {
            store_random_curves,
        } => *store_random_curves,
        Mode::Partial { field, description } => {
            meta.extra.insert((*field).to_owned(), description.clone());
            true
        }
    };
    let mut writer = ArtifactWriter::new(meta);
    let random_names: Vec<String> = layout
        .fills
        .iter()
        .map(|f| names::random_drops(f))
        .collect();
    table.add_to(&mut writer, |name| {
        store_random || !random_names.iter().any(|r| r == name)
    })?;
    let width = layout.steps + 1;
    for f in &layout.fills {
        let curves = table
            .column(&names::random_drops(f))
            .and_then(|c| c.data.as_f64())
            .unwrap_or(&[]);
        let aopc = random_aopc(curves, layout.random_orderings, table.images, width);
        writer.add(
            &names::random_aopc(f),
            &[layout.random_orderings, width],
            &aopc,
        )?;
    }
    writer.add(
        names::RANDOM_ORDERS,
        &[layout.random_orderings, sal_perturbation::PIXELS],
        &globals.random_orders,
    )?;
    writer.add(
        names::FAITHFULNESS_PIXELS,
        &[layout.faithfulness_pixels],
        &globals.faithfulness_pixels,
    )?;
    Ok(writer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_aopc_averages_over_images_per_ordering() {
        // R = 2, n = 2, L + 1 = 3. Ordering 0: drops (0.2, 0.4) and (0, 0); ordering 1: (0.1, 0.1) twice.
        let curves = [0.0, 0.2, 0.4, 0.0, 0.0, 0.0, 0.0, 0.1, 0.1, 0.0, 0.1, 0.1];
        let got = random_aopc(&curves, 2, 2, 3);
        let expect = [
            0.0,
            0.2 / 2.0 / 2.0,
            0.6 / 3.0 / 2.0,
            0.0,
            0.1 / 2.0,
            0.2 / 3.0,
        ];
        for (g, e) in got.iter().zip(expect) {
            assert!((g - e).abs() < 1e-15, "{got:?}");
        }
    }
}
