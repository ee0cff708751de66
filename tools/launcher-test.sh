#!/usr/bin/env bash
# Dry-run tests of submit/spark-submit.sh: for local, the standalone profile, YARN client and cluster mode and
# Kubernetes, the exact spark-submit command the launcher would run; and the profile errors (exit 2, naming the
# file, key and value); and that no user string reaches bash arithmetic or a shell (docs/SECURITY.md). No network, no cluster, no Spark download: SPARK_HOME is a stand-in folder whose jars/
# holds empty files named like the real distribution's (tools/launcher-test/spark-3.1.3-jars.txt, the listing of
# submit/spark-dist.sh's jars/). Needs bash, python3 and the build's spark-jobs/target/{sparkvit.jar,classpath.txt}
# (make build, or the package phase of make test).
#
#   tools/launcher-test.sh        (make launcher-test)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
LAUNCHER=submit/spark-submit.sh
for f in spark-jobs/target/sparkvit.jar spark-jobs/target/classpath.txt; do
  [[ -f "$f" ]] || { echo "launcher-test: missing $f: build first (make build)" >&2; exit 1; }
done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export SPARKVIT_CACHE="$TMP/cache" # staged jar copies go here, not into the real cache
export SPARK_HOME="$TMP/spark"
mkdir -p "$SPARK_HOME/bin" "$SPARK_HOME/jars"
printf '#!/bin/sh\necho "stand-in spark-submit: never run by the tests" >&2; exit 99\n' >"$SPARK_HOME/bin/spark-submit"
chmod +x "$SPARK_HOME/bin/spark-submit"
while read -r jar; do : >"$SPARK_HOME/jars/$jar"; done <tools/launcher-test/spark-3.1.3-jars.txt
unset SPARK_LOCAL_IP SPARKVIT_LOG4J SPARKVIT_LOG4J2 HADOOP_CONF_DIR YARN_CONF_DIR

OPENS="$(sed -n 's/^jvm\.opens=//p' submit/jvm.properties)"
FAILS=0 CHECKS=0 OUT="" ERR="" RC=0
run() { # run the launcher with "$@"; keep stdout, stderr, exit code
  OUT="$($LAUNCHER "$@" 2>"$TMP/err")"; RC=$?; ERR="$(cat "$TMP/err")"
}
fail() { FAILS=$((FAILS + 1)); printf '  FAIL %s\n' "$*"; }
# has LINE: the dry run prints this exact line (one option with its value, shell-quoted as printf %q does)
has() {
  CHECKS=$((CHECKS + 1))
  grep -qxF -- "  $1 \\" <<<"$OUT" || grep -qxF -- "  $1" <<<"$OUT" || fail "missing line: $1"
}
hasnt() { CHECKS=$((CHECKS + 1)); ! grep -qF -- "$1" <<<"$OUT" || fail "unexpected: $1"; }
q() { printf '%q' "$1"; }
conf() { has "--conf $(q "$1")"; }
bigdl_and_opens() { # every master: BigDL's settings, dynamic allocation off, the openings on driver and executors
  local kv
  for kv in spark.shuffle.reduceLocality.enabled=false spark.shuffle.blockTransferService=nio \
    spark.scheduler.minRegisteredResourcesRatio=1.0 spark.scheduler.maxRegisteredResourcesWaitingTime=3600s \
    spark.speculation=false spark.serializer=org.apache.spark.serializer.JavaSerializer \
    spark.dynamicAllocation.enabled=false; do conf "$kv"; done
  has "--class dev.sparkvit.cli.Main"
  conf "spark.driver.extraJavaOptions=$OPENS -Dlog4j.configuration=$1 -Dlog4j.configurationFile=$2"
  conf "spark.executor.extraJavaOptions=$OPENS"
  has "$(q "$SPARK_HOME/bin/spark-submit")"
}
shipped_jars() { # the --jars value: BigDL, its natives, the model jar, picocli; never Spark's or Scala's own
  local jars
  jars="$(sed -n 's/^  --jars \(.*\) \\$/\1/p' <<<"$OUT")"
  CHECKS=$((CHECKS + 1))
  jars="$(eval "printf '%s' $jars")" # undo %q
  local want
  for want in "$@"; do
    grep -qE -- "(^|,)$want(,|$)" <<<"$jars" || fail "--jars lacks $want: $jars"
  done
  ! grep -qE 'scala-library|spark-core|snakeyaml' <<<"$jars" || fail "--jars ships a jar Spark has: $jars"
}
ok() { CHECKS=$((CHECKS + 1)); ((RC == 0)) || { fail "exit $RC: $ERR"; return 1; }; }
case_() { printf '%s\n' "$*"; }
LOG4J="$ROOT/conf/log4j.properties" LOG4J2="$ROOT/conf/log4j2.properties"
STAGED="$SPARKVIT_CACHE/submit-jars/[0-9a-f]{16}"

