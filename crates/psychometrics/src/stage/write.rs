//! Writing the results: `stats.safetensors` (numeric tables, documented in
//! `docs/artifacts.md`) and `stats.json`.

use std::collections::BTreeMap;
use std::path::Path;

use sal_artifact::{write_atomic, ArtifactWriter, Meta};

use crate::error::Result;
use crate::stage::results::{StatsResults, VariantRef};

/// The file name of the JSON results.
pub const STATS_JSON: &str = "stats.json";

/// Columns of a `global.*` row.
pub const GLOBAL_COLUMNS: [&str; 7] = ["mean", "ci_lo", "ci_hi", "median", "q25", "q75", "n"];
/// Columns of a `random.*` row.
pub const RANDOM_COLUMNS: [&str; 5] = ["mean", "interval_lo", "interval_hi", "ci_lo", "ci_hi"];

/// f64 tensors being assembled, NaN where nothing was written.
#[derive(Default)]
struct Tensors {
    tensors: BTreeMap<String, (Vec<usize>, Vec<f64>)>,
}

impl Tensors {
    /// Writes `values` at row-major `offset` of tensor `name` of shape `shape` (created NaN).
    fn set(&mut self, name: String, shape: Vec<usize>, offset: usize, values: &[f64]) {
        let len = shape.iter().product();
        let (existing, data) = self
            .tensors
            .entry(name)
            .or_insert_with(|| (shape.clone(), vec![f64::NAN; len]));
        debug_assert_eq!(*existing, shape, "one tensor written with two shapes");
        data[offset..offset + values.len()].copy_from_slice(values);
    }
}

/// The leading L axis and the index on it for a variant: none for faithfulness, `[K]` for AOPC.
fn steps_axis(results: &StatsResults, v: &VariantRef) -> (Vec<usize>, usize) {
    match v.steps {
        None => (vec![], 0),
        Some(l) => {
            let k = results.aopc_steps.len();
            let i = results
                .aopc_steps
                .iter()
                .position(|&s| s == l)
                .expect("every reported L is in aopc_steps");
            (vec![k], i)
        }
    }
}

/// Prepends `lead` to `inner`, and gives the offset of block `index` of the leading axis.
fn shaped(lead: &[usize], index: usize, inner: &[usize]) -> (Vec<usize>, usize) {
    let block: usize = inner.iter().product();
    (lead.iter().chain(inner).copied().collect(), index * block)
}

/// Builds every tensor of `stats.safetensors` from the results.
fn tensors(results: &StatsResults) -> Tensors {
    let mut t = Tensors::default();
    let m = results.methods.len();
    let k = results.aopc_steps.len();
    let g = results.groups.len();
    let method_index = |name: &str| {
        results
            .methods
            .iter()
            .position(|x| x == name)
            .expect("known method")
    };

    for row in &results.reliability {
        let v = &row.variant;
        let (lead, i) = steps_axis(results, v);
        let key = format!("{}.{}.{}", v.metric, v.fill, row.subset);
        let (shape, off) = shaped(&lead, i, &[3]);
        t.set(
            format!("alpha.{key}"),
            shape,
            off,
            &[row.alpha, row.alpha_ci[0], row.alpha_ci[1]],
        );
        let (shape, off) = shaped(&lead, i, &[row.methods.len()]);
        t.set(format!("mean_rank.{key}"), shape, off, &row.mean_rank);
        let (shape, off) = shaped(&lead, i, &[]);
        t.set(
            format!("inter_method.{key}"),
            shape,
            off,
            &[row.inter_method_rho],
        );
        if row.subset == "all" {
            let (shape, off) = shaped(&lead, i, &[m, m]);
            let mut matrix = vec![f64::NAN; m * m];
            for a in 0..m {
                matrix[a * m + a] = 1.0;
            }
            for p in &row.pairs {
                let (a, b) = (method_index(&p.a), method_index(&p.b));
                matrix[a * m + b] = p.rho;
                matrix[b * m + a] = p.rho;
            }
            t.set(
                format!("spearman.{}.{}", v.metric, v.fill),
                shape,
                off,
                &matrix,
            );
        }
    }
    for row in &results.consistency {
        let fills = if row.x.fill == row.y.fill {
            row.x.fill.clone()
        } else {
            format!("{}.{}", row.x.fill, row.y.fill)
        };
        t.set(
            format!("consistency.{}.{fills}", row.comparison),
            vec![m],
            method_index(&row.method),
            &[row.rho],
        );
    }
    for row in &results.global {
        let (lead, i) = steps_axis(results, &row.variant);
        let (shape, off) = shaped(&lead, i, &[m, GLOBAL_COLUMNS.len()]);
        let values = [
            row.mean,
            row.ci[0],
            row.ci[1],
            row.median,
            row.q25,
            row.q75,
            row.n as f64,
        ];
        t.set(
            format!("global.{}.{}", row.variant.metric, row.variant.fill),
            shape,
            off + method_index(&row.method) * 7,
            &values,
        );
    }
    for row in &results.random_baseline {
        let i = results
            .aopc_steps
            .iter()
            .position(|&s| s == row.steps)
            .expect("reported L");
        let values = [
            row.mean,
            row.interval[0],
            row.interval[1],
            row.ci[0],
            row.ci[1],
        ];
        t.set(
            format!("random.{}", row.fill),
            vec![k, RANDOM_COLUMNS.len()],
            i * RANDOM_COLUMNS.len(),
            &values,
        );
    }
    for (gi, group) in results.groups.iter().enumerate() {
        for row in &group.scores {
            let (lead, i) = steps_axis(results, &row.variant);
            let (inner, off) = shaped(&lead, i, &[m, 3]);
            let (shape, goff) = shaped(&[g], gi, &inner);
            let name = format!("group.{}.{}", row.variant.metric, row.variant.fill);
            t.set(
                name,
                shape,
                goff + off + method_index(&row.method) * 3,
                &[row.mean, row.ci[0], row.ci[1]],
            );
        }
        for row in &group.random {
            let i = results
                .aopc_steps
                .iter()
                .position(|&s| s == row.steps)
                .expect("reported L");
            t.set(
                format!("group.random.{}", row.fill),
                vec![g, k, 3],
                (gi * k + i) * 3,
                &[row.mean, row.ci[0], row.ci[1]],
            );
        }
        for row in &group.alpha {
            let (lead, i) = steps_axis(results, &row.variant);
            let (inner, off) = shaped(&lead, i, &[]);
            let (shape, goff) = shaped(&[g], gi, &inner);
            let name = format!(
                "group.alpha.{}.{}.{}",
                row.variant.metric, row.variant.fill, row.subset
            );
            t.set(name, shape, goff + off, &[row.alpha]);
        }
    }
    t
}

