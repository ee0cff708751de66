#!/usr/bin/env bash
# make bench: every benchmark of docs/BENCHMARKS.md in one run, sparkvit and its peers side by side, then the
# report (bench/results.json, docs/BENCHMARKS.md, docs/bench/*.png). Needs `make build` first (the Makefile does it).
# BENCH_QUICK=1: one repeat, small sizes, no cluster: checks the pipeline, numbers not worth quoting.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CACHE="${SPARKVIT_CACHE:-$HOME/.cache/sparkvit}"
VENV="$CACHE/pybench"
WORK="${BENCH_WORK:-$ROOT/out/bench}"
OUT="$WORK/json"
QUICK="${BENCH_QUICK:-0}"
SV=submit/sparkvit
say() { printf '\n== bench: %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }

# ---- the peer-benchmark venv (PyPI: torch, torchvision, PIL, pyarrow, matplotlib), renewed when the pins change
REQ=bench/python/requirements.txt
if [[ ! -x "$VENV/bin/python" ]] || ! cmp -s "$REQ" "$VENV/requirements.txt"; then
  say "installing $REQ into $VENV (the first time downloads about 3 GB: PyPI's torch brings its CUDA libraries)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$REQ"
  cp "$REQ" "$VENV/requirements.txt"
fi
PY="$VENV/bin/python"
submit/openblas.sh || true   # Debian's OpenBLAS for the GEMM comparison; MKL-only when it cannot be installed

rm -rf "$OUT"; mkdir -p "$OUT"
if [[ "$QUICK" == 1 ]]; then REPEATS=1; else REPEATS=5; fi

# ---- 1. GEMM peak: MKL against OpenBLAS, 1 and 2 threads (one JVM per thread count: OpenBLAS reads its env once)
say "1. GEMM"
SIZES=256,512,1024,2048; [[ "$QUICK" == 1 ]] && SIZES=256,512
OPENBLAS_NUM_THREADS=1 $SV bench gemm --threads 1 --sizes $SIZES --repeats $REPEATS --json "$OUT/gemm-1.json"
OPENBLAS_NUM_THREADS=2 $SV bench gemm --threads 2 --sizes $SIZES --repeats $REPEATS --json "$OUT/gemm-2.json"

#@VIT@

#@DATA@

# ---- 5-6. Scaling and FreezeOut: the product's own pretraining on the demo dataset
say "5-6. the demo dataset"
$SV bench dataset --output "$WORK/demo" >/dev/null
if [[ "$QUICK" == 1 ]]; then
  python3 bench/python/pretrain_runs.py scaling --dataset "$WORK/demo/dataset" --work "$WORK/runs" \
    --json "$OUT/scaling.json" --epochs 2
  python3 bench/python/pretrain_runs.py freezeout --dataset "$WORK/demo/dataset" --work "$WORK/runs" \
    --json "$OUT/freezeout.json" --epochs 2 --t0 0.5
else
  say "5. scaling: local[1], local[2], then 1 and 2 executors on the standalone cluster"
  STARTED=false
  if ! submit/standalone.sh status >/dev/null 2>&1; then make -s cluster-up; STARTED=true; fi
  python3 bench/python/pretrain_runs.py scaling --standalone --dataset "$WORK/demo/dataset" --work "$WORK/runs" \
    --json "$OUT/scaling.json" --epochs 4 || { $STARTED && make -s cluster-down; exit 1; }
  if $STARTED; then make -s cluster-down; fi
  say "6. FreezeOut"
  python3 bench/python/pretrain_runs.py freezeout --dataset "$WORK/demo/dataset" --work "$WORK/runs" \
    --json "$OUT/freezeout.json" --epochs 10 --t0 0.8,0.5
fi

say "report"
if [[ "$QUICK" == 1 ]]; then
  "$PY" bench/report.py --inputs "$OUT" --results "$WORK/results.json" --doc "$WORK/BENCHMARKS.md" \
    --plots "$WORK/plots" --doc-template docs/BENCHMARKS.md
else
  "$PY" bench/report.py --inputs "$OUT" --results bench/results.json --doc docs/BENCHMARKS.md --plots docs/bench
fi
