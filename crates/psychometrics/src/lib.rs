//! Reliability statistics for saliency metrics, and the `stats` stage of `sal`.
//!
//! Pure f64 statistics, no tensors and no candle: Krippendorff's alpha at the nominal, ordinal,
//! interval and ratio levels with missing values ([`alpha`], [`coincidence`]), average ranks
//! ([`rank`]), Pearson's r and Spearman's rho ([`correlation`]), the percentile bootstrap
//! ([`bootstrap`]), and the stage that turns `metrics.safetensors` into the paper's reliability
//! tables ([`stage`]).
//!
//! Key design decision: **a bootstrap resample is a pure function of `(seed, resample index)`**
//! (its own ChaCha8 stream), so every interval is identical for any number of threads; and
//! alpha over rankings is computed from per-unit value counts ([`rank_alpha`]), so each of the
//! 10,000 resamples costs one pass over the images and no allocation.

pub mod alpha;
pub mod bootstrap;
pub mod coincidence;
pub mod correlation;
pub mod error;
pub mod level;
pub mod quantile;
pub mod rank;
pub mod rank_alpha;
pub mod stage;
pub mod synthetic;
pub mod tensor_file;

pub use alpha::{alpha_bootstrap, krippendorff_alpha, Alpha};
pub use bootstrap::{column_means_bootstrap, percentile_interval, Bootstrap, Interval};
pub use correlation::{pearson, spearman, spearman_bootstrap, Correlation};
pub use error::{Result, StatsError};
pub use level::Level;
pub use rank::{average_ranks, Direction};
pub use rank_alpha::{bootstrap_many, RankTable};
pub use stage::{run, run_with, Options, Outputs};
