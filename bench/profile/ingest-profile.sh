#!/usr/bin/env bash
# Where the CPU of an end-to-end ingest goes: the ingest job run WARMUPS + RUNS times in one local[1] JVM, the last
# RUNS under async-profiler (CPU samples every 1 ms of every thread, Java and native: JIT compiler, GC, libjpeg-turbo),
# then a breakdown by thread and by part of the job (bench/profile/collapsed_breakdown.py).
#
#   bench/profile/ingest-profile.sh INPUTS [WARMUPS] [RUNS]
#
# INPUTS: image folders, comma-separated, ingested in turn (for example out/bench/data/inputs,out/bench/data/inputs-500
# after `make bench` or `submit/sparkvit bench data --work out/bench/data`). Defaults: 16 warm-up runs, 8 profiled.
# async-profiler 3.0 comes from Maven Central (tools.profiler:async-profiler) into ~/.cache/sparkvit. Build first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INPUTS="${1:?usage: ingest-profile.sh INPUTS [WARMUPS] [RUNS]}"
WARMUPS="${2:-16}"
RUNS="${3:-8}"
CACHE="${SPARKVIT_CACHE:-$HOME/.cache/sparkvit}/async-profiler-3.0"
JAR="$ROOT/spark-jobs/target/sparkvit.jar"
[[ -f "$JAR" ]] || { echo "ingest-profile: not built yet: run 'make build'" >&2; exit 2; }
if [[ ! -f "$CACHE/linux-x64/libasyncProfiler.so" ]]; then
  mkdir -p "$CACHE"
  curl -fsSL -o "$CACHE/async-profiler.jar" \
    https://repo1.maven.org/maven2/tools/profiler/async-profiler/3.0/async-profiler-3.0.jar
  (cd "$CACHE" && unzip -oq async-profiler.jar)
fi
OUT="$ROOT/out/profile"
mkdir -p "$OUT"
STACKS="$OUT/ingest-cpu.collapsed"
OPENS="$(sed -n 's/^jvm\.opens=//p' "$ROOT/submit/jvm.properties")"
export SPARK_LOCAL_IP=127.0.0.1
# shellcheck disable=SC2086 # OPENS is a list of options
java $OPENS -Dlog4j.configuration="file:$ROOT/conf/log4j.properties" \
  -Dlog4j.configurationFile="$ROOT/conf/log4j2.properties" \
  -cp "$JAR:$(cat "$ROOT/spark-jobs/target/classpath.txt"):$CACHE/async-profiler.jar" \
  "$ROOT/bench/profile/IngestLoop.java" "$INPUTS" "$WARMUPS" "$RUNS" "$CACHE/linux-x64/libasyncProfiler.so" \
  "$STACKS" "$OUT/scratch" 2> "$OUT/ingest-profile.log" | tee "$OUT/ingest-runs.txt"
python3 "$ROOT/bench/profile/collapsed_breakdown.py" "$STACKS" --runs "$RUNS"
