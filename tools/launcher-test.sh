#!/usr/bin/env bash
# Dry-run tests of submit/spark-submit.sh: for local, the standalone profile, YARN client and cluster mode and
# Kubernetes, the exact spark-submit command the launcher would run; and the profile errors (exit 2, naming the
# file, key and value); and that no user string reaches bash arithmetic or a shell (docs/SECURITY.md); and the
# pre-flights' real (non-dry-run) path up to a stand-in spark-submit: standalone against a stand-in master UI, YARN
# against ResourceManager answers recorded from a real mini cluster (tools/launcher-test/yarn-rm/) served on
# 127.0.0.1, Kubernetes against a stand-in kubectl. No network beyond loopback, no cluster, no Spark download:
# SPARK_HOME is a stand-in folder whose jars/
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
# The stand-in spark-submit only says it was reached (exit 99): the launcher's non-dry-run cases (pre-flights) use it.
printf '#!/bin/sh\necho "stand-in spark-submit reached" >&2; exit 99\n' >"$SPARK_HOME/bin/spark-submit"
chmod +x "$SPARK_HOME/bin/spark-submit"
while read -r jar; do : >"$SPARK_HOME/jars/$jar"; done <tools/launcher-test/spark-3.1.3-jars.txt
unset SPARK_LOCAL_IP SPARKVIT_LOG4J SPARKVIT_LOG4J2 HADOOP_CONF_DIR YARN_CONF_DIR SPARK_CONF_DIR SPARKVIT_YARN_PREFLIGHT \
  SPARKVIT_K8S_PREFLIGHT

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
  conf spark.yarn.maxAppAttempts=1; hasnt "SPARK_LOCAL_IP=127"
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
  conf spark.yarn.maxAppAttempts=1; hasnt "SPARK_LOCAL_IP=127"
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
((RC == 2)) && grep -qF "can host only 0 executor(s)" <<<"$ERR" || fail "the pre-flight did not run (exit $RC): $ERR"

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

# ---- YARN: one application attempt, loopback ResourceManagers, the pre-flight ----
case_ "yarn: spark.yarn.maxAppAttempts given by the user (--conf, properties file) is left alone"
run --cluster conf/cluster/yarn.yaml --conf spark.yarn.maxAppAttempts=3 --dry-run -- pretrain
if ok; then conf spark.yarn.maxAppAttempts=3; hasnt "spark.yarn.maxAppAttempts=1"; fi
printf '# a spark-defaults.conf\nspark.yarn.maxAppAttempts  2\n' >"$TMP/props.conf"
run --cluster conf/cluster/yarn.yaml --properties-file "$TMP/props.conf" --dry-run -- pretrain
if ok; then hasnt "spark.yarn.maxAppAttempts"; has "--properties-file $(q "$TMP/props.conf")"; fi

yarn_site() { # folder webapp-address [rpc-address [extra xml]] -> a minimal client yarn-site.xml in folder
  mkdir -p "$1"
  printf '<?xml version="1.0"?>\n<configuration>\n%s%s%s</configuration>\n' \
    "  <property><name>yarn.resourcemanager.webapp.address</name><value>$2</value></property>"$'\n' \
    "  <property><name>yarn.resourcemanager.address</name><value>${3:-${2%:*}:8032}</value></property>"$'\n' \
    "${4:-}" >"$1/yarn-site.xml"
}
case_ "yarn: a loopback ResourceManager (HADOOP_CONF_DIR, YARN_CONF_DIR, HA rm-ids) gets SPARK_LOCAL_IP=127.0.0.1 in driver, AM and executors"
yarn_site "$TMP/conf-loop" 127.0.0.1:8088
yarn_site "$TMP/conf-ha" unused:1 unused:2 "$(printf '  <property><name>%s</name><value>%s</value></property>\n' \
  yarn.resourcemanager.ha.enabled true yarn.resourcemanager.ha.rm-ids rm1,rm2 \
  yarn.resourcemanager.hostname.rm1 localhost yarn.resourcemanager.hostname.rm2 127.0.0.2)"
