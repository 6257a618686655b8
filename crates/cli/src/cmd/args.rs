//! Arguments shared by every stage subcommand.

use std::path::PathBuf;

use anyhow::Context;
use sal_config::Config;

/// `--config FILE --out DIR`, common to every stage.
#[derive(Debug, clap::Args)]
pub struct StageArgs {
    /// The pipeline config (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Folder to write the stage's artifacts into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

impl StageArgs {
    /// Loads and validates the config.
    pub fn load_config(&self) -> anyhow::Result<Config> {
        Config::load(&self.config)
            .with_context(|| format!("loading config {}", self.config.display()))
    }
}
