//! The opening (what this run is, its model and the choices that move its numbers) and, at the
//! end, what produced the report: inputs' cache keys and wall times, data checksums, the model's
//! metadata, the machine, the config.

use sal_artifact::meta::canonical_json;
use sal_config::Stage;

use super::Context;
use crate::render::{num, Document, Table};

/// The opening paragraph and the facts of this run that decide how it compares with the paper.
pub fn intro(doc: &mut Document, cx: &Context<'_>) {
    let m = cx.metrics;
    let random: Vec<String> = m
        .fills
        .iter()
        .map(|f| format!("{} for {f}", m.orderings[f]))
        .collect();
    doc.paragraph(format!(
        "This report puts the figures and tables of \"{}\" beside the same quantities computed by this run: {} test images, {} saliency methods ({}), fills {}, AOPC curves of L = {} steps, and random-baseline orderings R = {}. Every number below is computed from the artifacts of the run; the paper's are transcribed in crates/report/data/paper_values.json with their source.",
        cx.paper.source.citation,
        cx.saliency.len(),
        m.methods.len(),
        cx.method_labels().join(", "),
        m.fills.join(", "),
        m.steps,
        random.join(", ")
    ));

    let mut facts = Vec::new();
    match cx.train.test_accuracy() {
        Some(acc) => facts.push(format!(
            "Model: {}% test accuracy (paper: {}%){}.",
            num(acc * 100.0, 2),
            num(cx.paper.claims.test_accuracy.data.value * 100.0, 0),
            cx.train
                .test_confident_share()
                .map(|s| format!(
                    "; {}% of all test images classified with confidence >= 0.99 (paper: {}%)",
                    num(s * 100.0, 1),
                    num(cx.paper.claims.high_confidence_share.data.value * 100.0, 0)
                ))
                .unwrap_or_default()
        )),
        None => facts.push("Model test accuracy: not recorded in model.safetensors.".to_owned()),
    }
    if let Some(aug) = cx.train.facts.get("augmentation") {
        facts.push(format!(
            "Training augmentation: {} (the paper names none).",
            canonical_json(aug)
        ));
    }
    if let Some(edge) = cx.saliency.methods_detail.get("edge") {
        let field = |k: &str| {
            edge.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("not recorded")
        };
        facts.push(format!(
            "Edge baseline: Sobel magnitude of the grey image {}, border {}.",
            field("grey"),
            field("border")
        ));
    }
    facts.push(format!(
        "Random RGB fill: {} draws ({}).",
        cx.metrics.uniform_draws.as_deref().unwrap_or("paired"),
        match cx.metrics.uniform_draws.as_deref() {
            Some("independent") =>
                "a fresh random image per curve and per method's faithfulness pixels",
            _ => "one random image per test image, shared by every method, order and pixel",
        }
    ));
    facts.push(if cx.metrics.saturation.is_empty() {
        "Probabilities: no saturation counts recorded (metrics from an older schema or another program).".to_owned()
    } else {
        "Probabilities: drops f(x) - f(x') are computed in f64 from the other classes' probability 1 - f, so they keep their information at any confidence (see the saturation table below).".to_owned()
    });
    doc.list(facts);
}

/// The provenance, folded: input stages, machine, model metadata, checksums, configuration.
pub fn provenance(doc: &mut Document, cx: &Context<'_>) {
    doc.folded("What produced this report", |doc| provenance_body(doc, cx));
}

/// The provenance's content; its heading is the fold's summary (a `##` heading in markdown).
fn provenance_body(doc: &mut Document, cx: &Context<'_>) {
    let mut table = Table::new(["Stage", "Cache key", "Wall time"]);
    for record in cx.records {
        table.row([
            record.stage.name().to_owned(),
            record
                .key
                .clone()
                .unwrap_or_else(|| "not recorded (no key.json)".to_owned()),
            record
                .wall_seconds
                .map_or_else(|| "not recorded".to_owned(), duration),
        ]);
    }
    doc.table("Input stages (from each folder's key.json)", table);

    let threads = std::thread::available_parallelism()
        .map_or_else(|_| "unknown".to_owned(), |n| n.get().to_string());
    let mut facts = vec![
        format!("Machine: {threads} hardware threads available to this process."),
        format!("Figures: {}.", cx.text.describe()),
    ];
    for (name, value) in &cx.train.facts {
        facts.push(format!(
            "Model metadata `{name}`: {}",
            canonical_json(value)
        ));
    }
    if !cx.dataset.class_names_recorded {
        facts.push(
            "Class names: not recorded in dataset.safetensors; the CIFAR-10 names are assumed."
                .to_owned(),
        );
    }
    doc.list(facts);

    doc.heading(3, "Data checksums");
    match &cx.dataset.source_sha256 {
        Some(value) => {
            let verified = match cx.dataset.verified {
                Some(true) => "checked against the official CIFAR-10 checksums",
                Some(false) => "NOT checked against the official checksums (data.verify = false)",
                None => "verification not recorded",
            };
            doc.paragraph(format!(
                "SHA-256 of the source files, as recorded by the data stage ({verified}):"
            ));
            doc.code(pretty(value));
        }
        None => {
            doc.paragraph("The dataset artifact records no source checksums (`source_sha256`).")
        }
    }

    doc.heading(3, "Configuration");
    doc.paragraph(
        "Each stage's config section as the stage sees it (the JSON that enters its cache key):",
    );
    let sections: serde_json::Map<String, serde_json::Value> = Stage::ALL
        .iter()
        .map(|&s| (s.name().to_owned(), cx.config.section_json(s)))
        .collect();
    doc.code(pretty(&serde_json::Value::Object(sections)));
}

/// Pretty JSON with sorted keys.
fn pretty(value: &serde_json::Value) -> String {
    let sorted: serde_json::Value =
        serde_json::from_str(&canonical_json(value)).unwrap_or_else(|_| value.clone());
    serde_json::to_string_pretty(&sorted).unwrap_or_else(|_| canonical_json(value))
}

/// `1 h 02 min`, `3 min 05 s` or `12.3 s`.
pub fn duration(seconds: f64) -> String {
    if seconds >= 3600.0 {
        let minutes = (seconds / 60.0).round() as u64;
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    } else if seconds >= 60.0 {
        let s = seconds.round() as u64;
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{} s", num(seconds, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(12.34), "12.3 s");
        assert_eq!(duration(185.0), "3 min 05 s");
        assert_eq!(duration(3720.0), "1 h 02 min");
    }
}