case_ "local: --master local[2]"
run --master 'local[2]' --dry-run -- model-summary --preset tiny
if ok; then
  has "--master $(q 'local[2]')"
  bigdl_and_opens "file:$LOG4J" "file:$LOG4J2"
  conf spark.driver.host=127.0.0.1; conf spark.driver.bindAddress=127.0.0.1
  hasnt "--deploy-mode"; hasnt "spark.executor.instances"; hasnt "--files"
  shipped_jars "$STAGED/sparkvit-model-[^,]*\.jar" ".*/bigdl-dllib-spark_3.1.3-2.4.0.jar" ".*/all-2.4.0.jar" ".*/picocli-[^,]*\.jar"
  CHECKS=$((CHECKS + 1)); grep -qE -- "^  $STAGED/sparkvit.jar \\\\$" <<<"$OUT" || fail "app jar is not a staged copy"
  has "model-summary"; has "--preset tiny"
fi

case_ "local profile: conf/cluster/local.yaml"
run --cluster conf/cluster/local.yaml --dry-run -- model-summary --preset tiny
if ok; then has "--master $(q 'local[2]')"; has "--driver-memory 4g"; fi

case_ "standalone profile: conf/cluster/standalone.yaml (2 executors x 1 core, 2g)"
run --cluster conf/cluster/standalone.yaml --dry-run -- pretrain --config conf/pretrain.yaml
if ok; then
  has "--master spark://127.0.0.1:7177"
  bigdl_and_opens "file:$LOG4J" "file:$LOG4J2"
  conf spark.executor.cores=1; conf spark.cores.max=2; conf spark.executor.memory=2g
  conf spark.driver.host=127.0.0.1
  hasnt "--deploy-mode"; hasnt "spark.executor.instances"
fi

case_ "standalone profile, command line overrides: --executors 1 --executor-memory 1g"
run --cluster conf/cluster/standalone.yaml --executors 1 --executor-memory 1g --dry-run -- pretrain
if ok; then conf spark.cores.max=1; conf spark.executor.memory=1g; hasnt "spark.executor.memory=2g"; fi

case_ "yarn client: conf/cluster/yarn.yaml --deploy-mode client"
run --cluster conf/cluster/yarn.yaml --deploy-mode client --dry-run -- pretrain --config conf/pretrain.yaml
if ok; then
  has "--master yarn"; has "--deploy-mode client"; hasnt "--deploy-mode cluster"
  bigdl_and_opens "file:$LOG4J" "file:$LOG4J2"
  conf spark.executor.cores=2; conf spark.executor.instances=4; conf spark.executor.memory=4g
  has "--queue default"; has "--driver-memory 2g"
  hasnt "--files"; hasnt "spark.cores.max"; hasnt "spark.driver.host"
fi

