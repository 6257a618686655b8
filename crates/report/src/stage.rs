//! `run`: the report stage from input folders to `<out>/report/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sal_config::Config;

use crate::compare::{compare, Finding, Ours};
use crate::error::{ReportError, Result};
use crate::examples::pick_examples;
use crate::figures::build::{figure1, figure_2a, figure_2b};
use crate::figures::font::{text_support, TextSupport};
use crate::figures::newer::FigureNewer;
use crate::figures::{render, Rendered};
use crate::inputs::ReportInputs;
use crate::load::dataset::DatasetInfo;
use crate::load::metrics::Metrics;
use crate::load::provenance::StageRecord;
use crate::load::saliency::Saliency;
use crate::load::stats_json::load_stats;
use crate::load::train::TrainInfo;
use crate::output::{install, summary_json};
use crate::paper::PaperValues;
use crate::render::html::to_html;
use crate::render::markdown::{to_markdown, FIGURES_DIR};
use crate::sections::{document, this_run, Context};
use crate::variants::load_inputs;

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
    let stats = load_stats(&inputs.stats_json(), &dataset.class_names)?;
    let metrics = Metrics::load(
        &inputs.metrics(),
        &saliency.methods,
        &saliency.image_index,
        &config.metrics.fills,
        stats.mean_interval_level.unwrap_or(0.95),
    )?;
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
    let labels: Vec<String> = metrics
        .methods
        .iter()
        .map(|m| paper.method_label(m))
        .collect();
    if let Some(figure) = FigureNewer::from_stats(
        &stats,
        &metrics.methods,
        labels,
        &metrics.fills,
        text.enabled(),
    ) {
        figures.push(render(&figure)?);
    }

    let mut cx = Context {
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
        variants: &[],
    };
    let variants = load_inputs(&inputs.variants, &this_run(&cx))?;
    cx.variants = &variants;
    let mut doc = document(&cx);
    if let Some(dir) = &inputs.sanity {
        let sanity = crate::sanity::Sanity::load(dir)?;
        let labels: Vec<String> = sanity
            .json
            .methods
            .iter()
            .map(|m| paper.method_label(m))
            .collect();
        crate::sanity::add(&mut doc, &mut figures, &sanity, &labels, text.enabled())?;
    }
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
