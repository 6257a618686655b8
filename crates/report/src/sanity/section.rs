//! The report's section on the randomisation checks: text, tables, and the two figures.

use crate::render::{num, Document, Table, NONE};

use super::figure_maps::{self, MapGrid, Row};
use super::figure_similarity::{self, Line, Panel, SimilarityFigure};
use super::load::Sanity;

const MEASURE_LABELS: [(&str, &str); 4] = [
    ("spearman_abs", "Spearman rank correlation (absolute maps)"),
    ("spearman_signed", "Spearman rank correlation (signed maps)"),
    ("ssim", "SSIM (maps scaled to [0, 1])"),
    ("hog_pearson", "Pearson correlation of HOG features"),
];

fn measure_label(measure: &str) -> String {
    MEASURE_LABELS
        .iter()
        .find(|(m, _)| *m == measure)
        .map_or_else(|| measure.to_owned(), |(_, l)| (*l).to_owned())
}

fn cell(mean: Option<f64>, ci: [Option<f64>; 2]) -> String {
    match (mean, ci) {
        (Some(m), [Some(lo), Some(hi)]) => {
            format!("{} ({}–{})", num(m, 2), num(lo, 2), num(hi, 2))
        }
        (Some(m), _) => num(m, 2),
        _ => NONE.to_owned(),
    }
}

/// The layer a step name ends with.
fn layer(step: &str) -> &str {
    step.rsplit('/').next().unwrap_or(step)
}

/// The similarity figure (cascading steps).
pub fn similarity_figure(sanity: &Sanity, labels: &[String], text: bool) -> SimilarityFigure {
    let cascade = sanity.cascade_steps();
    let mut ticks = vec!["trained".to_owned()];
    ticks.extend(cascade.iter().map(|s| layer(s).to_owned()));
    let panels = sanity
        .json
        .measures
        .iter()
        .map(|measure| Panel {
            title: measure_label(measure),
            lines: sanity
                .json
                .methods
                .iter()
                .map(|method| {
                    let mut line = Line {
                        mean: vec![1.0],
                        lo: vec![1.0],
                        hi: vec![1.0],
                    };
                    for step in &cascade {
                        let r = sanity.similarity(step, method, measure);
                        let get = |v: Option<Option<f64>>| v.flatten().unwrap_or(f64::NAN);
                        line.mean.push(get(r.map(|r| r.mean)));
                        line.lo.push(get(r.map(|r| r.ci[0])));
                        line.hi.push(get(r.map(|r| r.ci[1])));
                    }
                    line
                })
                .collect(),
        })
        .collect();
    SimilarityFigure {
        methods: labels.to_vec(),
        ticks,
        panels,
        text,
    }
}

/// The map grid: every method for each example image, trained then every cascading step and
/// the random-label model.
pub fn map_grid(sanity: &Sanity, labels: &[String], text: bool) -> MapGrid {
    let steps = &sanity.json.steps;
    let shown: Vec<usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.starts_with("independent/"))
        .map(|(k, _)| k + 1)
        .collect();
    let mut columns = vec!["trained".to_owned()];
    columns.extend(shown.iter().map(|&k| layer(&steps[k - 1]).to_owned()));
    let e = sanity.example_index.len();
    let mut rows = Vec::new();
    for (i, &index) in sanity.example_index.iter().enumerate() {
        for (m, label) in labels.iter().enumerate() {
            let at = |row: usize| {
                let start = (row * e + i) * 1024;
                sanity.examples[m][start..start + 1024].to_vec()
            };
            let mut maps = vec![at(0)];
            maps.extend(shown.iter().map(|&k| at(k)));
            rows.push(Row {
                label: format!("{label}, test #{index}"),
                maps,
            });
        }
    }
    MapGrid {
        columns,
        rows,
        text,
    }
}

