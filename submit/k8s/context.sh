#!/usr/bin/env bash
# Lays out the docker build context of submit/k8s/Dockerfile in DIR (default out/k8s-image), then prints DIR:
#   DIR/spark/       the Spark 3.1.3 distribution of submit/spark-dist.sh (Scala 2.12.15 in jars/; $SPARK_HOME overrides)
#   DIR/sparkvit.jar the application jar          DIR/jars/   the jars spark-submit.sh ships (--list-jars)
#   DIR/conf/        conf/ of the repository       DIR/entrypoint.sh, DIR/Dockerfile
# The image names them as /opt/spark and /opt/sparkvit/{sparkvit.jar,jars,conf}: the local:// URIs that
# submit/spark-submit.sh puts in the command for a k8s:// master. Build first (make build).
#   docker build -t REGISTRY/sparkvit:TAG "$(submit/k8s/context.sh)"
set -euo pipefail
PROG=k8s-context
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
DIR="${1:-$SPARKVIT_ROOT/out/k8s-image}"
home="$(spark_home)"
jars="$("$SPARKVIT_ROOT/submit/spark-submit.sh" --list-jars)"
rm -rf "$DIR"
mkdir -p "$DIR/jars"
cp -a "$home" "$DIR/spark"
rm -rf "$DIR/spark/jars-scala-2.12.10" # spark-dist.sh's copy of the jars it swapped out
while read -r jar; do cp "$jar" "$DIR/jars/"; done <<<"$jars"
cp "$SPARKVIT_ROOT/spark-jobs/target/sparkvit.jar" "$DIR/"
cp -r "$SPARKVIT_ROOT/conf" "$DIR/conf"
cp "$SPARKVIT_ROOT/submit/k8s/Dockerfile" "$SPARKVIT_ROOT/submit/k8s/entrypoint.sh" "$DIR/"
printf '%s\n' "$DIR"