case_ "yarn cluster: conf/cluster/yarn.yaml"
run --cluster conf/cluster/yarn.yaml --dry-run -- pretrain --config hdfs:///sparkvit/pretrain.yaml
if ok; then
  has "--master yarn"; has "--deploy-mode cluster"
  bigdl_and_opens log4j.properties log4j2.properties
  conf spark.executor.cores=2; conf spark.executor.instances=4; conf spark.executor.memory=4g
  has "--queue default"
  has "--files $(q "$LOG4J,$LOG4J2")"
  shipped_jars "$STAGED/sparkvit-model-[^,]*\.jar" ".*/bigdl-dllib-spark_3.1.3-2.4.0.jar" ".*/all-2.4.0.jar"
  has "--config hdfs:///sparkvit/pretrain.yaml"
fi

case_ "yarn cluster with --files extra.txt and --executors 8"
run --cluster conf/cluster/yarn.yaml --files /etc/hostname --executors 8 --dry-run -- pretrain
if ok; then has "--files $(q "$LOG4J,$LOG4J2,/etc/hostname")"; conf spark.executor.instances=8; fi

case_ "kubernetes: conf/cluster/kubernetes.yaml"
run --cluster conf/cluster/kubernetes.yaml --dry-run -- pretrain --config conf/pretrain.yaml
if ok; then
  has "--master k8s://https://kubernetes.example.internal:6443"; has "--deploy-mode cluster"
  bigdl_and_opens file:/opt/sparkvit/conf/log4j.properties file:/opt/sparkvit/conf/log4j2.properties
  conf spark.executor.cores=2; conf spark.executor.instances=2; conf spark.cores.max=4; conf spark.executor.memory=4g
  conf spark.kubernetes.namespace=sparkvit
  conf spark.kubernetes.authenticate.driver.serviceAccountName=sparkvit-driver
  conf spark.kubernetes.container.image=registry.example.internal/sparkvit:0.1
  conf spark.kubernetes.container.image.pullPolicy=IfNotPresent
  conf "spark.kubernetes.driver.podTemplateFile=$ROOT/submit/k8s/pod-template.yaml"
  conf "spark.kubernetes.executor.podTemplateFile=$ROOT/submit/k8s/pod-template.yaml"
  shipped_jars "local:///opt/sparkvit/jars/sparkvit-model-[^,]*\.jar" "local:///opt/sparkvit/jars/bigdl-dllib-spark_3.1.3-2.4.0.jar" \
    "local:///opt/sparkvit/jars/all-2.4.0.jar" "local:///opt/sparkvit/jars/picocli-[^,]*\.jar"
  has "local:///opt/sparkvit/sparkvit.jar \\"; hasnt "$SPARKVIT_CACHE"; hasnt "--files"; hasnt "spark.driver.host"
fi

case_ "kubernetes, image overridden on the command line"
run --cluster conf/cluster/kubernetes.yaml --conf spark.kubernetes.container.image=other/img:2 --dry-run -- pretrain
if ok; then
  CHECKS=$((CHECKS + 1))
  [[ "$(grep -n 'container.image=' <<<"$OUT" | tail -1)" == *other/img:2* ]] || fail "the command line's image is not the last (winning) one"
fi

case_ "kubernetes pod template: non-root, no privilege escalation, no capabilities (make k8s-check asks the real admission)"
# What the "restricted" Pod Security Standard asks of a pod that Spark 3.1.3 can pass on (not seccompProfile: see
# the template); the template is the only place they can come from. Read as text: no YAML parser needed.
TEMPLATE_TEXT="$(sed -e 's/[[:space:]]*#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' submit/k8s/pod-template.yaml)"
for want in "runAsNonRoot: true" "runAsUser: 185" "allowPrivilegeEscalation: false" 'drop: ["ALL"]'; do
  CHECKS=$((CHECKS + 1))
  grep -qxF -- "$want" <<<"$TEMPLATE_TEXT" || fail "submit/k8s/pod-template.yaml lacks '$want'"
done

