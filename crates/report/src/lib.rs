//! The report stage of `sal`: the paper's figures and tables beside ours.
//!
//! Key design decision: **the report computes no inferential statistic of its own**. It reads
//! artifacts only (never candle, never another stage crate): reliability statistics come from
//! the `stats` stage, and the report adds only what drawing needs (AOPC against L from the
//! curves with a normal-approximation band, quantiles, histograms, kernel densities). Its
//! comparison with the paper is generated from the numbers, with the paper's side transcribed
//! in `data/paper_values.json`, so reversing a ranking in the inputs reverses the verdict.
//!
//! Output is byte-identical for identical inputs: no timestamps, sorted JSON, deterministic
//! PNG encoding and SVG text.

pub mod aopc;
pub mod compare;
pub mod correlation;
pub mod describe;
pub mod error;
pub mod examples;
pub mod figures;
pub mod inputs;
pub mod load;
pub mod output;
pub mod paper;
pub mod render;
pub mod sanity;
pub mod sections;
pub mod stage;
pub mod tables;
pub mod variants;

pub use error::ReportError;
pub use inputs::ReportInputs;
pub use stage::{run, ReportOutputs, REPORT_DIR};
