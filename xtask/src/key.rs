//! Cache keys: blake3 over length-prefixed, named fields.
//!
//! Each field is a name and a JSON value; the key hashes, for every field in order, the
//! length-prefixed name and the length-prefixed canonical JSON of the value. The same fields
//! are written readably to `key.json`, so `status` can say which one changed. No field ever
//! holds a timestamp or an absolute path.

use sal_artifact::meta::canonical_json;
use sal_artifact::Kind;
use sal_config::Stage;
use serde_json::Value;

/// Version of the key format itself; bump it to invalidate every cached stage.
pub const KEY_FORMAT: u32 = 1;

/// One named input of a cache key.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// E.g. `config`, `input.train`, `code.crates/model`.
    pub name: String,
    /// Its value, hashed as canonical JSON.
    pub value: Value,
}

impl Field {
    /// A field.
    pub fn new(name: impl Into<String>, value: impl Into<Value>) -> Self {
        Field {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A stage's cache key and the fields it was computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct StageKey {
    /// The stage.
    pub stage: Stage,
    /// 64 hex digits of blake3.
    pub key: String,
    /// What went into the key, in hashing order.
    pub fields: Vec<Field>,
}

impl StageKey {
    /// The key of `fields` for `stage`.
    pub fn new(stage: Stage, fields: Vec<Field>) -> Self {
        StageKey {
            stage,
            key: hash_fields(&fields),
            fields,
        }
    }

    /// The value of a field, if present.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| &f.value)
    }
}

/// blake3 over the length-prefixed names and canonical JSON values of `fields`, as hex.
pub fn hash_fields(fields: &[Field]) -> String {
    let mut hasher = blake3::Hasher::new();
    for field in fields {
        put(&mut hasher, field.name.as_bytes());
        put(&mut hasher, canonical_json(&field.value).as_bytes());
    }
    hasher.finalize().to_hex().to_string()
}

/// Appends a u64 little-endian length, then the bytes.
pub(crate) fn put(hasher: &mut blake3::Hasher, bytes: &[u8]) {
    hasher.update(&(bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

/// The artifact kinds a stage writes (`report` writes figures and text, no schema'd tensors).
pub fn writes(stage: Stage) -> &'static [Kind] {
    match stage {
        Stage::Data => &[Kind::Dataset],
        Stage::Train => &[Kind::Model, Kind::TrainingLog],
        Stage::Attribute => &[Kind::Saliency],
        Stage::Metrics => &[Kind::Metrics],
        Stage::Stats => &[Kind::Stats],
        Stage::Sanity => &[Kind::Sanity],
        Stage::Report => &[],
    }
}

/// The artifact kinds a stage reads: everything its input stages write.
pub fn reads(stage: Stage) -> Vec<Kind> {
    stage
        .inputs()
        .iter()
        .flat_map(|&s| writes(s).iter().copied())
        .collect()
}

/// The schema strings (`<kind>/<version>`) of `kinds`, as a JSON array.
pub fn schemas(kinds: &[Kind]) -> Value {
    Value::Array(kinds.iter().map(|k| Value::String(k.schema())).collect())
}

/// The fields every stage's key starts with: format, stage, schema versions, config section.
pub fn head_fields(stage: Stage, config_section: Value) -> Vec<Field> {
    vec![
        Field::new("format", KEY_FORMAT),
        Field::new("stage", stage.name()),
        Field::new("schemas.writes", schemas(writes(stage))),
        Field::new("schemas.reads", schemas(&reads(stage))),
        Field::new("config", config_section),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_length_prefixed() {
        let a = hash_fields(&[Field::new("ab", "c")]);
        let b = hash_fields(&[Field::new("a", "bc")]);
        assert_ne!(a, b);
        let one = hash_fields(&[Field::new("x", "ab"), Field::new("y", "")]);
        let two = hash_fields(&[Field::new("x", "a"), Field::new("y", "b")]);
        assert_ne!(one, two);
    }

    #[test]
    fn the_key_depends_on_values_not_on_json_key_order() {
        let a: Value = serde_json::from_str(r#"{"seed":1,"epochs":3}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"epochs":3,"seed":1}"#).unwrap();
        assert_eq!(
            hash_fields(&[Field::new("config", a.clone())]),
            hash_fields(&[Field::new("config", b)])
        );
        let c = json!({"seed": 2, "epochs": 3});
        assert_ne!(
            hash_fields(&[Field::new("config", a)]),
            hash_fields(&[Field::new("config", c)])
        );
    }

    #[test]
    fn a_known_key_stays_the_same() {
        // Pinned golden values: if they change, every cached stage of every user is invalidated,
        // which needs a KEY_FORMAT bump and a deliberate update here.
        // The encoding: u64 little-endian length, bytes; for the name, then the canonical JSON.
        let bytes = b"\x05\0\0\0\0\0\0\0stage\x06\0\0\0\0\0\0\0\"data\"";
        assert_eq!(
            blake3::hash(bytes).to_hex().as_str(),
            "7a16ad69fb87ed51028d05ce67f743c66b32e80e038204333b9a9d4c80a18cd9"
        );
        assert_eq!(
            hash_fields(&[Field::new("stage", "data")]),
            "7a16ad69fb87ed51028d05ce67f743c66b32e80e038204333b9a9d4c80a18cd9"
        );
        // Several fields of several JSON types (independent of the schema versions, which other
        // crates bump).
        let fields = [
            Field::new("format", 1),
            Field::new(
                "config",
                json!({"seed": 1, "epochs": 1, "fills": ["mean", "uniform"], "rate": 0.5}),
            ),
            Field::new("input.data", "ab"),
        ];
        assert_eq!(
            hash_fields(&fields),
            "377ad0f46d25062bc8e010ddb66128e6f31104e6b6f045844d48caf1908bf4b9"
        );
    }

    #[test]
    fn reads_are_the_writes_of_the_inputs() {
        let reads: Vec<String> = reads(Stage::Attribute).iter().map(|k| k.schema()).collect();
        assert_eq!(reads, ["dataset/1", "model/1", "training_log/1"]);
        assert!(super::reads(Stage::Data).is_empty());
        // Every kind is written by exactly one stage.
        for kind in Kind::ALL {
            assert_eq!(
                Stage::ALL
                    .iter()
                    .filter(|&&s| writes(s).contains(&kind))
                    .count(),
                1,
                "{kind}"
            );
        }
    }
}