# ---- errors: exit 2 and a message naming the file, key and value ----
expect_error() { # expected-substring... ; after run
  CHECKS=$((CHECKS + 1))
  ((RC == 2)) || { fail "exit $RC, expected 2 (stderr: $ERR)"; return; }
  local s
  for s in "$@"; do grep -qF -- "$s" <<<"$ERR" || fail "message lacks '$s': $ERR"; done
}
profile() { printf '%s\n' "$@" >"$TMP/$NAME"; }

case_ "error: unknown profile key"
NAME=unknown.yaml; profile "master: yarn" "executors: 2" "executor_gpus: 4"
run --cluster "$TMP/$NAME" --dry-run -- pretrain
expect_error "$TMP/$NAME" "executor_gpus" "'4'"

case_ "error: bad memory value"
NAME=memory.yaml; profile "master: yarn" "executors: 2" "executor_memory: 4 GB"
run --cluster "$TMP/$NAME" --dry-run -- pretrain
expect_error "$TMP/$NAME" "executor_memory" "'4 GB'"
NAME=memory2.yaml; profile "master: yarn" "executors: 2" "executor_memory: 4gb"
run --cluster "$TMP/$NAME" --dry-run -- pretrain
expect_error "$TMP/$NAME" "executor_memory" "'4gb'"

case_ "error: missing profile file"
run --cluster conf/cluster/nonesuch.yaml --dry-run -- pretrain
expect_error "conf/cluster/nonesuch.yaml" "no such file"

case_ "error: key without meaning for the master (queue on Kubernetes)"
NAME=k8squeue.yaml; profile "master: k8s://https://k:6443" "executors: 1" "image: i" "namespace: n" "service_account: s" "queue: q"
run --cluster "$TMP/$NAME" --dry-run -- pretrain
expect_error "$TMP/$NAME" "queue" "'q'"

case_ "error: nested YAML"
NAME=nested.yaml; profile "master: yarn" "executors:" "  count: 2"
run --cluster "$TMP/$NAME" --dry-run -- pretrain
expect_error "$TMP/$NAME" "executors:"

case_ "error: Kubernetes client mode"
run --cluster conf/cluster/kubernetes.yaml --deploy-mode client --dry-run -- pretrain
expect_error "cluster mode only"

case_ "SPARKVIT_BLAS reaches executors and a cluster-mode driver"
SPARKVIT_BLAS=openblas run --cluster conf/cluster/yarn.yaml --dry-run -- pretrain
if ok; then conf spark.executorEnv.SPARKVIT_BLAS=openblas; conf spark.yarn.appMasterEnv.SPARKVIT_BLAS=openblas; fi
run --cluster conf/cluster/yarn.yaml --dry-run -- pretrain
if ok; then hasnt "SPARKVIT_BLAS"; fi

case_ "SPARKVIT_MKL_CPU reaches executors and a cluster-mode driver"
SPARKVIT_MKL_CPU=avx2 run --cluster conf/cluster/kubernetes.yaml --dry-run -- pretrain
if ok; then conf spark.executorEnv.SPARKVIT_MKL_CPU=avx2; conf spark.kubernetes.driverEnv.SPARKVIT_MKL_CPU=avx2; fi

case_ "SPARKVIT_DECODERS reaches executors and a cluster-mode driver"
SPARKVIT_DECODERS=imageio run --cluster conf/cluster/yarn.yaml --dry-run -- ingest
if ok; then conf spark.executorEnv.SPARKVIT_DECODERS=imageio; conf spark.yarn.appMasterEnv.SPARKVIT_DECODERS=imageio; fi

