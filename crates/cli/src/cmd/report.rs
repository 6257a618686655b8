//! `sal report`: every stage's artifacts -> `report/` (report.md, report.html, figures).

use std::path::PathBuf;

use anyhow::Context;
use sal_report::compare::Verdict;
use sal_report::ReportInputs;

use super::args::StageArgs;

/// `sal report --config FILE --out DIR --data DIR --train DIR --attribute DIR --metrics DIR --stats DIR --sanity DIR`
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
