#!/usr/bin/env bash
# make bench: every benchmark of docs/BENCHMARKS.md in one run, sparkvit and its peers side by side, then the
# report (bench/results.json, docs/BENCHMARKS.md, docs/bench/*.png). Needs `make build` first (the Makefile does it):
# the benchmarks run from the bench module's jar (bench/target/sparkvit-bench.jar, `submit/sparkvit bench ...`), the
# product's own runs (ingest, pretrain) from the product jar.
# BENCH_QUICK=1: one repeat, small sizes, no cluster: checks the pipeline, numbers not worth quoting.
# BENCH_ONLY=digits: only section 7 (the real-data check, about 40 minutes); BENCH_ONLY=engines: only section 5b (the
# barrier engine against DistriOptimizer); the report carries every other section over from bench/results.json and
# says so (with BENCH_QUICK=1 too: then nothing under docs/ changes).
# BENCH_REUSE=1: a scaling or FreezeOut run whose log under out/bench/runs holds a whole run is read, not run again
# (to finish an interrupted run; the rest is measured again).
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
ONLY="${BENCH_ONLY:-}"
[[ -z "$ONLY" || "$ONLY" == digits || "$ONLY" == engines ]] \
  || { echo "bench: BENCH_ONLY=$ONLY: only 'digits' and 'engines' are known" >&2; exit 2; }

if [[ -z "$ONLY" ]]; then

# ---- 1. GEMM peak: MKL against OpenBLAS, 1 and 2 threads (one JVM per thread count: OpenBLAS reads its env once)
say "1. GEMM"
SIZES=256,512,1024,2048; [[ "$QUICK" == 1 ]] && SIZES=256,512
OPENBLAS_NUM_THREADS=1 $SV bench gemm --threads 1 --sizes $SIZES --repeats $REPEATS --json "$OUT/gemm-1.json"
OPENBLAS_NUM_THREADS=2 $SV bench gemm --threads 2 --sizes $SIZES --repeats $REPEATS --json "$OUT/gemm-2.json"