# ---- security: no user string reaches bash arithmetic or eval (docs/SECURITY.md) ----
# The standalone pre-flight asks the master's web UI for its workers; a stand-in curl answers with one alive worker
# (1 core, 1024 MiB), so the launcher runs its real, non-dry-run path up to the stand-in spark-submit.
mkdir -p "$TMP/bin"
# The launcher lowercases memory strings, so a command smuggled in one sees a lowercased path: the marker file the
# injected commands would create lives in a folder whose name has no capitals (mktemp's may).
PWN_DIR="/tmp/sparkvit-launcher-test-$$"
mkdir -m 700 "$PWN_DIR" || exit 1 # fails rather than reuse a folder someone else made
trap 'rm -rf "$TMP" "$PWN_DIR"' EXIT
cat >"$TMP/master.json" <<'JSON'
{
  "url" : "spark://127.0.0.1:7177",
  "workers" : [ {
    "id" : "worker-1",
    "cores" : 1,
    "coresfree" : 1,
    "memory" : 1024,
    "memoryfree" : 1024,
    "state" : "ALIVE"
  } ],
  "aliveworkers" : 1,
  "cores" : 1
}
JSON
printf '#!/bin/sh\ncat "%s"\n' "$TMP/master.json" >"$TMP/bin/curl"
chmod +x "$TMP/bin/curl"

case_ "pre-flight with a stand-in master UI: 1 executor of 4g does not fit a 1024 MiB worker (exit 1, names it)"
PATH="$TMP/bin:$PATH" run --master spark://127.0.0.1:7177 --executors 1 --executor-memory 4g -- model-summary
CHECKS=$((CHECKS + 1))
((RC == 1)) && grep -qF "can host only 0 executor(s)" <<<"$ERR" || fail "the pre-flight did not run (exit $RC): $ERR"

case_ "injection: --executor-memory 'v[\$(touch ...)]g' is refused before any arithmetic (exit 2, nothing run)"
for memory in "v[\$(touch $PWN_DIR/pwned)]g" "x[\$(touch $PWN_DIR/pwned)]g" "1[\$(touch $PWN_DIR/pwned)]" "\$(touch $PWN_DIR/pwned)g" "4g;touch $PWN_DIR/pwned"; do
  PATH="$TMP/bin:$PATH" run --master spark://127.0.0.1:7177 --executors 1 --executor-memory "$memory" -- model-summary
  expect_error "--executor-memory" "$memory"
  CHECKS=$((CHECKS + 1)); [[ ! -e "$PWN_DIR/pwned" ]] || { fail "--executor-memory '$memory' ran a command"; rm -f "$PWN_DIR/pwned"; }
  PATH="$TMP/bin:$PATH" run --master spark://127.0.0.1:7177 --executors 1 --conf "spark.executor.memory=$memory" -- model-summary
  expect_error "spark.executor.memory" "$memory"
  CHECKS=$((CHECKS + 1)); [[ ! -e "$PWN_DIR/pwned" ]] || { fail "spark.executor.memory '$memory' ran a command"; rm -f "$PWN_DIR/pwned"; }
done

case_ "injection: options and sparkvit arguments full of shell syntax reach spark-submit as single, unchanged words"
weird='$(touch '"$PWN_DIR"'/pwned); `touch '"$PWN_DIR"'/pwned` "a b" *'
run --master 'local[2]' --conf "spark.app.name=$weird" --dry-run -- predict --input "$weird" --output "$TMP/o p"
if ok; then
  conf "spark.app.name=$weird"; has "--input $(q "$weird")"; has "--output $(q "$TMP/o p")"
  CHECKS=$((CHECKS + 1)); [[ ! -e "$PWN_DIR/pwned" ]] || fail "an argument ran a command"
fi

case_ "docs/CONFIG.md documents every cluster-profile key"
for key in $(python3 -c 'import importlib.util, sys
spec = importlib.util.spec_from_file_location("p", "submit/cluster-profile.py")
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); print(" ".join(m.KEYS))'); do
  CHECKS=$((CHECKS + 1))
  grep -q "^| \`$key\` |" docs/CONFIG.md || fail "cluster-profile key $key is missing from docs/CONFIG.md"
done

printf 'launcher-test: %d checks, %d failed\n' "$CHECKS" "$FAILS"
((FAILS == 0))
