#!/usr/bin/env bash
# Prepares, on a machine with the crate registry (no GPU needed), everything scripts/gpu-check.sh
# needs on a GPU machine that has CUDA 13.0 but no registry:
#   BUNDLE/bin/sal.gz               `sal --features cuda`, stripped and gzipped
#   BUNDLE/bin/device_path.gz       the candle-path tests (crates/cli/tests/device_path.rs), same
#   BUNDLE/data/dataset.safetensors the first 5,000 / 500 / 1,000 images of train / val / test
#   BUNDLE/train/model.safetensors  the golden quick.toml model (test-fixtures/golden/train)
#   BUNDLE/attribute/               its saliency maps of 200 test images (20 per class, CPU)
# Usage: scripts/gpu-bundle.sh [BUNDLE]   (default target/gpu-bundle; keep it under target/,
# which git ignores, and carry it with the device tool's `carry`: it must stay under 64 MiB).
# Needs SAL_CIFAR10_DIR (see the README); CUDA_COMPUTE_CAP defaults to 90 (H100/H200).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bundle="${1:-target/gpu-bundle}"
mkdir -p "$bundle"
bundle="$(cd "$bundle" && pwd)"
start=$SECONDS

# 1. The CUDA build, compiled here (installs nvcc 13.0 from PyPI into ~/.cache/sal-cuda).
rm -rf "$bundle/bin"
cargo xtask cuda-check --bundle "$bundle/bin"
mv "$bundle/bin/sal-cli-device_path" "$bundle/bin/device_path"
gzip -9f "$bundle/bin/sal" "$bundle/bin/device_path"

# 2. A small dataset cut from the quick.toml data stage (the CPU build of `sal`).
cargo xtask pipeline --config configs/quick.toml --until data
data="$(cargo xtask path data --config configs/quick.toml)"
cargo run --quiet --release -p sal-artifact --example subset_dataset -- \
    "$data" "$bundle/data" 5000 500 1000

# 3. The quick model and its saliency maps of 200 test images, computed on the CPU.
mkdir -p "$bundle/train"
cp test-fixtures/golden/train/model.safetensors "$bundle/train/"
sed -e 's/^images_per_class = .*/images_per_class = 20/' configs/quick.toml > "$bundle/attribute.toml"
sal_bin="$(cd "$root" && realpath -m "${CARGO_TARGET_DIR:-target}")/release/sal"
"$sal_bin" -q attribute --config "$bundle/attribute.toml" --data "$bundle/data" \
    --train "$bundle/train" --out "$bundle/attribute"

du -b -s "$bundle" | awk '{printf "gpu-bundle: %.1f MiB in %s\n", $1 / 1048576, $2}'
du -b "$bundle"/bin/* "$bundle"/data/* "$bundle"/train/* "$bundle"/attribute/*
echo "gpu-bundle: done in $((SECONDS - start)) s"
