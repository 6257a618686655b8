#!/usr/bin/env bash
# The GPU check (issue 16), run on a GPU machine from the repository root, with the bundle that
# scripts/gpu-bundle.sh prepared elsewhere (no registry, no build needed here):
#   1. the candle-path tests on the GPU against the fast CPU kernels (SAL_TEST_DEVICE);
#   2. `sal bench --device`: eval forward, forward + input gradient, training step and metrics
#      engine passes/s, each as images/s and as a ratio to a large matmul on the same GPU;
#   3. the metrics stage with configs/paper.toml's protocol on 200 test images, with the
#      projected time for all 10,000;
#   4. one epoch of quick.toml training (on the bundle's 5,000 training images) on the GPU and
#      on the CPU, time and first-epoch loss side by side.
# Prints one JSON object on stdout (logs go to stderr and to WORK/*.log); about 3-6 minutes.
# Usage: scripts/gpu-check.sh [BUNDLE [DEVICE]]   (defaults target/gpu-bundle, cuda:0)
# Environment: SAL_GPU_METRICS_BATCH (default 2048), SAL_GPU_CHECK_WORK (default a temp folder).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bundle="$(cd "${1:-target/gpu-bundle}" && pwd)"
device="${2:-cuda:0}"
batch="${SAL_GPU_METRICS_BATCH:-2048}"
work="${SAL_GPU_CHECK_WORK:-$(mktemp -d)}"
mkdir -p "$work/bin"
log() { echo "gpu-check: $*" >&2; }

for exe in sal device_path; do
    if [[ -f "$bundle/bin/$exe.gz" ]]; then
        gunzip -c "$bundle/bin/$exe.gz" > "$work/bin/$exe"
    else
        cp "$bundle/bin/$exe" "$work/bin/$exe"
    fi
    chmod +x "$work/bin/$exe"
done
sal="$work/bin/sal"

json_string() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr '\n' ' ' | sed 's/^/"/; s/$/"/'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
missing="$(ldd "$sal" 2>&1 | grep 'not found' || true)"
log "device $device: $gpu"
if [[ -n "$missing" ]]; then
    log "sal cannot load: $missing (add the CUDA 13.0 libraries to LD_LIBRARY_PATH)"
fi

# 1. Candle-path tests on the GPU (each compares with the fast kernels on the CPU).
t=$(now)
SAL_TEST_DEVICE="$device" timeout 300 "$work/bin/device_path" --test-threads 1 > "$work/tests.log" 2>&1
tests_rc=$?
tests_s=$(elapsed "$t")
tests_summary="$(grep -E '^test result:' "$work/tests.log" | tail -1)"
log "tests: rc $tests_rc in $tests_s s: $tests_summary"

# 2. sal bench on the GPU.
t=$(now)
timeout 300 "$sal" -q bench --device "$device" --json --engine-images 3 --engine-batch "$batch" \
    > "$work/bench.json" 2> "$work/bench.log"
bench_rc=$?
bench_s=$(elapsed "$t")
[[ $bench_rc -eq 0 && -s "$work/bench.json" ]] || echo null > "$work/bench.json"
log "bench: rc $bench_rc in $bench_s s"

# 3. paper.toml's metrics protocol on 200 images on the GPU.
config="$work/paper-gpu.toml"
sed -e "/^\[metrics\]/a device = \"$device\"\nbatch_size = $batch\ncheckpoint_images = 200" \
    configs/paper.toml > "$config"
t=$(now)
timeout 400 "$sal" metrics --config "$config" --data "$bundle/data" --train "$bundle/train" \
    --attribute "$bundle/attribute" --out "$work/metrics" > "$work/metrics.log" 2>&1
metrics_rc=$?
metrics_s=$(elapsed "$t")
metrics_line="$(grep -E 'forward passes in' "$work/metrics.log" | tail -1)"
passes_per_s="$(printf '%s' "$metrics_line" | sed -n 's/.*(\([0-9]*\) passes\/s.*/\1/p')"
# The passes the stage ran, as it logs them (paper.toml's fills and draws decide how many).
passes="$(printf '%s' "$metrics_line" | sed -n 's/.*metrics: \([0-9]*\) forward passes in.*/\1/p')"
log "metrics: rc $metrics_rc in $metrics_s s: $metrics_line"

# 4. One epoch of quick.toml training, GPU and CPU.
train_epoch() { # DEVICE NAME
    local cfg="$work/train-$2.toml"
    sed -e 's/^epochs = .*/epochs = 1/' -e "s/^device = .*/device = \"$1\"/" \
        -e '/^\[train\]/a max_train_images = 5000' configs/quick.toml > "$cfg"
    local t0
    t0=$(now)
    timeout 300 "$sal" train --config "$cfg" --data "$bundle/data" --out "$work/train-$2" \
        > "$work/train-$2.log" 2>&1
    local rc=$?
    local s
    s=$(elapsed "$t0")
    local loss
    loss="$(grep -oE 'epoch 1/1: loss [0-9.]+' "$work/train-$2.log" | awk '{print $4}' | head -1)"
    log "train on $1: rc $rc in $s s, first-epoch loss ${loss:-?}"
    printf '{"device": "%s", "rc": %d, "seconds": %s, "first_epoch_loss": %s, "log_tail": %s}' \
        "$1" "$rc" "$s" "${loss:-null}" "$(json_string "$(tail -3 "$work/train-$2.log")")"
}
train_gpu="$(train_epoch "$device" gpu)"
train_cpu="$(train_epoch cpu cpu)"

projected="null"
if [[ $metrics_rc -eq 0 ]]; then
    projected="$(awk -v s="$metrics_s" 'BEGIN { printf "%.0f", s * 10000 / 200 }')"
fi
cat <<JSON
{
  "gpu": $(json_string "$gpu"),
  "device": "$device",
  "missing_libraries": $(json_string "$missing"),
  "tests": {"rc": $tests_rc, "seconds": $tests_s, "summary": $(json_string "$tests_summary"),
            "failures": $(json_string "$(grep -E '^test .* FAILED|panicked' "$work/tests.log" | head -20)")},
  "bench": {"rc": $bench_rc, "seconds": $bench_s, "report": $(cat "$work/bench.json")},
  "metrics_paper_protocol_200_images": {"rc": $metrics_rc, "seconds": $metrics_s,
      "batch_size": $batch, "passes": ${passes:-null}, "passes_per_second": ${passes_per_s:-null},
      "projected_seconds_for_10000_images": $projected, "log": $(json_string "$metrics_line")},
  "train_one_epoch_quick_5000_images": {"gpu": $train_gpu, "cpu": $train_cpu},
  "work": "$work"
}
JSON
