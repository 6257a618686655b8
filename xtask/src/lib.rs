//! `cargo xtask`: the orchestrator of the sal pipeline.
//!
//! It runs each stage as a subprocess of a release build of `sal`
//! (`sal <stage> --config FILE --out DIR --<input-stage> DIR...`) and caches its output folder
//! under `artifacts/<stage>/<key>/`. The key design decision: **a stage's cache key is computed
//! from its inputs alone, before anything runs** (format version, stage, artifact schema
//! versions, the canonical JSON of its config section, the keys of its input stages, and the
//! identity of the code that produces it), so `status` and `path` answer without running
//! anything, and a change re-runs exactly the stages downstream of it.
//!
//! xtask never links candle: it depends only on the light `sal-config` and `sal-artifact`.
//! Every command is a library function here so the tests can drive it with a fake `sal`.

pub mod bench;
pub mod compare;
pub mod cuda;
pub mod display;
pub mod flags;
pub mod key;
pub mod lock;
pub mod merge;
pub mod path;
pub mod pipeline;
pub mod plan;
pub mod project;
pub mod random_labels;
pub mod regress;
pub mod runner;
pub mod sal;
pub mod sources;
pub mod status;
pub mod store;
pub mod variants;

pub use key::{Field, StageKey};
pub use plan::Plan;
pub use project::Project;
pub use sal::SalSource;