/// Appends the section (its figures are rendered by [`super::add`]).
pub fn write(doc: &mut Document, sanity: &Sanity, labels: &[String]) {
    let j = &sanity.json;
    doc.heading(
        2,
        "Sanity checks of the methods and the metrics (model and data randomisation)",
    );
    doc.paragraph(format!(
        "Adebayo et al. (2018): a saliency method whose maps do not change when the model's \
         weights are re-initialised, or when it is trained on random labels, does not explain \
         the model. The `sanity` stage re-initialises the trained model's layers from the top \
         down (cascading, one more layer per step) and one at a time (independent), as at the \
         start of training, recomputes every method's maps for {} test images, and compares \
         them with the trained model's maps; means over images with {:.0}% bootstrap intervals \
         ({} resamples). The edge baseline does not read the model: its similarity was checked \
         to be exactly 1 at every step (the stage fails otherwise).",
        j.images,
        100.0 * j.ci,
        j.bootstrap
    ));
    doc.figure(
        figure_similarity::NAME,
        "Similarity of each method's maps to the trained model's maps as more layers are \
         re-initialised (cascading randomisation), with bootstrap bands.",
    );

    let last = sanity.cascade_steps().last().map(|s| (*s).to_owned());
    let mut header = vec!["method".to_owned(), "measure".to_owned()];
    if let Some(last) = &last {
        header.push(format!("all randomised ({last})"));
    }
    if j.random_labels.is_some() {
        header.push("random labels".to_owned());
    }
    header.push("random-map control".to_owned());
    let mut table = Table::new(header);
    for (m, method) in j.methods.iter().enumerate() {
        for measure in &j.measures {
            let mut row = vec![labels[m].clone(), measure_label(measure)];
            if let Some(last) = &last {
                let r = sanity.similarity(last, method, measure);
                row.push(r.map_or(NONE.to_owned(), |r| cell(r.mean, r.ci)));
            }
            if j.random_labels.is_some() {
                let r = sanity.similarity("random_labels", method, measure);
                row.push(r.map_or(NONE.to_owned(), |r| cell(r.mean, r.ci)));
            }
            let c = j
                .random_control
                .iter()
                .find(|c| &c.method == method && &c.measure == measure);
            row.push(c.map_or(NONE.to_owned(), |c| cell(c.mean, c.ci)));
            table.row(row);
        }
    }
    doc.table(
        "Similarity to the trained model's maps after full randomisation and with random \
         labels, beside a uniform random map (mean over images, bootstrap interval).",
        table,
    );

    let independent: Vec<&String> = j
        .steps
        .iter()
        .filter(|s| s.starts_with("independent/"))
        .collect();
    if !independent.is_empty() {
        let mut header = vec!["layer re-initialised alone".to_owned()];
        header.extend(labels.iter().cloned());
        let mut table = Table::new(header);
        for step in independent {
            let mut row = vec![layer(step).to_owned()];
            for method in &j.methods {
                let r = sanity.similarity(step, method, "spearman_abs");
                row.push(r.map_or(NONE.to_owned(), |r| cell(r.mean, r.ci)));
            }
            table.row(row);
        }
        doc.table(
            "Independent randomisation: Spearman rank correlation of the absolute maps with \
             the trained model's, one layer re-initialised at a time.",
            table,
        );
    }

    if let Some(r) = &j.random_labels {
        doc.paragraph(format!(
            "Data randomisation: the network trained for {} epochs on {} training images with \
             permuted labels reached {}% training accuracy in its last epoch (training mode, \
             dropout on) and fits {}% of its permuted labels in eval mode.",
            r.epochs,
            r.images,
            r.train_accuracy
                .map_or(NONE.to_owned(), |v| num(100.0 * v, 1)),
            r.fit.map_or(NONE.to_owned(), |v| num(100.0 * v, 1)),
        ));
    }
    doc.figure(
        figure_maps::NAME,
        "Maps of the example images from the trained model (left) through every cascading \
         step and the random-label model (right); each map scaled by its maximum absolute \
         value (red positive, blue negative).",
    );

    if !j.detection.is_empty() {
        doc.paragraph(format!(
            "Do the metrics notice? On {} images, each metric scores the trained model's map \
             and the randomised model's map of the same image, with the trained model as the \
             model whose output drops. A cell is the share of images on which the trained \
             map scores better (ties count 1/2) with its bootstrap interval; a metric whose \
             interval holds 0.5 cannot tell the maps apart and fails this sanity check (marked \
             ✗). The edge baseline's maps are identical by construction (share 0.5).",
            j.detection_images
        ));
        let mut models: Vec<&str> = Vec::new();
        for d in &j.detection {
            if !models.contains(&d.model.as_str()) {
                models.push(&d.model);
            }
        }
        let mut header = vec!["model".to_owned(), "metric".to_owned(), "fill".to_owned()];
        header.extend(labels.iter().cloned());
        let mut table = Table::new(header);
        let mut keys: Vec<(&str, &str, &str)> = Vec::new();
        for d in &j.detection {
            let key = (d.model.as_str(), d.metric.as_str(), d.fill.as_str());
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        for (model, metric, fill) in keys {
            let mut row = vec![model.to_owned(), metric.to_owned(), fill.to_owned()];
            for method in &j.methods {
                let d = j.detection.iter().find(|d| {
                    d.model == model && d.metric == metric && d.fill == fill && &d.method == method
                });
                row.push(d.map_or(NONE.to_owned(), |d| {
                    let fails = matches!(d.ci, [Some(lo), Some(hi)] if lo <= 0.5 && hi >= 0.5);
                    format!("{}{}", cell(d.share, d.ci), if fails { " ✗" } else { "" })
                }));
            }
            table.row(row);
        }
        doc.table(
            "Metric detection: share of images on which the metric scores the trained model's \
             map better than the randomised model's (✗: the interval holds 0.5).",
            table,
        );
    }
}
