//! `sal variants`: several runs' reports side by side ("What moves the numbers"), the table
//! and the claims each run moves, by the code of the report's own section.

use std::path::PathBuf;

use anyhow::Context;
use sal_report::paper::PaperValues;
use sal_report::render::markdown::to_markdown;
use sal_report::render::Document;
use sal_report::variants::{section, RunRow, VariantInput, VariantRow};

/// `sal variants [--out FILE] [--missing NAME=WHY]... NAME=DIR...`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also write the Markdown to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// A run without a report, and why (repeatable; listed after the others).
    #[arg(long, value_name = "NAME=WHY")]
    pub missing: Vec<String>,
    /// `name=DIR`: a report stage folder (holding `report/summary.json`) or a report folder
    /// (holding `summary.json`), in table order; the claims of the others are compared with
    /// the first's.
    #[arg(value_name = "NAME=DIR", required = true)]
    pub runs: Vec<String>,
}

/// Prints (and with `--out` writes) the Markdown.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let parse = |spec: &String| VariantInput::parse(spec, false).map_err(anyhow::Error::msg);
    let mut runs = args.runs.iter();
    let first = parse(runs.next().context("at least one run")?)?;
    let VariantInput::Report { name, dir } = &first else {
        unreachable!("parsed as a report")
    };
    let reference =
        RunRow::load(name, dir).with_context(|| format!("reading the first run, {name}"))?;
    let mut rows = Vec::new();
    for spec in runs {
        let VariantInput::Report { name, dir } = parse(spec)? else {
            unreachable!("parsed as a report")
        };
        rows.push(match RunRow::load(&name, &dir) {
            Ok(row) => VariantRow::run(row, &reference),
            Err(err) => VariantRow::Unavailable {
                name,
                why: format!("not available: {err}"),
            },
        });
    }
    for spec in &args.missing {
        let (name, why) = spec
            .split_once('=')
            .with_context(|| format!("--missing `{spec}`: expected NAME=WHY"))?;
        rows.push(VariantRow::Unavailable {
            name: name.to_owned(),
            why: format!("not available: {why}"),
        });
    }
    let paper = RunRow::paper(&PaperValues::bundled()?);
    let mut doc = Document {
        title: format!("{} and its variants", reference.name),
        blocks: Vec::new(),
    };
    section(&mut doc, &reference, &rows, &paper);
    let text = to_markdown(&doc);
    print!("{text}");
    if let Some(out) = &args.out {
        std::fs::write(out, &text).with_context(|| format!("writing {}", out.display()))?;
        eprintln!("sal: wrote {}", out.display());
    }
    Ok(())
}