for env in HADOOP_CONF_DIR="$TMP/conf-loop" YARN_CONF_DIR="$TMP/conf-loop" HADOOP_CONF_DIR="$TMP/conf-ha"; do
  env "$env" "$LAUNCHER" --cluster conf/cluster/yarn.yaml --dry-run -- pretrain >"$TMP/out" 2>"$TMP/err"; RC=$?
  OUT="$(cat "$TMP/out")" ERR="$(cat "$TMP/err")"
  if ok; then
    conf spark.yarn.appMasterEnv.SPARK_LOCAL_IP=127.0.0.1; conf spark.executorEnv.SPARK_LOCAL_IP=127.0.0.1
    CHECKS=$((CHECKS + 1)); grep -q "SPARK_LOCAL_IP=127.0.0.1 " <<<"$OUT" || fail "$env: SPARK_LOCAL_IP not exported"
  fi
done
case_ "yarn: a ResourceManager elsewhere (192.0.2.10, never contacted by a dry run) gets no SPARK_LOCAL_IP"
yarn_site "$TMP/conf-far" 192.0.2.10:8088
HADOOP_CONF_DIR="$TMP/conf-far" run --cluster conf/cluster/yarn.yaml --dry-run -- pretrain
if ok; then hasnt "SPARK_LOCAL_IP=127"; conf spark.yarn.maxAppAttempts=1; fi

# The pre-flight (not in --dry-run) against a ResourceManager's REST answers. tools/launcher-test/yarn-rm/ holds
# answers RECORDED FROM A REAL ResourceManager (Hadoop 3.2.0 MiniYARNCluster, capacity scheduler, minimum allocation
# 128 MiB, maximum 8192 MiB and 4 vcores; see its README.md): "idle", one NodeManager of 4096 MiB and 8 vcores;
# "busy", the same while a yarn-client application held 3712 MiB (AM 896 + 2 executors of 1408); "two", two
# NodeManagers of 2048 MiB; "fair", one of 4096 MiB under the fair scheduler. A python3 server on 127.0.0.1 (a
# free port, stops by itself after 600 s) serves them as /ws/v1/cluster/nodes and /ws/v1/cluster/scheduler. The
# stand-in spark-submit (exit 99) shows a request went on.
RM_PIDS=()
trap 'kill "${RM_PIDS[@]}" 2>/dev/null; rm -rf "$TMP" "$PWN_DIR"' EXIT
rm_server() { # scenario -> a recorded ResourceManager on 127.0.0.1; sets RM_PORT
  local portfile="$TMP/rm-$1.port" i
  python3 - "$ROOT/tools/launcher-test/yarn-rm" "$1" "$portfile" <<'PY' &
import http.server, os, sys, time
folder, scenario, portfile = sys.argv[1:4]
class Recorded(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        name = self.path.split("?")[0].rsplit("/", 1)[-1]
        path = os.path.join(folder, f"{name}-{scenario}.json")
        if not self.path.startswith("/ws/v1/cluster/") or not os.path.isfile(path):
            self.send_error(404)
            return
        body = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Recorded)
server.timeout = 1
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
deadline = time.time() + 600
while time.time() < deadline:
    server.handle_request()
PY
  RM_PIDS+=($!)
  for ((i = 0; i < 100; i++)); do [[ -s "$portfile" ]] && break; sleep 0.1; done
  RM_PORT="$(cat "$portfile")" || exit 1
  yarn_site "$TMP/conf-$1" "127.0.0.1:$RM_PORT"
}
rm_server idle; IDLE_PORT=$RM_PORT; rm_server busy; rm_server two; rm_server fair
proceeded() { CHECKS=$((CHECKS + 1)); ((RC == 99)) && grep -qF "stand-in spark-submit reached" <<<"$ERR" || fail "did not go on to spark-submit (exit $RC): $ERR"; }
refused() { # substrings...: exit 2, one line naming them, spark-submit not run
  CHECKS=$((CHECKS + 1))
  ((RC == 2)) && [[ "$(wc -l <<<"$ERR")" == 1 ]] || { fail "expected exit 2 and one line, got exit $RC: $ERR"; return; }
  local s
  for s in "$@"; do grep -qF -- "$s" <<<"$ERR" || fail "refusal lacks '$s': $ERR"; done
}
yarn_run() { local conf="$1"; shift; HADOOP_CONF_DIR="$TMP/conf-$conf" run --master yarn "$@" -- pretrain; }

