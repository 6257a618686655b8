//! The artifact contract of `sal`.
//!
//! Stages talk to each other only through safetensors files. This crate owns what makes those
//! files a contract rather than a convention: the schema of each kind with its version, the
//! tensor names, and one key design decision: **all metadata lives under the single
//! `__metadata__` key `sal` as canonical JSON**, because safetensors writes its metadata map in
//! hash order and we promise byte-identical files for identical inputs.
//!
//! Writes are atomic (temporary file in the destination folder, then rename); reads are checked
//! (schema, presence, dtype, shape) and every error names the file and the tensor.

pub mod dataset;
pub mod error;
pub mod kind;
pub mod meta;
pub mod names;
pub mod order;
pub mod read;
pub mod write;

pub use dataset::Dataset;
pub use error::ArtifactError;
pub use kind::Kind;
pub use meta::{input_key, Meta, METADATA_KEY};
pub use order::Order;
pub use read::Artifact;
pub use write::{write_atomic, ArtifactWriter, Element};

/// `sal <version>`, the `created_by` field of every artifact.
pub fn created_by() -> String {
    format!("sal {}", env!("CARGO_PKG_VERSION"))
}
