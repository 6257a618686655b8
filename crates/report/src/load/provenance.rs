//! What produced the inputs: the `key.json` the pipeline writes beside each stage's artifacts.

use std::path::Path;

use sal_artifact::meta::KEY_FILE;
use sal_config::Stage;
use serde_json::Value;

use crate::error::{ReportError, Result};

/// One input stage's cache key and wall time, when the pipeline recorded them.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRecord {
    /// The stage.
    pub stage: Stage,
    /// `key` of `key.json`; `None` when the folder has no `key.json` (a stage run by hand).
    pub key: Option<String>,
    /// `wall_seconds` of `key.json`, if recorded.
    pub wall_seconds: Option<f64>,
}

impl StageRecord {
    /// Reads `<folder>/key.json` if it exists. A `key.json` that is present but malformed is an
    /// error (it would otherwise be reported as "not recorded" and hide a broken pipeline).
    pub fn read(stage: Stage, folder: &Path) -> Result<Self> {
        let path = folder.join(KEY_FILE);
        if !path.is_file() {
            return Ok(StageRecord {
                stage,
                key: None,
                wall_seconds: None,
            });
        }
        let text = fs_err::read_to_string(&path)?;
        let value: Value = serde_json::from_str(&text).map_err(|e| ReportError::BadJson {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let key = value
            .get("key")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ReportError::BadJson {
                path: path.clone(),
                message: "no string field `key`".to_owned(),
            })?;
        let wall_seconds = match value.get("wall_seconds") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_f64().ok_or_else(|| ReportError::BadJson {
                path: path.clone(),
                message: format!("`wall_seconds` should be a number, found {v}"),
            })?),
        };
        Ok(StageRecord {
            stage,
            key: Some(key),
            wall_seconds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_key_json_is_not_recorded_and_a_broken_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let record = StageRecord::read(Stage::Train, dir.path()).unwrap();
        assert_eq!((record.key, record.wall_seconds), (None, None));

        std::fs::write(
            dir.path().join(KEY_FILE),
            r#"{"key":"abc","stage":"train","fields":{},"wall_seconds":12.5}"#,
        )
        .unwrap();
        let record = StageRecord::read(Stage::Train, dir.path()).unwrap();
        assert_eq!(
            (record.key.as_deref(), record.wall_seconds),
            (Some("abc"), Some(12.5))
        );

        std::fs::write(dir.path().join(KEY_FILE), r#"{"stage":"train"}"#).unwrap();
        let err = StageRecord::read(Stage::Train, dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("key.json") && err.contains("key"), "{err}");
    }
}
