//! The report document and its two renderings.

pub mod doc;
pub mod html;
pub mod markdown;

pub use doc::{num, with_interval, Block, Document, Table, NONE};