case_ "yarn pre-flight, recorded idle RM (1 node, 4096 MiB): cluster mode, driver 1g + 2 executors of 1g refused (exit 2, one line)"
yarn_run idle --deploy-mode cluster --driver-memory 1g --executors 2 --executor-memory 1g
refused "the driver (cluster mode) 1408 MiB (1024m + 384m overhead)" "2 executor(s) of 1408 MiB (1024m + 384m overhead)" \
  "= 4224 MiB" "1 running NodeManager(s) with 4096 MiB" "only 1 of the 2 executor(s)" "http://127.0.0.1:$IDLE_PORT"
case_ "yarn pre-flight, recorded idle RM: client mode (AM 512m + 384m) and 2 executors of 1g fit (3712 of 4096 MiB): goes on, no note"
yarn_run idle --executors 2 --executor-memory 1g
proceeded; CHECKS=$((CHECKS + 1)); ! grep -q "note:" <<<"$ERR" || fail "unexpected note: $ERR"
case_ "yarn pre-flight, recorded idle RM: executor overhead from --conf, rounded up to the 128 MiB minimum allocation"
# 1024m + 300m = 1324 -> 1408 MiB (measured on the mini cluster: 2 such executors and a 896 MiB AM used 3712 MiB), so
# the driver's 1408 and two executors no longer fit, though 1408 + 2 x 1324 = 4056 would; 1024m + 100m -> 1152 fits.
yarn_run idle --deploy-mode cluster --driver-memory 1g --executors 2 --executor-memory 1g --conf spark.executor.memoryOverhead=300m
refused "2 executor(s) of 1408 MiB (1024m + 300m overhead, rounded up to a multiple of 128 MiB)" "= 4224 MiB"
yarn_run idle --deploy-mode cluster --driver-memory 1g --executors 2 --executor-memory 1g --conf spark.executor.memoryOverhead=100m
proceeded
case_ "yarn pre-flight, recorded idle RM: --executor-cores 5 exceeds the maximum allocation of 4 vcores (exit 2)"
yarn_run idle --executors 1 --executor-cores 5
refused "each executor" "5 vcore(s)" "allows is 4096 MiB and 4 vcore(s)" "maximum allocation 8192 MiB and 4 vcores from the RM's scheduler"
case_ "yarn pre-flight, recorded busy RM (384 MiB free): fits the cluster, not what is free now: a note, goes on"
yarn_run busy --executors 2 --executor-memory 1g
proceeded
CHECKS=$((CHECKS + 1)); grep -qF "note: not even the application master fits in what is free on YARN now (384 MiB free of 4096)" <<<"$ERR" || fail "no free-now note: $ERR"
case_ "yarn pre-flight, recorded RM with two nodes of 2048 MiB: 3712 MiB fit in total but not per node (refused); 2 x 512m fit"
yarn_run two --executors 2 --executor-memory 1g
refused "2 running NodeManager(s) with 4096 MiB" "largest node 2048 MiB" "only 1 of the 2 executor(s)"
yarn_run two --executors 2 --executor-memory 512m
proceeded
case_ "yarn pre-flight, recorded fair-scheduler RM: containers rounded up to its 1024 MiB increment (measured: 1408 -> 2048)"
yarn_run fair --executors 2 --executor-memory 1g
refused "the application master (client mode) 1024 MiB (512m + 384m overhead, rounded up to a multiple of 1024 MiB)" \
  "2 executor(s) of 2048 MiB (1024m + 384m overhead, rounded up to a multiple of 1024 MiB)" "= 5120 MiB"
