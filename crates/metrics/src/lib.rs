//! Saliency metrics of `sal`: AOPC curves (MoRF, LeRF, random baseline) and faithfulness, and
//! the `metrics` stage that computes them for every explained test image.
//!
//! Key design decision: **every number of an image is a pure function of (config, inputs,
//! image)**. The [`Engine`] runs all forward passes of one image in its own balanced batches
//! (never mixing images), and all randomness is seeded by the test-set index (see
//! `sal-perturbation`). The stage therefore writes per-image results in chunks
//! ([`checkpoint`]) that a killed run picks up again, runs any contiguous slice of the images as
//! a shard ([`shard`]), and [`merge`]s shards, all through one assembly function
//! ([`output::assemble`]) that computes the cross-image aggregates (`aopc.random.<fill>`) in
//! f64 in image order: resumed, sharded + merged and uninterrupted runs write the same bytes.

pub mod aopc;
pub mod bench;
pub mod checkpoint;
pub mod device_engine;
pub mod engine;
pub mod error;
mod incremental;
pub mod inputs;
pub mod merge;
pub mod output;
pub mod pearson;
pub mod probability;
pub mod protocol;
pub mod saturation;
pub mod shard;
pub mod stage;
pub mod table;

pub use aopc::{aopc, aopc_all, aopc_rows};
pub use device_engine::DeviceEngine;
pub use engine::{Engine, ImageInput, ImageResult};
pub use error::{MetricsError, Result};
pub use merge::merge;
pub use pearson::pearson;
pub use protocol::{Layout, Protocol};
pub use shard::ShardSpec;
pub use stage::{run, run_with_classifier, run_with_device_net, Inputs, Options, Outputs};
