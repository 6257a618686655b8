//! The `sal` metadata entry: one canonical JSON object per artifact file.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ArtifactError, Result};
use crate::Kind;

/// The single key of the safetensors `__metadata__` map that sal writes.
pub const METADATA_KEY: &str = "sal";

/// The file beside every pipeline artifact that records its cache key (written by `xtask`).
pub const KEY_FILE: &str = "key.json";

/// What every artifact says about itself.
///
/// Serialised as canonical JSON (keys sorted at every depth, no whitespace) under the
/// `__metadata__` key [`METADATA_KEY`]. `extra` holds kind-specific fields (for example the
/// architecture and accuracies of a model); they are flattened into the same object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// `<kind>/<version>`, see [`Kind::schema`].
    pub schema: String,
    /// The stage that wrote the file (`data`, `train`, ...).
    pub stage: String,
    /// The config section of that stage, as it was used.
    pub config: Value,
    /// For each input artifact, its cache key (see [`input_key`]).
    pub inputs: BTreeMap<String, String>,
    /// `sal <version>`.
    pub created_by: String,
    /// Kind-specific fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Meta {
    /// Metadata for a new artifact of `kind` written by `stage` with the given config section.
    pub fn new(kind: Kind, stage: &str, config: Value) -> Self {
        Meta {
            schema: kind.schema(),
            stage: stage.to_owned(),
            config,
            inputs: BTreeMap::new(),
            created_by: crate::created_by(),
            extra: BTreeMap::new(),
        }
    }

    /// Records an input artifact by its cache key.
    pub fn with_input(mut self, name: &str, key: String) -> Self {
        self.inputs.insert(name.to_owned(), key);
        self
    }

    /// Adds a kind-specific field.
    pub fn with_extra(mut self, name: &str, value: Value) -> Self {
        self.extra.insert(name.to_owned(), value);
        self
    }

    /// The canonical JSON text of this metadata.
    pub fn to_canonical_json(&self) -> String {
        let value = serde_json::to_value(self).expect("Meta is always representable as JSON");
        canonical_json(&value)
    }

    /// Parses the metadata text of `path`.
    pub(crate) fn parse(path: &Path, text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| ArtifactError::BadMetadata {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }
}

/// JSON text with object keys sorted at every depth and no insignificant whitespace.
///
/// Independent of whether `serde_json` was built with `preserve_order`, so the same value
/// always gives the same bytes.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The cache key of the artifact at `path`, to record in a downstream artifact's `inputs`.
///
/// It is the `key` field of the `key.json` that the pipeline writes beside each artifact. An
/// artifact made outside the pipeline has no `key.json`; it is then identified by the blake3
/// hash of its bytes, written `blake3:<hex>`.
pub fn input_key(path: &Path) -> Result<String> {
    let key_file = path.parent().unwrap_or(Path::new(".")).join(KEY_FILE);
    if key_file.is_file() {
        let text = fs_err::read_to_string(&key_file)?;
        let value: Value = serde_json::from_str(&text).map_err(|e| ArtifactError::BadMetadata {
            path: key_file.clone(),
            message: e.to_string(),
        })?;
        if let Some(key) = value.get("key").and_then(Value::as_str) {
            return Ok(key.to_owned());
        }
        return Err(ArtifactError::BadMetadata {
            path: key_file,
            message: "no string field `key`".to_owned(),
        });
    }
    let bytes = fs_err::read(path)?;
    Ok(format!("blake3:{}", blake3::hash(&bytes).to_hex()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let value: Value =
            serde_json::from_str(r#"{"b":1,"a":{"z":[3,{"y":1,"x":2}],"c":null}}"#).unwrap();
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"c":null,"z":[3,{"x":2,"y":1}]},"b":1}"#
        );
    }

    #[test]
    fn meta_round_trips_with_extra_fields() {
        let meta = Meta::new(Kind::Model, "train", serde_json::json!({"epochs": 3}))
            .with_input("data", "abc".into())
            .with_extra("test_accuracy", serde_json::json!(0.5));
        let text = meta.to_canonical_json();
        assert!(
            text.starts_with(r#"{"config":{"epochs":3},"created_by":"sal "#),
            "{text}"
        );
        let back = Meta::parse(Path::new("x"), &text).unwrap();
        assert_eq!(back, meta);
    }
}
