//! One module per subcommand.

pub mod args;
pub mod attribute;
pub mod bench;
pub mod bench_device;
pub mod config;
pub mod data;
pub mod merge;
pub mod metrics;
pub mod report;
pub mod sanity;
pub mod stats;
pub mod train;
pub mod variants;