/// Writes `<out_dir>/stats.safetensors` and `<out_dir>/stats.json`, each atomically.
pub fn write(results: &StatsResults, meta: Meta, out_dir: &Path) -> Result<()> {
    let groups: Vec<&str> = results.groups.iter().map(|g| g.name.as_str()).collect();
    let subsets: BTreeMap<&str, &Vec<String>> = results
        .subsets
        .iter()
        .map(|s| (s.name.as_str(), &s.methods))
        .collect();
    let meta = meta
        .with_extra("methods", serde_json::json!(results.methods))
        .with_extra("fills", serde_json::json!(results.fills))
        .with_extra(
            "metrics",
            serde_json::json!(results.metrics.iter().map(|m| m.name).collect::<Vec<_>>()),
        )
        .with_extra("subsets", serde_json::json!(subsets))
        .with_extra("groups", serde_json::json!(groups))
        .with_extra("images", serde_json::json!(results.images))
        .with_extra("curve_steps", serde_json::json!(results.curve_steps))
        .with_extra(
            "consistency_steps",
            serde_json::json!(results.consistency_steps),
        )
        .with_extra(
            "skipped_aopc_steps",
            serde_json::json!(results.skipped_aopc_steps),
        )
        .with_extra("global_columns", serde_json::json!(GLOBAL_COLUMNS))
        .with_extra("random_columns", serde_json::json!(RANDOM_COLUMNS));
    let mut writer = ArtifactWriter::new(meta);
    let steps: Vec<u32> = results.aopc_steps.iter().map(|&l| l as u32).collect();
    writer.add("aopc_steps", &[steps.len()], &steps)?;
    let labels: Vec<i64> = results
        .groups
        .iter()
        .map(|g| g.label.map_or(-1, i64::from))
        .collect();
    writer.add("group.label", &[labels.len()], &labels)?;
    let images: Vec<u32> = results.groups.iter().map(|g| g.images as u32).collect();
    writer.add("group.images", &[images.len()], &images)?;
    for fill in &results.fills {
        let counts: Vec<u32> = results
            .methods
            .iter()
            .map(|method| {
                let row = results
                    .faithfulness_nan
                    .iter()
                    .find(|r| &r.fill == fill && &r.method == method);
                row.map_or(0, |r| r.count as u32)
            })
            .collect();
        writer.add(
            &format!("faithfulness_nan.{fill}"),
            &[counts.len()],
            &counts,
        )?;
    }
    for (name, (shape, data)) in tensors(results).tensors {
        writer.add(&name, &shape, &data)?;
    }
    fs_err::create_dir_all(out_dir)?;
    writer.write(&out_dir.join(sal_artifact::Kind::Stats.file_name()))?;
    let mut json =
        serde_json::to_string_pretty(results).expect("results are representable as JSON");
    json.push('\n');
    write_atomic(&out_dir.join(STATS_JSON), json.as_bytes())?;
    Ok(())
}
