#!/usr/bin/env bash
# make bench: every benchmark of docs/BENCHMARKS.md in one run, sparkvit and its peers side by side, then the
# report (bench/results.json, docs/BENCHMARKS.md, docs/bench/*.png). Needs `make build` first (the Makefile does it):
# the benchmarks run from the bench module's jar (bench/target/sparkvit-bench.jar, `submit/sparkvit bench ...`), the
# product's own runs (ingest, pretrain) from the product jar.
# BENCH_QUICK=1: one repeat, small sizes, no cluster: checks the pipeline, numbers not worth quoting (section 8,
# the scale benchmark, then ingests 100,000 files instead of 1,000,000).
# BENCH_ONLY=training: only sections 1-2 (GEMM peak, the ViT step and the product's jobs against PyTorch).
# BENCH_ONLY=digits: only section 7 (the real-data check, about 40 minutes); BENCH_ONLY=engines: only section 5 (the
# barrier engine's scaling; with BENCH_QUICK=1 a few minutes); the report carries every other section over from
# bench/results.json and says so (with BENCH_QUICK=1 too: then nothing under docs/ changes).
# BENCH_ONLY=vitbase: only section 8 (vit_base_patch16_224 on 2 executors of 8g with their peak memory, about
# 6 minutes and 21 GB of RAM: two 8g executors and a 4g driver; not part of BENCH_QUICK=1).
# BENCH_ONLY takes a comma-separated list (e.g. training,engines).
# BENCH_REUSE=1: a scaling or FreezeOut run whose log under out/bench/runs holds a whole run is read, not run again
# (to finish an interrupted run; the rest is measured again).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CACHE="${SPARKVIT_CACHE:-$HOME/.cache/sparkvit}"
VENV="$CACHE/pybench"
WORK="${BENCH_WORK:-$ROOT/out/bench}"
OUT="$WORK/json"
SV=submit/sparkvit
say() { printf '\n== bench: %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }

QUICK="${BENCH_QUICK:-0}"
ONLY="${BENCH_ONLY:-}"
for part in ${ONLY//,/ }; do
  [[ "$part" == training || "$part" == digits || "$part" == engines || "$part" == vitbase ]] \
    || { echo "bench: BENCH_ONLY=$ONLY: '$part' is not one of training, engines, digits, vitbase" >&2; exit 2; }
done
# only NAME: whether the sections called NAME run (every section when BENCH_ONLY is empty)
only() { [[ -z "$ONLY" || ",$ONLY," == *",$1,"* ]]; }

# ---- the peer-benchmark venv (PyPI: torch, torchvision, PIL, pyarrow, matplotlib), renewed when the pins change;
# not for the quick check of section 5 alone, which has no peer (its report goes to out/, plots only when this
# Python has matplotlib)
REQ=bench/python/requirements.txt
if [[ "$ONLY" == engines && "$QUICK" == 1 ]]; then
  PY=python3
else
  if [[ ! -x "$VENV/bin/python" ]] || ! cmp -s "$REQ" "$VENV/requirements.txt"; then
    say "installing $REQ into $VENV (the first time downloads about 3 GB: PyPI's torch brings its CUDA libraries)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$REQ"
    cp "$REQ" "$VENV/requirements.txt"
  fi
  PY="$VENV/bin/python"
fi
# Debian's OpenBLAS for the GEMM comparison; MKL-only when it cannot be installed
if only training; then submit/openblas.sh || true; fi

rm -rf "$OUT"; mkdir -p "$OUT"
if [[ "$QUICK" == 1 ]]; then REPEATS=1; else REPEATS=5; fi

if only training; then

# ---- 1. GEMM peak: MKL against OpenBLAS, 1 and 2 threads (one JVM per thread count: OpenBLAS reads its env once)
say "1. GEMM"
SIZES=256,512,1024,2048; [[ "$QUICK" == 1 ]] && SIZES=256,512
OPENBLAS_NUM_THREADS=1 $SV bench gemm --threads 1 --sizes $SIZES --repeats $REPEATS --json "$OUT/gemm-1.json"
OPENBLAS_NUM_THREADS=2 $SV bench gemm --threads 2 --sizes $SIZES --repeats $REPEATS --json "$OUT/gemm-2.json"

# ---- 2. ViT training: one replica's step, and the product's jobs on the barrier engine (finetune: the step's work;
# pretrain: its MFU), PyTorch's step at the same threads
say "2. ViT training: step and the product's jobs"
# the jobs' data: the demo's images, 40 a class (about 330 train images: 10 iterations of 32 an epoch at 32 px); at
# 224 px a fixed 30% of them (label_fraction), 12 iterations of 8
PRODUCT="$WORK/product"
rm -rf "$PRODUCT"; $SV bench dataset --output "$PRODUCT" --images-per-class 40 >/dev/null
EPOCHS=4; [[ "$QUICK" == 1 ]] && EPOCHS=2   # the first epoch is left out: 3 samples (1 when quick)
for spec in vit_tiny_patch4_32:32:1.0 vit_tiny_patch16_224:8:0.3; do
  IFS=: read -r M B FRACTION <<< "$spec"
  [[ "$QUICK" == 1 && "$M" == vit_tiny_patch16_224 ]] && continue
  VR=(--repeats 3); [[ "$QUICK" == 1 ]] && VR=(--repeats 1 --steps 1 --warmup 1)
  $SV bench vit --model "$M" --batch "$B" "${VR[@]}" --json "$OUT/vit-$M-step-1.json"
  for t in 1 2; do
    $SV bench product --job finetune --model "$M" --batch "$B" --threads $t --epochs $EPOCHS \
      --dataset "$PRODUCT/dataset" --set data.label_fraction=$FRACTION --output "$PRODUCT/finetune-$M-$t" \
      --json "$OUT/vit-$M-finetune-$t.json"
    "$PY" bench/python/vit_step.py --model "$M" --batch "$B" --threads $t "${VR[@]}" --json "$OUT/vit-$M-pytorch-$t.json"
  done
done
$SV bench product --job pretrain --model vit_tiny_patch4_32 --batch 64 --threads 1 --epochs $EPOCHS \
  --dataset "$PRODUCT/dataset" --output "$PRODUCT/pretrain-vit_tiny_patch4_32-1" \
  --json "$OUT/vit-vit_tiny_patch4_32-pretrain-1.json"
fi # training

if [[ -z "$ONLY" ]]; then
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

fi # BENCH_ONLY

# ---- 5. Scaling (issue 21's engine scaling; BENCH_ONLY=engines): the product's pretraining on the barrier engine,
# local[1] against local[2] and 1 against 2 one-core executors of the standalone cluster, vit_nano and vit_tiny
if only engines; then
  say "5. scaling on the barrier engine"
  [[ -d "$WORK/demo/dataset" ]] || $SV bench dataset --output "$WORK/demo" >/dev/null
  if [[ "$QUICK" == 1 ]]; then
    # 40 images per class (5 iterations of 64 an epoch), 2 epochs, local only: checks the pipeline in minutes
    [[ -d "$WORK/demo-small/dataset" ]] || $SV bench dataset --output "$WORK/demo-small" --images-per-class 40 >/dev/null
    for preset in vit_nano_patch4_32 vit_tiny_patch4_32; do
      python3 bench/python/pretrain_runs.py scaling --dataset "$WORK/demo-small/dataset" --work "$WORK/runs" \
        --json "$OUT/scaling.json" --append --preset "$preset" --epochs 2 ${BENCH_REUSE:+--reuse}
    done
  else
    # vit_nano (4 blocks of width 64: the fixed cost per iteration weighs most) and vit_tiny (12 blocks of width 192:
    # the compute dominates), each on local[1], local[2] and 1 and 2 one-core executors
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
  fi
fi

# ---- 6. FreezeOut on vit_tiny: its 12 blocks are most of an iteration, as in the models FreezeOut is meant for
if [[ -z "$ONLY" ]]; then
  say "6. FreezeOut"
  if [[ "$QUICK" == 1 ]]; then
    python3 bench/python/pretrain_runs.py freezeout --dataset "$WORK/demo/dataset" --work "$WORK/runs" \
      --json "$OUT/freezeout.json" --epochs 4 --t0 0.8
  else
    python3 bench/python/pretrain_runs.py freezeout --dataset "$WORK/demo/dataset" --work "$WORK/runs" \
      --json "$OUT/freezeout.json" --preset vit_tiny_patch4_32 --epochs 8 --t0 0.8,0.6 ${BENCH_REUSE:+--reuse}
  fi
fi

if only digits; then
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

# ---- 8. vit_base_patch16_224 (issue 21; BENCH_ONLY=vitbase): a few iterations of the product's pretraining on 2
# one-core executors of 8g, and each executor's peak heap and resident set. Its own standalone
# cluster (own state folder and ports, workers of 9g), so it never meets section 5's or anyone's `make cluster-up`.
if only vitbase && [[ -n "$ONLY" || "$QUICK" != 1 ]]; then
  say "8. vit_base_patch16_224 on 2 executors of 8g"
  # the demo's images, 5 a class: 42 train images, one epoch (one segment) of 21 iterations of global batch 2
  # (docs/ENGINE.md "Memory per executor"); a run out of memory is recorded with its peaks and how far it got
  [[ -d "$WORK/vitbase/dataset" ]] || $SV bench dataset --output "$WORK/vitbase" --images-per-class 5 >/dev/null
  VB_ENV=(SPARKVIT_CACHE="$WORK/vitbase-cluster" SPARK_HOME="$(submit/spark-dist.sh)" SPARKVIT_WORKER_MEMORY=9g
    SPARKVIT_MASTER_PORT=7277 SPARKVIT_MASTER_UI_PORT=8280 SPARKVIT_WORKER_PORT_BASE=7280
    SPARKVIT_WORKER_UI_PORT_BASE=8290 SPARKVIT_MASTER_UI=http://127.0.0.1:8280)
  env "${VB_ENV[@]}" submit/standalone.sh up >/dev/null
  VB_RC=0
  env "${VB_ENV[@]}" python3 bench/python/pretrain_runs.py memory --dataset "$WORK/vitbase/dataset" \
    --work "$WORK/runs" --json "$OUT/memory.json" --master spark://127.0.0.1:7277 --executor-memory 8g \
    --batch 2 --epochs 1 || VB_RC=$?
  env "${VB_ENV[@]}" submit/standalone.sh down >/dev/null
  ((VB_RC == 0)) || exit "$VB_RC"
fi

if [[ -z "$ONLY" ]]; then
# ---- 9. Scale: ingest of many tiny files with a small driver heap (docs/DATASETS.md, "Scale benchmark"); the files
# are generated on the first run and kept under $WORK/scale (1,000,000 files take a while to write); the result is
# printed and written to $WORK/scale.json, not yet part of the report
say "9. scale: ingest with a small driver"
# (a local master: driver and executors share that heap, so the full run gets 1g, the figure issue 22 asks for)
SCALE=(--files 1000000 --driver-memory 1g); [[ "$QUICK" == 1 ]] && SCALE=(--files 100000 --driver-memory 512m)
$SV bench scale "${SCALE[@]}" --work "$WORK/scale" --json "$WORK/scale.json"
fi

say "report"
CARRY=(); [[ -n "$ONLY" ]] && CARRY=(--carry bench/results.json)
if [[ "$QUICK" == 1 ]]; then
  "$PY" bench/report.py --inputs "$OUT" --results "$WORK/results.json" --doc "$WORK/BENCHMARKS.md" \
    --plots "$WORK/plots" --doc-template docs/BENCHMARKS.md "${CARRY[@]}"
else
  "$PY" bench/report.py --inputs "$OUT" --results bench/results.json --doc docs/BENCHMARKS.md --plots docs/bench \
    "${CARRY[@]}"
fi
