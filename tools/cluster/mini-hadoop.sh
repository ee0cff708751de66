#!/usr/bin/env bash
# A real HDFS and YARN on this machine, on 127.0.0.1 with free ports, for make cluster-test and by hand:
#
#   tools/cluster/mini-hadoop.sh start DIR   start (in the background) and wait until both are up (~15-30 s)
#   tools/cluster/mini-hadoop.sh env DIR     print the shell exports of a running one (HADOOP_CONF_DIR, ...)
#   tools/cluster/mini-hadoop.sh stop DIR    stop it (SIGTERM, then SIGKILL after 30 s)
#
# dev.sparkvit.cluster.MiniHadoop (cluster-test/) runs a MiniDFSCluster (one DataNode) and a MiniYARNCluster (one
# ResourceManager, one NodeManager of SPARKVIT_MINI_NODE_MB MiB, default 4096) in one JVM on the cluster-test
# module's classpath: build it first (mvn -Pcluster -pl cluster-test -am install -DskipTests, or make cluster-test).
# DIR holds: conf/ (core-site.xml, hdfs-site.xml, yarn-site.xml: a HADOOP_CONF_DIR for clients), work/ (the
# clusters' data, the containers' logs under work/yarn-logs), pid, ready (the ready line: fs=, rm=, web=) and
# mini-hadoop.log. Exit 2 for a bad invocation, 1 when the clusters do not come up.
set -euo pipefail
PROG=mini-hadoop
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../submit/common.sh"

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
(($# == 2)) || usage
ACTION="$1"
DIR="$(mkdir -p "$2" && cd "$2" && pwd)"
CLASSES="$SPARKVIT_ROOT/cluster-test/target/classes"
CLASSPATH_FILE="$SPARKVIT_ROOT/cluster-test/target/classpath.txt"

# shellcheck source=tools/cluster/daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemon.sh"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$DIR/ready"; }

start() {
  running && die "already running in $DIR (pid $(cat "$DIR/pid")); stop it first"
  [[ -d "$CLASSES" && -s "$CLASSPATH_FILE" ]] \
    || die "missing $CLASSES or $CLASSPATH_FILE: build the cluster-test module first (make cluster-test does)"
  use_java17
  rm -f "$DIR/ready" "$DIR/pid"
  mkdir -p "$DIR/conf" "$DIR/work"
  # shellcheck disable=SC2046 # the --add-opens list is several words
  (cd "$DIR/work" && exec setsid "$JAVA_HOME/bin/java" -Xmx1g -XX:+UseSerialGC $(jvm_opens) \
    -cp "$CLASSES:$(cat "$CLASSPATH_FILE")" dev.sparkvit.cluster.MiniHadoop "$DIR/conf" "$DIR/work" \
    "${SPARKVIT_MINI_NODE_MB:-4096}" >"$DIR/mini-hadoop.log" 2>&1 </dev/null) &
  echo $! >"$DIR/pid"
  local waited
  waited="$(await_up 120 "$DIR/mini-hadoop.log" "the mini clusters" \
    grep -q '^mini-hadoop: ready ' "$DIR/mini-hadoop.log")"
  grep '^mini-hadoop: ready ' "$DIR/mini-hadoop.log" | head -n 1 >"$DIR/ready"
  log "up in $((waited / 10)) s: $(cat "$DIR/ready")"
}

case "$ACTION" in
  start) start ;;
  stop) stop 30 ;;
  env)
    running && [[ -f "$DIR/ready" ]] || die "not running in $DIR"
    printf 'export HADOOP_CONF_DIR=%q\n' "$DIR/conf"
    printf 'export SPARKVIT_MINI_FS=%q\n' "$(field fs)"
    printf 'export SPARKVIT_MINI_RM=%q\n' "$(field rm)"
    printf 'export SPARKVIT_MINI_RM_WEB=%q\n' "$(field web)"
    ;;
  *) usage ;;
esac
