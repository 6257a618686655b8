//! Training the CNN: one loop, generic over [`crate::TrainBackend`].

pub mod init;
pub mod rng;

pub use init::init_weights;
