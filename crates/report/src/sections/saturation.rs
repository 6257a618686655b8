//! How much f32 probabilities would have lost: the metrics stage's saturation counts, the old
//! way (f32 softmax) beside the way this run computed them (f64 complement `1 - f`).

use std::collections::BTreeMap;

use super::Context;
use crate::render::{Document, Table};

/// The saturation section (nothing when the metrics file records no counts).
pub fn write(doc: &mut Document, cx: &Context<'_>) {
    let counts = &cx.metrics.saturation;
    if counts.is_empty() {
        return;
    }
    doc.heading(2, "Saturated probabilities: f32 before, f64 now");
    let images = cx.saliency.len();
    doc.paragraph(format!(
        "Up to metrics schema 1, f(x) was an f32 softmax: at a logit margin above about 17 it is exactly 1.0, so single-pixel Deltas are exactly 0, faithfulness is undefined (NaN) and curves stay flat. This run computes every drop f(x) - f(x') as a difference of the other classes' probability 1 - f in f64. The counts below are over the {images} images, the old way and this run's way; they are recorded by the metrics stage (metadata `saturation`) from the same forward passes."
    ));
    let get = |key: &str| counts.get(key).copied().unwrap_or(0);
    let mut table = Table::new(["What", "f32 (before)", "f64 (now)", "out of"]);
    table.row([
        "images with f(x) exactly 1".to_owned(),
        get("f32.p0_one").to_string(),
        get("f64.p0_one").to_string(),
        images.to_string(),
    ]);
    for fill in &cx.metrics.fills {
        table.row([
            format!("faithfulness Deltas exactly 0, {fill} fill"),
            get(&format!("f32.delta_zero.{fill}")).to_string(),
            get(&format!("f64.delta_zero.{fill}")).to_string(),
            format!("{images} x P (x M when drawn per method)"),
        ]);
    }
    let mut per: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for (key, &v) in counts {
        let Some((way, what)) = key.split_once('.') else {
            continue;
        };
        let Some(rest) = what.strip_prefix("faithfulness_nan.") else {
            continue;
        };
        let Some((method, fill)) = rest.split_once('.') else {
            continue;
        };
        let entry = per.entry((method.to_owned(), fill.to_owned())).or_default();
        if way == "f32" {
            entry.0 = v;
        } else {
            entry.1 = v;
        }
    }
    for method in &cx.metrics.methods {
        for fill in &cx.metrics.fills {
            if let Some(&(a, b)) = per.get(&(method.clone(), fill.clone())) {
                table.row([
                    format!("undefined F, {} / {fill}", cx.paper.method_label(method)),
                    a.to_string(),
                    b.to_string(),
                    images.to_string(),
                ]);
            }
        }
    }
    let flat = |way: &str| -> u64 {
        counts
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{way}.curve_flat.")))
            .map(|(_, v)| v)
            .sum()
    };
    let curves = cx.metrics.methods.len() * 2 * cx.metrics.fills.len() * images;
    table.row([
        "AOPC curves flat at f(x) (AOPC exactly 0)".to_owned(),
        flat("f32").to_string(),
        flat("f64").to_string(),
        curves.to_string(),
    ]);
    doc.table(
        "Saturation, the f32 way against this run's f64 complement (per method and order in stats.json, `saturation`).",
        table,
    );
}
