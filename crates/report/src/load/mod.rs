//! Reading the input artifacts into what the report shows.

pub mod dataset;
pub mod metrics;
pub mod provenance;
pub mod saliency;
pub mod stats;
pub mod stats_json;
pub mod train;
