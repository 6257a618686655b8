//! `[external]`: replace a stage by any program that writes the same artifacts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Stage;

/// `[external]`: for a stage name, the program (and its leading arguments) to run instead of
/// `sal <stage>`. The pipeline appends exactly the arguments `sal <stage>` takes:
/// `--config FILE --out DIR` and `--<input-stage> DIR` for each input stage
/// (see docs/artifacts.md). Example: `attribute = ["python3", "tools/random_maps.py"]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExternalConfig {
    /// Stage name -> command line prefix.
    pub commands: BTreeMap<String, Vec<String>>,
}

impl ExternalConfig {
    /// The replacement command of `stage`, if the config names one.
    pub fn command(&self, stage: Stage) -> Option<&[String]> {
        self.commands.get(stage.name()).map(Vec::as_slice)
    }

    /// Checks that every key is a stage and every command names a program.
    pub fn validate(&self) -> Result<(), String> {
        for (name, command) in &self.commands {
            if Stage::from_name(name).is_none() {
                let known: Vec<&str> = Stage::ALL.iter().map(|s| s.name()).collect();
                return Err(format!(
                    "unknown stage `{name}`; the stages are {}",
                    known.join(", ")
                ));
            }
            if command
                .first()
                .is_none_or(|program| program.trim().is_empty())
            {
                return Err(format!(
                    "{name} = {command:?}: the command must name a program"
                ));
            }
        }
        Ok(())
    }
}
