//! Every candle-path test of the workspace in one executable, so that the GPU check carries a
//! single test program beside `sal` (each CUDA executable embeds all of candle's kernels: tens
//! of MB). The tests themselves live with their crates and run there too; here they run on the
//! device of `SAL_TEST_DEVICE` (`scripts/gpu-check.sh` sets `cuda:0`) against the fast CPU
//! kernels.

#[path = "../../model/tests/candle_path.rs"]
mod model_candle_path;

#[path = "../../attribution/tests/candle_path.rs"]
mod attribution_candle_path;

#[path = "../../metrics/tests/device_engine.rs"]
mod metrics_device_engine;
