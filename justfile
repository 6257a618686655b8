# sal: a thin menu over `cargo xtask` and `cargo test`. The commands themselves are in the README.

_default:
    @just --list -u

# What CI runs (.ci/run: the test suite, the pipeline end to end on configs/ci.toml), then the
# CUDA compile check, which CI leaves out (a cold CUDA build and a 1.2 GB download; see README).
ready:
    bash .ci/run
    cargo xtask cuda-check

# Compile the CUDA build without a GPU (nvcc 13.0 from PyPI into ~/.cache/sal-cuda).
cuda-check *ARGS:
    cargo xtask cuda-check {{ARGS}}

# Run the pipeline, e.g. `just pipeline --config configs/ci.toml --until data`.
pipeline *ARGS:
    cargo xtask pipeline {{ARGS}}

# Run every test (set SAL_CIFAR10_DIR first, see the README).
test *ARGS:
    cargo test --workspace {{ARGS}}

# Model throughput as ratios to a matmul (`sal bench` in release).
bench *ARGS:
    cargo xtask bench {{ARGS}}

# Each stage fresh / stale (and why) / missing for a config.
status *ARGS:
    cargo xtask status {{ARGS}}

# Recompute the stages after train from the golden artifacts and compare (`--refresh` to rewrite them).
regress *ARGS:
    cargo xtask regress {{ARGS}}