yarn_run fair --executors 2 --executor-memory 512m
proceeded
case_ "yarn pre-flight: an unreachable ResourceManager is a note, and the launcher goes on"
CLOSED_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
yarn_site "$TMP/conf-closed" "127.0.0.1:$CLOSED_PORT"
yarn_run closed --executors 2
proceeded
CHECKS=$((CHECKS + 1)); grep -qF "note: no answer from the ResourceManager's REST API (http://127.0.0.1:$CLOSED_PORT" <<<"$ERR" || fail "no unreachable note: $ERR"
case_ "yarn pre-flight: SPARKVIT_YARN_PREFLIGHT=0 skips the query"
SPARKVIT_YARN_PREFLIGHT=0 yarn_run idle --deploy-mode cluster --driver-memory 1g --executors 2 --executor-memory 1g
proceeded

# ---- Kubernetes pre-flight: the namespace's ResourceQuotas through kubectl ----
# A stand-in kubectl answers `config view` with the profile's API server and `get resourcequota` with
# tools/launcher-test/k8s/resourcequota-list.json: WRITTEN BY HAND in the shape of `kubectl get resourcequota -o json`
# (no API server could run here), 12Gi of memory requests and limits, 6 cpu, 4Gi and 500m already used.
mkdir -p "$TMP/kbin"
cat >"$TMP/kbin/kubectl" <<'SH'
#!/bin/sh
echo "$*" >>"$STUB_KUBECTL_LOG"
case "$*" in
  *"config view"*) printf '%s' "${STUB_K8S_SERVER:-https://kubernetes.example.internal:6443}" ;;
  *"get resourcequota"*) cat "$STUB_K8S_QUOTAS" ;;
  *) exit 1 ;;
esac
SH
chmod +x "$TMP/kbin/kubectl"
export STUB_KUBECTL_LOG="$TMP/kubectl.log" STUB_K8S_QUOTAS="$ROOT/tools/launcher-test/k8s/resourcequota-list.json"
k8s_run() { PATH="$TMP/kbin:$PATH" run --cluster conf/cluster/kubernetes.yaml "$@" -- pretrain; }
case_ "k8s pre-flight: driver 2432 MiB + 2 executors of 4505 MiB fit the 12Gi quota, not what is left of it: a note, goes on"
k8s_run
proceeded
CHECKS=$((CHECKS + 1)); grep -qF "note: ResourceQuota sparkvit/sparkvit-quota: limits.memory 4096 MiB of 12288 MiB used, 11442 MiB needed" <<<"$ERR" || fail "no quota note: $ERR"
CHECKS=$((CHECKS + 1)); grep -qF "get resourcequota --namespace=sparkvit -o json" "$STUB_KUBECTL_LOG" || fail "kubectl not asked for namespace sparkvit: $(cat "$STUB_KUBECTL_LOG")"
case_ "k8s pre-flight: 3 executors exceed limits.memory, 3 cores each exceed requests.cpu (exit 2, one line)"
k8s_run --executors 3
refused "3 executor pod(s) of 4505 MiB (4096m + 409m)" "limits.memory 15947 MiB in all" "allows 12288 MiB (12Gi)"
k8s_run --executor-cores 3
refused "requests.cpu 7 in all" "allows 6;"
case_ "k8s pre-flight: kubectl's context names another API server: a note, goes on; --dry-run never runs kubectl"
STUB_K8S_SERVER=https://elsewhere.example.internal:6443 k8s_run --executors 3
proceeded
CHECKS=$((CHECKS + 1)); grep -qF "not https://kubernetes.example.internal:6443; Kubernetes quotas not checked" <<<"$ERR" || fail "no context note: $ERR"
: >"$STUB_KUBECTL_LOG"
k8s_run --executors 3 --dry-run
ok; CHECKS=$((CHECKS + 1)); [[ ! -s "$STUB_KUBECTL_LOG" ]] || fail "--dry-run ran kubectl: $(cat "$STUB_KUBECTL_LOG")"

case_ "docs/CONFIG.md documents every cluster-profile key"
for key in $(python3 -c 'import importlib.util, sys
spec = importlib.util.spec_from_file_location("p", "submit/cluster-profile.py")
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); print(" ".join(m.KEYS))'); do
  CHECKS=$((CHECKS + 1))
  grep -q "^| \`$key\` |" docs/CONFIG.md || fail "cluster-profile key $key is missing from docs/CONFIG.md"
done

printf 'launcher-test: %d checks, %d failed\n' "$CHECKS" "$FAILS"
((FAILS == 0))
