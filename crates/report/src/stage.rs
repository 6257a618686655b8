//! `run`: the report stage from input folders to `<out>/report/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sal_config::Config;
use serde_json::{json, Value};

use crate::compare::{compare, Finding, Ours};
use crate::error::{ReportError, Result};
use crate::examples::{pick_examples, Picks};
use crate::figures::figure1::{Example, Figure1};
use crate::figures::figure2a::{self, Figure2a};
use crate::figures::figure2b::{self, Figure2b};
use crate::figures::font::{text_support, TextSupport};
use crate::figures::{render, Rendered};
use crate::inputs::ReportInputs;
use crate::load::dataset::DatasetInfo;
use crate::load::metrics::{Metrics, Order};
use crate::load::provenance::StageRecord;
use crate::load::saliency::Saliency;
use crate::load::stats_json::load_stats;
use crate::load::train::TrainInfo;
use crate::paper::PaperValues;
use crate::render::html::to_html;
use crate::render::markdown::{to_markdown, FIGURES_DIR};
use crate::render::Document;
use crate::sections::{self, Context};

/// The folder the stage writes inside `--out`.
pub const REPORT_DIR: &str = "report";

/// What the stage wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOutputs {
    /// `<out>/report`.
    pub dir: PathBuf,
    /// Every file written, relative to `dir`, sorted.
    pub files: Vec<PathBuf>,
    /// The comparison with the paper.
    pub findings: Vec<Finding>,
}

/// Writes `<out_dir>/report/` (report.md, report.html, summary.json, figures/*.png|svg) from the
/// artifacts in `inputs`. The folder is built beside its destination and renamed into place,
/// so an interrupted run leaves no half-written report.
pub fn run(config: &Config, inputs: &ReportInputs, out_dir: &Path) -> Result<ReportOutputs> {
    let text = text_support()?;
    run_with_text(config, inputs, out_dir, &text)
}

/// [`run`] with an explicit choice of text support (tests draw text-free figures with it).
pub fn run_with_text(
    config: &Config,
    inputs: &ReportInputs,
    out_dir: &Path,
    text: &TextSupport,
) -> Result<ReportOutputs> {
    let paper = PaperValues::bundled()?;
    tracing::info!("reading the input artifacts");
    let dataset = DatasetInfo::load(&inputs.dataset())?;
    let train = TrainInfo::load(&inputs.model(), &inputs.training_log())?;
    let saliency = Saliency::load(&inputs.saliency(), &config.attribute.methods)?;
    let metrics = Metrics::load(
        &inputs.metrics(),
        &saliency.methods,
        &saliency.image_index,
        &config.metrics.fills,
    )?;
    let stats = load_stats(&inputs.stats_json(), &dataset.class_names)?;
    let records = inputs
        .stages()
        .iter()
        .map(|(stage, dir)| StageRecord::read(*stage, dir))
        .collect::<Result<Vec<_>>>()?;
    check_labels(&dataset, &saliency)?;

    let picks = pick_examples(
        &saliency,
        &dataset.class_names,
        &config.report.figure1_classes,
        config.report.figure1_min_confidence,
    );
    let findings = compare(
        &paper,
        Ours {
            metrics: &metrics,
            stats: &stats,
            saliency: &saliency,
            train: &train,
        },
    );

    tracing::info!("drawing the figures");
    let mut figures = Vec::new();
    if !picks.picks.is_empty() {
        figures.push(render(&figure1(
            &dataset,
            &saliency,
            &picks,
            &paper,
            config,
            text.enabled(),
        )?)?);
    }
    figures.push(render(&figure_2a(&metrics, &paper, text.enabled()))?);
    figures.push(render(&figure_2b(
        &metrics,
        &paper,
        config,
        text.enabled(),
    ))?);

    let cx = Context {
        config,
        paper: &paper,
        dataset: &dataset,
        train: &train,
        saliency: &saliency,
        metrics: &metrics,
        stats: &stats,
        records: &records,
        picks: &picks,
        findings: &findings,
        text,
    };
    let doc = document(&cx);
    let summary = summary_json(&cx);

    let mut files: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    files.insert("report.md".into(), to_markdown(&doc).into_bytes());
    let svgs: BTreeMap<String, String> = figures
        .iter()
        .map(|f| (f.name.clone(), f.svg.clone()))
        .collect();
    files.insert("report.html".into(), to_html(&doc, &svgs).into_bytes());
    files.insert("summary.json".into(), summary.into_bytes());
    for Rendered { name, png, svg, .. } in figures {
        files.insert(Path::new(FIGURES_DIR).join(format!("{name}.png")), png);
        files.insert(
            Path::new(FIGURES_DIR).join(format!("{name}.svg")),
            svg.into_bytes(),
        );
    }
    let dir = out_dir.join(REPORT_DIR);
    install(&dir, &files)?;
    tracing::info!(dir = %dir.display(), "report written");
    Ok(ReportOutputs {
        dir,
        files: files.into_keys().collect(),
        findings,
    })
}

