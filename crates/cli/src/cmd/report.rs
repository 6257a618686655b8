//! `sal report`: every stage's artifacts -> `report/` (report.md, report.html, figures).

use std::path::PathBuf;

use anyhow::Context;
use sal_report::compare::Verdict;
use sal_report::variants::VariantInput;
use sal_report::ReportInputs;

use super::args::StageArgs;

/// `sal report --config FILE --out DIR --data DIR --train DIR --attribute DIR --metrics DIR --stats DIR --sanity DIR [--variant NAME=DIR]... [--variant-missing NAME=CONFIG]...`
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub stage: StageArgs,
    /// Folder of the `data` stage (dataset.safetensors).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Folder of the `train` stage (model.safetensors, training_log.safetensors).
    #[arg(long, value_name = "DIR")]
    pub train: PathBuf,
    /// Folder of the `attribute` stage (saliency.safetensors).
    #[arg(long, value_name = "DIR")]
    pub attribute: PathBuf,
    /// Folder of the `metrics` stage (metrics.safetensors).
    #[arg(long, value_name = "DIR")]
    pub metrics: PathBuf,
    /// Folder of the `stats` stage (stats.json).
    #[arg(long, value_name = "DIR")]
    pub stats: PathBuf,
    /// Folder of the `sanity` stage (sanity.json, sanity.safetensors); without it the report
    /// has no sanity section.
    #[arg(long, value_name = "DIR")]
    pub sanity: Option<PathBuf>,
    /// A variant of this run's protocol for the section "What moves the numbers": its name
    /// and its finished report stage folder (holding `report/summary.json`) or report folder
    /// (repeatable; shown in this order). `cargo xtask pipeline` passes one per `[report]
    /// variants` entry whose report is fresh.
    #[arg(long = "variant", value_name = "NAME=DIR", value_parser = report_variant)]
    pub variants: Vec<VariantInput>,
    /// A variant with no finished report for its current key: its name and its config, listed
    /// as not run with the command that makes it (repeatable; after the `--variant`s).
    #[arg(long = "variant-missing", value_name = "NAME=CONFIG", value_parser = missing_variant)]
    pub variants_missing: Vec<VariantInput>,
}

fn report_variant(spec: &str) -> Result<VariantInput, String> {
    VariantInput::parse(spec, false)
}

fn missing_variant(spec: &str) -> Result<VariantInput, String> {
    VariantInput::parse(spec, true)
}

/// Writes `<out>/report/` and prints where it is and how the comparison with the paper went.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = args.stage.load_config()?;
    let inputs = ReportInputs {
        data: args.data.clone(),
        train: args.train.clone(),
        attribute: args.attribute.clone(),
        metrics: args.metrics.clone(),
        stats: args.stats.clone(),
        sanity: args.sanity.clone(),
        variants: args
            .variants
            .iter()
            .chain(&args.variants_missing)
            .cloned()
            .collect(),
    };
    let outputs = sal_report::run(&config, &inputs, &args.stage.out)
        .with_context(|| format!("report stage (output folder {})", args.stage.out.display()))?;
    let count = |v: Verdict| outputs.findings.iter().filter(|f| f.verdict == v).count();
    tracing::info!(
        report = %outputs.dir.join("report.md").display(),
        agree = count(Verdict::Agrees),
        differ = count(Verdict::Differs),
        not_comparable = count(Verdict::NotComparable),
        "report written; comparison with the paper"
    );
    Ok(())
}
