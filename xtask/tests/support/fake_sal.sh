#!/bin/sh
# A fake `sal` for the xtask tests. It implements the stage interface
#   sal <stage> --config FILE --out DIR --<input-stage> DIR...
# and writes plausible files for any stage. Files beside it steer it:
#   stages          the subcommands it has, one a line (default: all seven stages and bench)
#   sleep_<stage>   sleep that many seconds midway (after writing a partial file)
#   fail_<stage>    exit 1 midway
#   kill_<stage>    kill itself with SIGKILL midway
#   edit_on_help    once, on the first `--help`: append a line to the file it names (a source
#                   edited while the pipeline prepares)
#   kill_random_labels  kill itself with SIGKILL while "training" the random-label model
# With `--random-labels DIR` (sanity), it reuses DIR/random_labels.safetensors or "trains" it
# (a checkpoint, then the model, then the checkpoint removed) and appends "cached", "trained"
# or "resumed" (a checkpoint was there) to random_labels.log.
# Every real stage run (not --help) appends "<stage> <--input names>" to calls.log, and
# "<stage>" to resumed.log when its out folder holds what an interrupted run left; a report's
# `--variant NAME=DIR` (DIR must be finished) and `--variant-missing NAME=CONFIG` are logged as
# `--variant=NAME` and `--variant-missing=NAME`. `sal variants ARGS` appends "variants ARGS".
set -eu
here=$(dirname "$0")
stage=${1:-}
[ $# -gt 0 ] && shift
if [ -f "$here/stages" ]; then
    known=$(cat "$here/stages")
else
    known="data train attribute metrics stats sanity report bench variants"
fi
found=no
for s in $known; do [ "$s" = "$stage" ] && found=yes; done
if [ "$found" = no ]; then
    echo "error: unrecognized subcommand '$stage'" >&2
    exit 2
fi
if [ "${1:-}" = "--help" ]; then
    if [ -f "$here/edit_on_help" ]; then
        echo "// edited" >> "$(cat "$here/edit_on_help")"
        rm "$here/edit_on_help"
    fi
    echo "Usage: sal $stage --config FILE --out DIR"
    exit 0
fi
if [ "$stage" = variants ]; then
    echo "variants $*" >> "$here/calls.log"
    exit 0
fi
if [ "$stage" = bench ]; then
    echo "bench $*" >> "$here/calls.log"
    echo "matmul 2048: 150 GFLOP/s (fake)"
    exit 0
fi
config=""
out=""
inputs=""
random_labels=""
while [ $# -gt 0 ]; do
    case "$1" in
        --config) config=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --variant)
            [ -f "${2#*=}/key.json" ] || { echo "fake sal: variant $2 has no key.json" >&2; exit 3; }
            inputs="$inputs --variant=${2%%=*}"; shift 2 ;;
        --variant-missing) inputs="$inputs --variant-missing=${2%%=*}"; shift 2 ;;
        --random-labels)
            # A cache folder of its own, not a stage folder: no key.json needed.
            [ -d "$2" ] || { echo "fake sal: no random-labels folder $2" >&2; exit 3; }
            random_labels=$2; inputs="$inputs $1"; shift 2 ;;
        --*)
            # An input folder must be a finished stage folder.
            [ -f "$2/key.json" ] || { echo "fake sal: input $1 $2 has no key.json" >&2; exit 3; }
            inputs="$inputs $1"; shift 2 ;;
        *) echo "fake sal: unexpected argument $1" >&2; exit 3 ;;
    esac
done
[ -f "$config" ] || { echo "fake sal: no config $config" >&2; exit 3; }
[ -d "$out" ] || { echo "fake sal: no out folder $out" >&2; exit 3; }
echo "$stage$inputs" >> "$here/calls.log"
# A real stage resumes from the checkpoints an interrupted run left in its out folder.
[ -f "$out/partial.bin" ] && echo "$stage" >> "$here/resumed.log"
echo "partial" > "$out/partial.bin"
if [ -n "$random_labels" ]; then
    if [ -f "$random_labels/random_labels.safetensors" ]; then
        echo cached >> "$here/random_labels.log"
    else
        checkpoint="$random_labels/random_labels.checkpoint.safetensors"
        [ -f "$checkpoint" ] && echo resumed >> "$here/random_labels.log"
        echo "checkpoint" > "$checkpoint"
        [ -f "$here/kill_random_labels" ] && kill -KILL $$
        echo "random-label model from $(basename "$config")" > "$random_labels/random_labels.safetensors"
        rm "$checkpoint"
        echo trained >> "$here/random_labels.log"
    fi
fi
[ -f "$here/sleep_$stage" ] && sleep "$(cat "$here/sleep_$stage")"
if [ -f "$here/fail_$stage" ]; then echo "fake sal: $stage failed on purpose" >&2; exit 1; fi
[ -f "$here/kill_$stage" ] && kill -KILL $$
case "$stage" in
    data) files="dataset.safetensors" ;;
    train) files="model.safetensors training_log.safetensors" ;;
    attribute) files="saliency.safetensors" ;;
    metrics) files="metrics.safetensors" ;;
    stats) files="stats.safetensors stats.json" ;;
    sanity) files="sanity.safetensors sanity.json" ;;
    report) mkdir -p "$out/report"; files="report/report.md report/summary.json" ;;
esac
for f in $files; do echo "$stage from $(basename "$config")" > "$out/$f"; done
rm "$out/partial.bin"