/// Every label and prediction must name a class of the dataset, and every explained image's
/// label must be its label in the dataset.
fn check_labels(dataset: &DatasetInfo, saliency: &Saliency) -> Result<()> {
    let classes = dataset.class_names.len();
    if let Some(&bad) = saliency
        .label
        .iter()
        .chain(&saliency.predicted)
        .find(|&&c| usize::from(c) >= classes)
    {
        return Err(ReportError::Inconsistent {
            path: saliency.path.clone(),
            message: format!(
                "class {bad} appears, but {} names {classes} classes",
                dataset.path.display()
            ),
        });
    }
    for (&index, &label) in saliency.image_index.iter().zip(&saliency.label) {
        let Some(&truth) = dataset.test_labels.get(index as usize) else {
            return Err(ReportError::Inconsistent {
                path: saliency.path.clone(),
                message: format!(
                    "test image {index} is explained, but {} holds {} test images",
                    dataset.path.display(),
                    dataset.test_count()
                ),
            });
        };
        if truth != label {
            return Err(ReportError::Inconsistent {
                path: saliency.path.clone(),
                message: format!(
                    "test image {index} has label {label} here but {truth} in {}: the artifacts come from different data",
                    dataset.path.display()
                ),
            });
        }
    }
    Ok(())
}

