//! Counting what f32 probabilities lost: the `saturation` tensor and metadata field.
//!
//! Up to `metrics/1`, f(x) was kept in f32, so a confident image's probability could be exactly
//! 1.0, its single-pixel Deltas exactly 0 and its faithfulness undefined, and a curve could stay
//! flat at 1.0. Each image records, for each such event, how often it happens the old way
//! (`f32.*`, from the f32 softmax) and the current way (`f64.*`, from the complement `1 - f`
//! in f64; see [`crate::probability`]), so a run says how much the change mattered.
//!
//! Columns (in this order, each as `f32.<what>` then `f64.<what>`):
//! - `p0_one`: 1 if f(x) of the unperturbed image is exactly 1 (f64: if 1 - f(x) is 0);
//! - `delta_zero.<fill>`: the number of that fill's faithfulness Deltas that are exactly 0
//!   (all methods' Deltas for a fill drawn per method);
//! - `faithfulness_nan.<method>.<fill>`: 1 if F is undefined (NaN);
//! - `curve_flat.<method>.<order>.<fill>`: 1 if every step of the curve equals f(x), so its
//!   AOPC is exactly 0 at every L.

use std::collections::{BTreeMap, HashMap};

use crate::protocol::Layout;

/// The two ways of computing f, as the column prefixes name them.
pub const WAYS: [&str; 2] = ["f32", "f64"];

/// The saturation counters of a layout, in the order of the `saturation` tensor's columns.
pub fn columns(layout: &Layout) -> Vec<String> {
    let mut whats = vec!["p0_one".to_owned()];
    for fill in &layout.fills {
        whats.push(format!("delta_zero.{fill}"));
    }
    for method in &layout.methods {
        for fill in &layout.fills {
            whats.push(format!("faithfulness_nan.{method}.{fill}"));
        }
    }
    for method in &layout.methods {
        for order in &layout.orders {
            for fill in &layout.fills {
                whats.push(format!("curve_flat.{method}.{order}.{fill}"));
            }
        }
    }
    whats
        .iter()
        .flat_map(|w| WAYS.iter().map(move |way| format!("{way}.{w}")))
        .collect()
}

/// One image's counters, filled in any order and laid out by [`columns`].
#[derive(Debug, Default)]
pub struct Counter {
    values: HashMap<String, u32>,
}

impl Counter {
    /// Records `what` counted the f32 way and the f64 way.
    pub fn record(&mut self, what: &str, f32_count: usize, f64_count: usize) {
        for (way, count) in WAYS.iter().zip([f32_count, f64_count]) {
            let count = u32::try_from(count).expect("counts of one image fit in u32");
            self.values.insert(format!("{way}.{what}"), count);
        }
    }

    /// The counters in the order of `columns`; a counter never recorded is a bug.
    ///
    /// # Shapes
    /// Returns `[columns.len()]`.
    pub fn into_row(self, columns: &[String]) -> Vec<u32> {
        columns
            .iter()
            .map(|c| {
                *self
                    .values
                    .get(c)
                    .unwrap_or_else(|| panic!("saturation counter `{c}` was not recorded"))
            })
            .collect()
    }
}

/// The column totals over images, `{column: total}`, from a row-major `[n, C]` block.
pub fn totals(columns: &[String], rows: &[u32]) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = columns.iter().map(|c| (c.clone(), 0)).collect();
    if columns.is_empty() {
        return out;
    }
    for row in rows.chunks_exact(columns.len()) {
        for (c, &v) in columns.iter().zip(row) {
            *out.get_mut(c).expect("every column has a total") += u64::from(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout {
            methods: vec!["a".into(), "b".into()],
            orders: vec!["morf".into(), "lerf".into()],
            fills: vec!["mean".into()],
            fill_images: vec![],
            delta_per_method: vec![],
            steps: 3,
            random_orderings: 1,
            faithfulness_pixels: 2,
        }
    }

    #[test]
    fn columns_come_in_pairs_in_a_fixed_order_and_totals_add_up() {
        let cols = columns(&layout());
        // p0, 1 fill, 2 methods x 1 fill, 2 x 2 x 1 curves: 8 counters, twice.
        assert_eq!(cols.len(), 16);
        assert_eq!(
            cols[..4],
            [
                "f32.p0_one",
                "f64.p0_one",
                "f32.delta_zero.mean",
                "f64.delta_zero.mean"
            ]
        );
        assert_eq!(cols[15], "f64.curve_flat.b.lerf.mean");
        let mut counter = Counter::default();
        counter.record("p0_one", 1, 0);
        counter.record("delta_zero.mean", 7, 2);
        for m in ["a", "b"] {
            counter.record(&format!("faithfulness_nan.{m}.mean"), 1, 0);
            for o in ["morf", "lerf"] {
                counter.record(&format!("curve_flat.{m}.{o}.mean"), 0, 0);
            }
        }
        let row = counter.into_row(&cols);
        assert_eq!(row[..6], [1, 0, 7, 2, 1, 0]);
        let twice: Vec<u32> = row.iter().chain(&row).copied().collect();
        let t = totals(&cols, &twice);
        assert_eq!(t["f32.delta_zero.mean"], 14);
        assert_eq!(t["f64.p0_one"], 0);
    }
}
