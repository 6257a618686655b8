//! The paper's CNN in candle: the reference implementation and the GPU path.
//!
//! [`CandleNet`] is built with a `VarBuilder` whose names are the tensor names of
//! `model.safetensors`; [`CandleBackend`] trains it with candle's autograd on the configured
//! [`device_from_name`] device. Its max-pool is [`max_pool_2x2`], a custom op with a correct
//! backward (candle 0.11.1's own `max_pool2d` backward is wrong). Eval logits and input
//! gradients on any device are the [`Classifier`](crate::Classifier) and
//! [`InputGradient`](crate::InputGradient) implementations of [`CandleNet`]; the metrics
//! stage's perturbed batches are built on the device by [`perturbed`].

pub mod backend;
pub mod bench;
pub mod device;
pub mod inference;
pub mod maxpool;
pub mod net;
pub mod perturbed;
pub mod record;

pub use backend::CandleBackend;
pub use device::{
    device_from_name, eval_net, eval_net_on, test_device, test_device_name, TEST_DEVICE_ENV,
};
pub use maxpool::{max_pool_2x2, MaxPool2x2};
pub use net::{BnBatchStats, BnTensors, CandleNet};
pub use perturbed::{PerturbedImage, PerturbedRow, RankTables};
pub use record::{CandleRecording, LayerRecord};
