//! Training the CNN: one loop ([`fit`]), generic over [`crate::TrainBackend`], and the `train`
//! stage ([`run`]) that feeds it the dataset, checkpoints every epoch and writes the artifacts.
//!
//! Every random number comes from a stream keyed by (seed, purpose, epoch) ([`rng`]), and the
//! loop does all the arithmetic outside the backend in one fixed order, so the same config on
//! the same number of threads gives byte-identical `model.safetensors`, resumed or not.

pub mod augment;
pub mod checkpoint;
pub mod evaluate;
pub mod fit;
pub mod init;
pub mod optim;
pub mod rng;
pub mod schedule;
pub mod stage;

pub use augment::Augmentation;
pub use fit::{fit, EpochLog, FitOptions, FitState, Labelled, TrainData};
pub use init::init_weights;
pub use optim::{Optimizer, OptimizerSettings};
pub use schedule::Schedule;
pub use stage::{make_backend, run, run_with, RunOptions, TrainOutputs};