fn figure1(
    dataset: &DatasetInfo,
    saliency: &Saliency,
    picks: &Picks,
    paper: &PaperValues,
    config: &Config,
    text: bool,
) -> Result<Figure1> {
    let examples = picks
        .picks
        .iter()
        .map(|p| {
            let maps = saliency
                .methods
                .iter()
                .map(|m| {
                    saliency
                        .map(m, p.row)
                        .map(<[f32]>::to_vec)
                        .unwrap_or_default()
                })
                .collect();
            Ok(Example {
                class_name: p.class_name.clone(),
                image_index: p.image_index,
                confidence: p.confidence,
                image: dataset.test_image_rgb(p.image_index as usize)?,
                maps,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Figure1 {
        methods: saliency
            .methods
            .iter()
            .map(|m| paper.method_label(m))
            .collect(),
        examples,
        scale: config.report.figure1_scale,
        text,
    })
}

fn figure_2a(metrics: &Metrics, paper: &PaperValues, text: bool) -> Figure2a {
    let mut panels = Vec::new();
    for order in Order::ALL {
        for fill in &metrics.fills {
            let methods = metrics
                .methods
                .iter()
                .filter_map(|m| metrics.adjusted(m, order, fill))
                .collect();
            let random = metrics
                .random_adjusted(fill)
                .unwrap_or_else(|| crate::aopc::Band {
                    centre: vec![],
                    lo: vec![],
                    hi: vec![],
                });
            panels.push(figure2a::Panel {
                order,
                fill: format!("{fill} fill"),
                methods,
                random,
            });
        }
    }
    Figure2a {
        methods: metrics
            .methods
            .iter()
            .map(|m| paper.method_label(m))
            .collect(),
        panels,
        columns: metrics.fills.len(),
        text,
    }
}

fn figure_2b(metrics: &Metrics, paper: &PaperValues, config: &Config, text: bool) -> Figure2b {
    let columns = metrics
        .fills
        .iter()
        .map(|fill| {
            let mut panels: Vec<(f64, figure2b::Panel)> = metrics
                .methods
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let values = metrics
                        .faithfulness
                        .get(&(m.clone(), fill.clone()))
                        .cloned()
                        .unwrap_or_default();
                    let mean = crate::describe::Describe::of(&values)
                        .map_or(f64::NEG_INFINITY, |d| d.mean);
                    (
                        mean,
                        figure2b::Panel {
                            method: paper.method_label(m),
                            color_index: i,
                            fill: format!("{fill} fill"),
                            values,
                        },
                    )
                })
                .collect();
            // Highest mean first; a stable sort keeps method order among equal means.
            panels.sort_by(|a, b| b.0.total_cmp(&a.0));
            panels.into_iter().map(|(_, p)| p).collect()
        })
        .collect();
    Figure2b {
        columns,
        bins: config.report.histogram_bins,
        text,
    }
}

fn document(cx: &Context<'_>) -> Document {
    let mut doc = Document {
        title: "Sanity checks for saliency metrics: this run beside the paper".to_owned(),
        blocks: Vec::new(),
    };
    sections::header::write(&mut doc, cx);
    sections::comparison::write(&mut doc, cx);
    sections::results::figure1(&mut doc, cx);
    sections::results::figure2a(&mut doc, cx);
    sections::results::figure2b(&mut doc, cx);
    sections::results::global_scores(&mut doc, cx);
    sections::results::stats_global(&mut doc, cx);
    sections::reliability::table1_section(&mut doc, cx);
    sections::reliability::inter_method_section(&mut doc, cx);
    sections::reliability::table2_section(&mut doc, cx);
    sections::breakdowns::write(&mut doc, cx);
    sections::breakdowns::training_log(&mut doc, cx);
    doc.heading(2, "Source of the paper's values");
    doc.paragraph(format!(
        "{} Transcribed from {}.",
        cx.paper.source.citation, cx.paper.source.transcribed_from
    ));
    doc.list(cx.paper.source.notes.clone());
    doc
}

/// The key numbers for programs (the pipeline prints them): canonical JSON, sorted keys.
fn summary_json(cx: &Context<'_>) -> String {
    let alpha: Vec<Value> = cx
        .stats
        .alpha
        .iter()
        .map(|a| {
            json!({
                "metric": a.variant.metric.name(), "steps": a.variant.steps, "fill": a.variant.fill,
                "with_edge": a.with_edge, "alpha": a.alpha.value, "ci": a.alpha.ci.map(|(lo, hi)| vec![lo, hi]),
            })
        })
        .collect();
    let findings: Vec<Value> = cx
        .findings
        .iter()
        .map(|f| json!({"id": f.id, "verdict": f.verdict.label()}))
        .collect();
    let value = json!({
        "images": cx.saliency.len(),
        "methods": cx.metrics.methods,
        "fills": cx.metrics.fills,
        "steps": cx.metrics.steps,
        "test_accuracy": cx.train.test_accuracy(),
        "table1_alpha": alpha,
        "findings": findings,
    });
    sal_artifact::meta::canonical_json(&value) + "\n"
}

/// Writes `files` into a fresh folder beside `dir`, then puts it in place of `dir`.
fn install(dir: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> Result<()> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(parent)?;
    let tmp = tempfile::Builder::new()
        .prefix(".report.partial-")
        .tempdir_in(parent)
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("creating a temporary folder in {}: {e}", parent.display()),
            )
        })?;
    for (rel, bytes) in files {
        let path = tmp.path().join(rel);
        if let Some(p) = path.parent() {
            fs_err::create_dir_all(p)?;
        }
        fs_err::write(&path, bytes)?;
    }
    // An earlier report is moved into a temporary folder (deleted when it drops) so the
    // rename below has an empty destination.
    let _old = if dir.exists() {
        let old = tempfile::Builder::new()
            .prefix(".report.old-")
            .tempdir_in(parent)
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("creating a temporary folder in {}: {e}", parent.display()),
                )
            })?;
        fs_err::rename(dir, old.path().join(REPORT_DIR))?;
        Some(old)
    } else {
        None
    };
    let built = tmp.keep();
    if let Err(e) = fs_err::rename(&built, dir) {
        let _ = std::fs::remove_dir_all(&built);
        return Err(e.into());
    }
    Ok(())
}
