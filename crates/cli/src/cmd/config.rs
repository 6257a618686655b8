//! `sal config`: print a config as the stages see it.

use std::path::PathBuf;

use anyhow::Context;
use sal_config::{Config, Stage};

/// `sal config --config FILE [--json]`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The pipeline config (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Print each stage's section as the canonical JSON that enters its cache key.
    #[arg(long)]
    pub json: bool,
}

/// Loads, validates and prints the config.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = Config::load(&args.config)
        .with_context(|| format!("loading config {}", args.config.display()))?;
    if args.json {
        for stage in Stage::ALL {
            println!(
                "{stage}: {}",
                sal_artifact::meta::canonical_json(&config.section_json(stage))
            );
        }
    } else {
        print!(
            "{}",
            toml::to_string_pretty(&config).context("printing the config as TOML")?
        );
    }
    Ok(())
}
