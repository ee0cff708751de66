#!/usr/bin/env bash
# The driver killed mid-run and restarted with --resume ends with the weights of an uninterrupted run.
#
#   tools/resume-check.sh [DATASET] [KILLS]
#
# Runs one uninterrupted SimCLR pretraining, then the same run killed with SIGKILL KILLS times (default 2) at a
# random moment after a new checkpoint appeared, each time restarted with --resume, and compares the final EMA
# weights (pretrained-ema.safetensors) and the last checkpoint's tensors byte for byte. DATASET defaults to the
# demo's (make demo). Exit 0 when they are identical, 1 otherwise. Uses local[2] through submit/sparkvit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATASET="${1:-$ROOT/out/demo/dataset}"
KILLS="${2:-2}"
# a dataset is a table: its metadata/ folder (docs/DATASETS.md); pretrain names anything else in one line anyway
[[ -d "$DATASET/metadata" ]] || { echo "resume-check: no dataset at $DATASET (run make demo first)" >&2; exit 2; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sparkvit-resume.XXXXXX")"
SETS=(--set "data.dataset=$DATASET" --set training.epochs=4 --set training.warmup_epochs=1
  --set training.checkpoint.every_iterations=7 --set training.probe_every_epochs=0
  --set training.freezeout.enabled=true)
CMD=("$ROOT/submit/sparkvit" pretrain --config "$ROOT/conf/pretrain.yaml" "${SETS[@]}")
run() { "${CMD[@]}" --set "output_dir=$1" "${@:2}"; }
newest() { # iteration of the newest checkpoint under $1, empty when none
  local all=("$1"/checkpoints/iter-*)
  [[ -e "${all[0]}" ]] && basename "${all[-1]}" | sed 's/^iter-0*//' || true
}

echo "resume-check: uninterrupted run -> $WORK/whole"
run "$WORK/whole" > "$WORK/whole.log" 2>&1
total="$(newest "$WORK/whole")"

resume=()
for ((k = 1; k <= KILLS; k++)); do
  before="$(newest "$WORK/parts")"
  # a simple command, not a function: $! is then the JVM itself (submit/sparkvit execs java), which is what dies
  "${CMD[@]}" --set "output_dir=$WORK/parts" "${resume[@]}" > "$WORK/parts-$k.log" 2>&1 &
  pid=$!
  # wait for a checkpoint newer than the last kill's, then a random 0-0.9 s into the next stretch (checkpoints every
  # 7 iterations fall inside epochs; a few iterations take longer than that, so the kill lands before the next one)
  while kill -0 "$pid" 2>/dev/null && [[ "$(newest "$WORK/parts")" == "$before" ]]; do sleep 0.1; done
  sleep "0.$((RANDOM % 10))"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    if pgrep -f "output_dir=$WORK/parts" > /dev/null; then
      echo "resume-check: the killed run is still alive" >&2; exit 1
    fi
    echo "resume-check: kill $k: SIGKILL (pid $pid) after checkpoint iteration $(newest "$WORK/parts") of $total"
  else
    echo "resume-check: kill $k: the run had already finished" && wait "$pid" || true
  fi
  resume=(--resume)
done
echo "resume-check: resuming to the end"
run "$WORK/parts" --resume > "$WORK/parts-final.log" 2>&1

status=0
for f in pretrained-ema.safetensors; do
  a="$(sha256sum < "$WORK/whole/$f")"; b="$(sha256sum < "$WORK/parts/$f")"
  if [[ "$a" == "$b" ]]; then echo "resume-check: $f identical (${a%% *})"; else echo "resume-check: $f DIFFERS"; status=1; fi
done
last="$(ls -1d "$WORK"/whole/checkpoints/iter-* | tail -1 | xargs basename)"
if cmp -s "$WORK/whole/checkpoints/$last/checkpoint.safetensors" "$WORK/parts/checkpoints/$last/checkpoint.safetensors"; then
  echo "resume-check: final checkpoint $last identical (live weights, EMA, optimiser moments)"
else
  echo "resume-check: final checkpoint $last DIFFERS"; status=1
fi
grep -h "probe accuracy" "$WORK/whole.log" "$WORK/parts-final.log" | sed 's/^/resume-check:   /' || true
echo "resume-check: logs and outputs in $WORK"
exit "$status"
