//! CIFAR-10 for `sal`: the `data` stage and the one reader of its artifact.
//!
//! Reads the official binary batches, checks them, splits the official training set 45,000 /
//! 5,000 by a seed, computes the training split's channel statistics and writes
//! `dataset.safetensors` (tensor names in [`sal_artifact::names::dataset`]).
//!
//! Key design decision: **the stage reads and checks every input byte before it writes
//! anything.** Each batch file is hashed (SHA-256, compared with the official sum unless
//! `data.verify = false`), its size must be exactly 10,000 records and every label must be a
//! class; only then is the artifact built and written atomically. A bad input therefore stops
//! the stage with an error naming the file and what to do, and leaves the output folder as it
//! was. The image layout needs no conversion: a record minus its label byte *is* an NCHW
//! `[3, 32, 32]` image.
//!
//! Later stages load the data with `sal_artifact::Dataset::open`, never by reading tensors
//! themselves (the typed reader lives in `sal-artifact`, so no stage crate depends on this one).

pub mod batch;
pub mod download;
pub mod error;
pub mod official;
mod progress;
pub mod source;
pub mod split;
pub mod stage;
pub mod stats;

pub use batch::{read_batch, verify_file, Batch};
pub use error::DataError;
pub use sal_artifact::dataset::{Dataset, Part};
pub use source::{locate_or_download, Origin, Source};
pub use split::{split, Split};
pub use stage::{run, run_with, DataOutputs, RunOptions};
pub use stats::{channel_stats, ChannelStats};