# ---- 2. ViT training step: ours (one replica; DistriOptimizer on local[T]) and PyTorch at the same threads
say "2. ViT training step"
for spec in vit_tiny_patch4_32:32 vit_tiny_patch16_224:8; do
  M=${spec%%:*} B=${spec##*:}
  [[ "$QUICK" == 1 && "$M" == vit_tiny_patch16_224 ]] && continue
  VR=(--repeats 3); [[ "$QUICK" == 1 ]] && VR=(--repeats 1 --steps 1 --warmup 1)
  $SV bench vit --model "$M" --batch "$B" --mode step --threads 1 "${VR[@]}" --json "$OUT/vit-$M-step-1.json"
  "$PY" bench/python/vit_step.py --model "$M" --batch "$B" --threads 1 "${VR[@]}" --json "$OUT/vit-$M-pytorch-1.json"
  for t in 1 2; do
    $SV bench vit --model "$M" --batch "$B" --mode distri --threads $t "${VR[@]}" --json "$OUT/vit-$M-distri-$t.json"
  done
  "$PY" bench/python/vit_step.py --model "$M" --batch "$B" --threads 2 "${VR[@]}" --json "$OUT/vit-$M-pytorch-2.json"
done

# ---- 3-4. Augmentation and ingestion: ours (one thread, and through Spark) and torchvision / PIL on the same files
say "3-4. augmentation and ingestion"
# ingestion on 2000 files, and end to end also on the first 500 (DIR/inputs-500): two sizes give Spark's fixed cost
DR=(--repeats 3); [[ "$QUICK" == 1 ]] && DR=(--repeats 1 --images-per-class 10 --small-images-per-class 5)
$SV bench data --work "$WORK/data" "${DR[@]}" --json "$OUT/data-sparkvit.json"
DATASETS=(); for d in "$WORK"/data/dataset-*; do DATASETS+=(--dataset "$d"); done
"$PY" bench/python/augment_ref.py "${DATASETS[@]}" --repeats "${DR[1]}" --json "$OUT/data-torchvision.json"
"$PY" bench/python/ingest_ref.py --input "$WORK/data/inputs" --output "$WORK/data/pil" --repeats "${DR[1]}" \
  --json "$OUT/data-pil.json"
for small in "$WORK"/data/inputs-*; do
  "$PY" bench/python/ingest_ref.py --input "$small" --output "$WORK/data/pil" --repeats "${DR[1]}" \
    --end-to-end-only --json "$OUT/data-pil-${small##*/}.json"
done

# ---- 5-6. Scaling and FreezeOut: the product's own pretraining on the demo dataset
say "5-6. the demo dataset"
$SV bench dataset --output "$WORK/demo" >/dev/null
if [[ "$QUICK" == 1 ]]; then
  python3 bench/python/pretrain_runs.py scaling --dataset "$WORK/demo/dataset" --work "$WORK/runs" \
    --json "$OUT/scaling.json" --epochs 2
  python3 bench/python/pretrain_runs.py freezeout --dataset "$WORK/demo/dataset" --work "$WORK/runs" \
    --json "$OUT/freezeout.json" --epochs 4 --t0 0.8
else
  # the demo's vit_nano (4 blocks of width 64: DistriOptimizer's fixed cost per iteration dominates) and vit_tiny
  # (12 blocks of width 192: the compute dominates), each on local[1], local[2] and 1 and 2 one-core executors
  say "5. scaling: local[1], local[2], then 1 and 2 executors on the standalone cluster"
  STARTED=false
  # workers of 7g: one vit_tiny replica at batch 64 (128 views of 65 tokens) ran a 2g executor out of heap
  if ! submit/standalone.sh status >/dev/null 2>&1; then SPARKVIT_WORKER_MEMORY=7g make -s cluster-up; STARTED=true; fi
  for spec in vit_nano_patch4_32:4:2g vit_tiny_patch4_32:3:6g; do
    IFS=: read -r preset epochs memory <<< "$spec"
    python3 bench/python/pretrain_runs.py scaling --standalone --dataset "$WORK/demo/dataset" --work "$WORK/runs" \
      --json "$OUT/scaling.json" --append --preset "$preset" --epochs "$epochs" --executor-memory "$memory" \
      ${BENCH_REUSE:+--reuse} || { $STARTED && make -s cluster-down; exit 1; }
  done
  if $STARTED; then make -s cluster-down; fi
  # FreezeOut on vit_tiny: its 12 blocks are most of an iteration, as in the models FreezeOut is meant for
  say "6. FreezeOut"
  python3 bench/python/pretrain_runs.py freezeout --dataset "$WORK/demo/dataset" --work "$WORK/runs" \
    --json "$OUT/freezeout.json" --preset vit_tiny_patch4_32 --epochs 8 --t0 0.8,0.6 ${BENCH_REUSE:+--reuse}
fi

fi # BENCH_ONLY

# ---- 5b. Engines (issue 21): the product's pretrain on the barrier engine and on DistriOptimizer, side by side, on
# vit_nano and vit_tiny (32 px), local[1] and local[2]; iterations/s
if [[ -z "$ONLY" || "$ONLY" == engines ]]; then
  say "5b. engines: training.engine barrier and distri, local[1] and local[2]"
  # quick: 40 images per class (a few iterations of 64 per epoch), 2 epochs: checks the pipeline in minutes
  ENGINE_DATA="$WORK/demo" SMALL=()
  if [[ "$QUICK" == 1 ]]; then ENGINE_DATA="$WORK/demo-small" SMALL=(--images-per-class 40); fi
  [[ -d "$ENGINE_DATA/dataset" ]] || $SV bench dataset --output "$ENGINE_DATA" "${SMALL[@]}" >/dev/null
  for spec in vit_nano_patch4_32:4 vit_tiny_patch4_32:3; do
    IFS=: read -r preset epochs <<< "$spec"
    [[ "$QUICK" == 1 ]] && epochs=2
    python3 bench/python/pretrain_runs.py engines --dataset "$ENGINE_DATA/dataset" --work "$WORK/runs" \
      --json "$OUT/engines.json" --append --preset "$preset" --epochs "$epochs" ${BENCH_REUSE:+--reuse}
  done
fi

if [[ -z "$ONLY" || "$ONLY" == digits ]]; then
# ---- 7. Real data: scikit-learn's digits through ingest, pretrain, probe, finetune (from SSL and from scratch) and
# evaluate with the shipped configs, beside a PyTorch/timm reference of the same recipe on the same split and two
# scikit-learn baselines (the images are written from scikit-learn's bundled copy: nothing is downloaded)
say "7. real data: the digits"
DIGITS="$WORK/digits"
rm -rf "$DIGITS"; mkdir -p "$DIGITS"
"$PY" bench/python/digits_images.py --output "$DIGITS/raw"
$SV ingest --input "$DIGITS/raw" --output "$DIGITS/dataset" > "$DIGITS/ingest.log" 2>&1
# both sides: 80 SimCLR epochs (the shipped 20 is a default for larger data), then conf/finetune.yaml's auto recipe
# (a small dataset: batch 16, lr 5e-4, light augmentation, no mixing) for its 30 epochs; digits_ref.py's defaults
# are that recipe
if [[ "$QUICK" == 1 ]]; then
  DIGITS_SETS=(--pretrain-set training.epochs=3 --pretrain-set training.warmup_epochs=1
    --pretrain-set training.probe_every_epochs=0 --finetune-set training.epochs=2)
  REF=(--seeds 1 --epochs-pretrain 3 --pre-warmup-epochs 1 --epochs-finetune 2 --ft-warmup-epochs 1)
else
  DIGITS_SETS=(--pretrain-set training.epochs=80 --pretrain-set training.probe_every_epochs=20)
  REF=(--seeds 1,2,3)
fi
python3 bench/python/digits_runs.py --dataset "$DIGITS/dataset" --work "$DIGITS/runs" \
  --json "$OUT/digits-sparkvit.json" "${DIGITS_SETS[@]}"
"$PY" bench/python/digits_ref.py --dataset "$DIGITS/dataset" --json "$DIGITS/reference.json" "${REF[@]}"
python3 bench/python/digits_bench.py --reference "$DIGITS/reference.json" --json "$OUT/digits-reference.json"
fi # digits

say "report"
CARRY=(); [[ -n "$ONLY" ]] && CARRY=(--carry bench/results.json)
if [[ "$QUICK" == 1 ]]; then
  "$PY" bench/report.py --inputs "$OUT" --results "$WORK/results.json" --doc "$WORK/BENCHMARKS.md" \
    --plots "$WORK/plots" --doc-template docs/BENCHMARKS.md "${CARRY[@]}"
else
  "$PY" bench/report.py --inputs "$OUT" --results bench/results.json --doc docs/BENCHMARKS.md --plots docs/bench \
    "${CARRY[@]}"
fi
