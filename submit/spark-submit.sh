#!/usr/bin/env bash
# Submits a sparkvit command to a Spark cluster: the one launcher around spark-submit.
#
#   submit/spark-submit.sh --master URL [--executors N] [spark-submit options] -- <sparkvit command> [args...]
#   submit/spark-submit.sh --cluster conf/cluster/NAME.yaml [options that override it] -- <sparkvit command> ...
#
#   submit/spark-submit.sh --master spark://127.0.0.1:7177 --executors 2 --executor-memory 2g \
#       -- pretrain --config conf/pretrain.yaml --set data.dataset=/data/ds --set training.epochs=2
#
# Everything before "--" is for Spark, everything after it for sparkvit (dev.sparkvit.cli.Main). Options of this
# launcher:
#   --executors N    number of executors. Standalone: spark.cores.max = N x executor cores (how BigDL's Engine
#                    counts executors there); YARN: spark.executor.instances; Kubernetes: both.
#   --cluster FILE   a cluster profile (conf/cluster/*.yaml: master, deploy mode, executors, cores, memory, YARN
#                    queue, Kubernetes namespace/service account/image/pod template); options given on the
#                    command line win over it. A bad profile (unknown key, bad value, missing file) exits 2.
#   --dry-run        print the spark-submit command instead of running it.
#   --list-jars      print the jars --jars ships (one per line, unstaged) and exit; submit/k8s/context.sh uses it.
# Any other option is spark-submit's and is passed on. These are read, merged and passed on:
#   --executor-cores C (default 1: BigDL needs spark.executor.cores set), --total-executor-cores T,
#   --num-executors N, --executor-memory M, --driver-java-options, --jars, --files, --conf for
#   spark.{driver,executor}.extraJavaOptions, spark.executor.memory,
#   spark.executor.cores, spark.cores.max, spark.executor.instances.
#
# What it sets, in this one place (see docs/CLUSTER.md):
#   - driver and executor JVM options: the Java 17 --add-opens of submit/jvm.properties, appended to by any given;
#     the driver also gets sparkvit's logging configuration (conf/log4j.properties, conf/log4j2.properties);
#   - BigDL-DLlib's required Spark settings (its spark-bigdl.conf), which dev.sparkvit.engine.BigDlEngine applies
#     again in the driver, and dynamic allocation off (BigDL trains on a fixed set of executors);
#   - the application: spark-jobs/target/sparkvit.jar, main class dev.sparkvit.cli.Main, and in --jars every jar
#     of spark-jobs/target/classpath.txt that the Spark distribution does not ship itself (BigDL, its natives,
#     the sparkvit model, picocli, ...). scala-library is never shipped: the distribution's jars/ holds 2.12.15
#     (submit/spark-dist.sh), so it is the only Scala on driver and executors;
#   - YARN: spark.yarn.maxAppAttempts=1 unless given (a second attempt would find the first one's checkpoints and
#     refuse; lost executors are recovered inside the driver, training.max_restarts); for a ResourceManager on
#     loopback (a test cluster) SPARK_LOCAL_IP=127.0.0.1 also in spark.yarn.appMasterEnv.* and spark.executorEnv.*.
#
# Pre-flight (not with --dry-run): BigDL makes a SparkContext wait up to an hour, silently, for executors the cluster
# cannot host (minRegisteredResourcesRatio=1.0, maxRegisteredResourcesWaitingTime=3600s), so the request is checked
# first. Standalone: against the master web UI's alive workers. YARN (submit/yarn-preflight.py): the ResourceManager
# found as Spark finds it (yarn-site.xml of SPARK_CONF_DIR, HADOOP_CONF_DIR, YARN_CONF_DIR; HA rm-ids), its REST
# API's running nodes and maximum allocation, containers sized as Spark 3.1 sizes them (memory + overhead, at
# least 384 MiB or 10%, rounded up to the minimum allocation; the AM: spark.yarn.am.* in client mode, the driver in
# cluster mode) and packed per node. A request that can never be granted stops with one line naming the numbers;
# one that fits only when running applications finish gets a note; an RM that does not answer, a note.
# Kubernetes (submit/k8s-preflight.py): when kubectl is on PATH and its context names the master's API server, the
# namespace's ResourceQuotas against the driver and executor pods (memory + overhead, cpu requests): exit 2 and one
# line when a hard limit is below their sum, a note when only what is used now stands in the way.
#
# Environment: SPARK_HOME (default: the distribution of submit/spark-dist.sh), JAVA_HOME (a Java 17; found when
# unset), SPARKVIT_LOG4J / SPARKVIT_LOG4J2 (driver logging configuration files, default conf/log4j.properties and
# conf/log4j2.properties), SPARK_LOCAL_IP (default 127.0.0.1 when the master or the YARN ResourceManager is on
# loopback, or the master is local), SPARKVIT_MASTER_UI (standalone pre-flight), HADOOP_CONF_DIR / YARN_CONF_DIR
# (read for YARN as spark-submit reads them), SPARKVIT_YARN_PREFLIGHT=0 / SPARKVIT_K8S_PREFLIGHT=0 (skip the YARN
# capacity query / the Kubernetes quota check).
# Exit code: spark-submit's (the sparkvit command's in client mode); 2 for a bad launcher invocation or a request the
# cluster (standalone, YARN, Kubernetes) can never grant.
set -euo pipefail
PROG=spark-submit.sh
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

JAR="$SPARKVIT_ROOT/spark-jobs/target/sparkvit.jar"
CLASSPATH_FILE="$SPARKVIT_ROOT/spark-jobs/target/classpath.txt"
MAIN_CLASS=dev.sparkvit.cli.Main
LOG4J="${SPARKVIT_LOG4J:-$SPARKVIT_ROOT/conf/log4j.properties}"
LOG4J2="${SPARKVIT_LOG4J2:-$SPARKVIT_ROOT/conf/log4j2.properties}"

# BigDL-DLlib 2.4.0's spark-bigdl.conf, which Engine.createSparkConf copies into a SparkConf. Its last entry,
# spark.driver.extraJavaOptions=-Dlog4j2.info, is left out: it would replace the driver's --add-opens (it only
# sets an empty system property). Check against the jar: unzip -p bigdl-dllib-spark_3.1.3-2.4.0.jar spark-bigdl.conf
BIGDL_CONF=(
  spark.shuffle.reduceLocality.enabled=false
  spark.shuffle.blockTransferService=nio
  spark.scheduler.minRegisteredResourcesRatio=1.0
  spark.scheduler.maxRegisteredResourcesWaitingTime=3600s
  spark.speculation=false
  spark.serializer=org.apache.spark.serializer.JavaSerializer
)
# Jars of the Maven classpath that Hadoop's client declares but Spark's distribution deliberately leaves out
# (server-side Jersey 1 and Jetty 9.3, servlet and JAX-RS APIs, ASM 5, OkHttp 2 of WebHDFS's OAuth2) and Spark's
# empty placeholder jar; by artifact name. Nothing sparkvit runs uses them; any other jar Spark lacks is shipped.
NOT_SHIPPED=(jersey-core jersey-servlet jersey-client jsr311-api javax.servlet-api asm jetty-util jetty-servlet
  jetty-security jetty-webapp jetty-xml jetty-server jetty-http jetty-io okhttp unused)

usage() {
  sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
bad() { printf '%s: %s (see %s --help)\n' "$PROG" "$*" "$0" >&2; exit 2; }
is_whole() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }
# Spark's memory strings (JavaUtils.byteStringAs): digits and an optional unit. Checked before use: the pre-flight
# does arithmetic on them, and bash arithmetic runs any $(...) inside an array subscript (x[$(cmd)]).
is_memory() { [[ "${1,,}" =~ ^[0-9]+([kmgtp]b?|b)?$ ]]; }
join_words() { local out="" w; for w in "$@"; do [[ -n "$w" ]] && out="${out:+$out }$w"; done; printf '%s' "$out"; }

# ---- cluster profile: its options go first, so that the command line's (read after them) win ----
PROFILE="" PRE=()
while (($#)); do
  case "$1" in
    --) break ;;
    --cluster) (($# >= 2)) || bad "--cluster needs a profile file (conf/cluster/*.yaml)"; PROFILE="$2"; shift 2 ;;
    --cluster=*) PROFILE="${1#*=}"; shift ;;
    *) PRE+=("$1"); shift ;;
  esac
done
if [[ -n "$PROFILE" ]]; then
  command -v python3 >/dev/null || die "--cluster needs python3 (it reads the profile with submit/cluster-profile.py)"
  PROFILE_ARGS="$(python3 "$SPARKVIT_ROOT/submit/cluster-profile.py" "$PROFILE" "$SPARKVIT_ROOT")" || exit 2
  mapfile -t PROFILE_OPTS <<<"$PROFILE_ARGS"
  set -- "${PROFILE_OPTS[@]}" "${PRE[@]}" "$@"
else
  set -- "${PRE[@]}" "$@"
fi

# ---- parse: launcher options, Spark options (some read), "--", sparkvit arguments ----
MASTER="" DEPLOY_MODE="" EXECUTORS="" EXECUTOR_CORES="" TOTAL_CORES="" INSTANCES="" EXECUTOR_MEMORY="" DRY_RUN=false
DRIVER_OPTS="" EXECUTOR_OPTS="" USER_JARS="" USER_FILES="" LIST_JARS=false
SPARK_ARGS=()
SAW_SEPARATOR=false
while (($#)); do
  arg="$1"
  if [[ "$arg" == "--" ]]; then SAW_SEPARATOR=true; shift; break; fi
  name="${arg%%=*}"
  takes_value=true
  case "$name" in
    --dry-run) DRY_RUN=true; takes_value=false ;;
    --list-jars) LIST_JARS=true; takes_value=false ;;
    -h | --help) usage ;;
    --master | --deploy-mode | --executors | --executor-cores | --total-executor-cores | --num-executors | \
      --driver-java-options | --jars | --files | --conf | -c | --class | --executor-memory) ;;
    *) SPARK_ARGS+=("$arg"); shift; continue ;;
  esac
  if ! $takes_value; then shift; continue; fi
  if [[ "$arg" == *=* && "$name" != "--conf" && "$name" != "-c" ]] || [[ "$arg" == --conf=* ]]; then
    value="${arg#*=}"; shift
  else
    (($# >= 2)) || bad "$name needs a value"
    value="$2"; shift 2
  fi
  case "$name" in
    --master) MASTER="$value" ;;
    --deploy-mode) DEPLOY_MODE="$value" ;;
    --executors) is_whole "$value" || bad "--executors must be a positive whole number, got '$value'"; EXECUTORS="$value" ;;
    --executor-cores) is_whole "$value" || bad "--executor-cores must be a positive whole number, got '$value'"; EXECUTOR_CORES="$value" ;;
    --total-executor-cores) is_whole "$value" || bad "--total-executor-cores must be a positive whole number, got '$value'"; TOTAL_CORES="$value" ;;
    --num-executors) is_whole "$value" || bad "--num-executors must be a positive whole number, got '$value'"; INSTANCES="$value" ;;
    --executor-memory) is_memory "$value" || bad "--executor-memory must be a memory size such as 512m or 4g, got '$value'"; EXECUTOR_MEMORY="$value" ;;
    --driver-java-options) DRIVER_OPTS="$(join_words "$DRIVER_OPTS" "$value")" ;;
    --jars) USER_JARS="${USER_JARS:+$USER_JARS,}$value" ;;
    --files) USER_FILES="${USER_FILES:+$USER_FILES,}$value" ;;
    --class) bad "--class is not an option here: the main class is always $MAIN_CLASS" ;;
    --conf | -c)
      [[ "$value" == *=* ]] || bad "--conf needs KEY=VALUE, got '$value'"
      key="${value%%=*}" val="${value#*=}"
      case "$key" in
        spark.driver.extraJavaOptions) DRIVER_OPTS="$(join_words "$DRIVER_OPTS" "$val")" ;;
        spark.executor.extraJavaOptions) EXECUTOR_OPTS="$(join_words "$EXECUTOR_OPTS" "$val")" ;;
        spark.executor.cores) is_whole "$val" || bad "spark.executor.cores must be a positive whole number"; EXECUTOR_CORES="$val" ;;
        spark.cores.max) is_whole "$val" || bad "spark.cores.max must be a positive whole number"; TOTAL_CORES="$val" ;;
        spark.executor.instances) is_whole "$val" || bad "spark.executor.instances must be a positive whole number"; INSTANCES="$val" ;;
        spark.executor.memory) is_memory "$val" || bad "spark.executor.memory must be a memory size such as 512m or 4g, got '$val'"; EXECUTOR_MEMORY="$val" ;;
        spark.master) MASTER="$val" ;;
        spark.submit.deployMode) DEPLOY_MODE="$val" ;;
        spark.jars) USER_JARS="${USER_JARS:+$USER_JARS,}$val" ;;
        spark.files) USER_FILES="${USER_FILES:+$USER_FILES,}$val" ;;
        *) SPARK_ARGS+=(--conf "$value") ;;
      esac
      ;;
  esac
done
if $LIST_JARS; then SAW_SEPARATOR=true; set -- list-jars; MASTER="${MASTER:-local[1]}"; fi
$SAW_SEPARATOR || bad "missing '--' between the Spark options and the sparkvit command"
(($#)) || bad "no sparkvit command after '--' (e.g. -- pretrain --config conf/pretrain.yaml)"
for arg in "$@"; do
  [[ "$arg" == --master || "$arg" == --master=* ]] \
    && bad "--master after '--' would be ignored (spark-submit's master wins); give it before '--'"
done
[[ -n "$MASTER" ]] || bad "no --master given (spark://HOST:PORT, yarn, k8s://..., local[N]); for the local cluster: --master \"\$(submit/standalone.sh url)\""

# ---- resources: what BigDL's Engine.init reads to count executors and cores ----
RESOURCE_CONF=()
EXECUTOR_CORES="${EXECUTOR_CORES:-1}"
case "$MASTER" in
  spark://*)
    EXECUTORS="${EXECUTORS:-$INSTANCES}"
    if [[ -n "$EXECUTORS" && -n "$TOTAL_CORES" ]] && ((TOTAL_CORES != EXECUTORS * EXECUTOR_CORES)); then
      bad "--executors $EXECUTORS x --executor-cores $EXECUTOR_CORES disagrees with --total-executor-cores $TOTAL_CORES"
    fi
    [[ -n "$TOTAL_CORES" ]] || TOTAL_CORES="${EXECUTORS:+$((EXECUTORS * EXECUTOR_CORES))}"
    [[ -n "$TOTAL_CORES" ]] || bad "a standalone master needs the number of executors: --executors N (or --total-executor-cores)"
    ((TOTAL_CORES % EXECUTOR_CORES == 0)) \
      || bad "--total-executor-cores $TOTAL_CORES is not a multiple of --executor-cores $EXECUTOR_CORES (BigDL needs whole executors)"
    RESOURCE_CONF+=(--conf "spark.executor.cores=$EXECUTOR_CORES" --conf "spark.cores.max=$TOTAL_CORES")
    ;;
  yarn*)
    INSTANCES="${INSTANCES:-$EXECUTORS}"
    [[ -n "$INSTANCES" ]] || bad "a YARN master needs the number of executors: --executors N"
    RESOURCE_CONF+=(--conf "spark.executor.cores=$EXECUTOR_CORES" --conf "spark.executor.instances=$INSTANCES")
    ;;
  k8s://*)
    INSTANCES="${INSTANCES:-$EXECUTORS}"
    [[ -n "$INSTANCES" ]] || bad "a Kubernetes master needs the number of executors: --executors N"
    RESOURCE_CONF+=(--conf "spark.executor.cores=$EXECUTOR_CORES" --conf "spark.executor.instances=$INSTANCES"
      --conf "spark.cores.max=$((INSTANCES * EXECUTOR_CORES))")
    ;;
  local*)
    [[ -z "$EXECUTORS$INSTANCES$TOTAL_CORES" ]] || bad "--executors has no meaning for $MASTER (one JVM; use local[N])"
    ;;
  *) bad "unsupported master '$MASTER' (spark://HOST:PORT, yarn, k8s://..., local[N])" ;;
esac
RESOURCE_CONF+=(--conf spark.dynamicAllocation.enabled=false)
# The GEMM backend and MKL code-path choices (docs/ENGINE.md, BLAS backend) and the image decoders
# (docs/USER-GUIDE.md, "Decoding") reach executors, and a driver not started from this shell.
for var in SPARKVIT_BLAS SPARKVIT_OPENBLAS_LIBRARY SPARKVIT_MKL_CPU SPARKVIT_DECODERS; do
  [[ -z "${!var:-}" ]] || RESOURCE_CONF+=(--conf "spark.executorEnv.$var=${!var}"
    --conf "spark.yarn.appMasterEnv.$var=${!var}" --conf "spark.kubernetes.driverEnv.$var=${!var}")
done
[[ -z "$EXECUTOR_MEMORY" ]] || RESOURCE_CONF+=(--conf "spark.executor.memory=$EXECUTOR_MEMORY")

# ---- standalone pre-flight ----
# BigDL sets spark.scheduler.minRegisteredResourcesRatio=1.0 and maxRegisteredResourcesWaitingTime=3600s: a
# SparkContext asking for more executors than the cluster can host waits an hour, silently, before anything runs.
# When the master's web UI answers (SPARKVIT_MASTER_UI, default http://HOST:8180 for submit/standalone.sh's port
# 7177, else http://HOST:8080), the request is checked against the alive workers first.
memory_mb() { # Spark memory string (512m, 2g, 1t, bare number = MiB) -> MiB, or nothing when unparsable
  local v="${1,,}"
  [[ "$v" =~ ^[0-9]+([kmgt]b?)?$ ]] || return 0 # digits only reach the arithmetic below
  case "$v" in
    *k | *kb) v="${v%b}"; printf '%s' $(( ${v%k} / 1024 )) ;;
    *m | *mb) v="${v%b}"; printf '%s' "${v%m}" ;;
    *g | *gb) v="${v%b}"; printf '%s' $(( ${v%g} * 1024 )) ;;
    *t | *tb) v="${v%b}"; printf '%s' $(( ${v%t} * 1024 * 1024 )) ;;
    *) [[ "$v" =~ ^[0-9]+$ ]] && printf '%s' "$v" ;;
  esac
}
preflight_standalone() {
  local hostport="${MASTER#spark://}" ui json mem fits
  local -a counts
  hostport="${hostport%%,*}" # HA masters: ask the first
  if [[ -n "${SPARKVIT_MASTER_UI:-}" ]]; then ui="$SPARKVIT_MASTER_UI"
  elif [[ "${hostport##*:}" == "${SPARKVIT_MASTER_PORT:-7177}" ]]; then ui="http://${hostport%:*}:${SPARKVIT_MASTER_UI_PORT:-8180}"
  else ui="http://${hostport%:*}:8080"; fi
  command -v curl >/dev/null || return 0
  json="$(curl -fsS --max-time 3 "$ui/json/" 2>/dev/null)" || { log "note: no master web UI at $ui (SPARKVIT_MASTER_UI); cluster capacity not checked"; return 0; }
  grep -q "\"url\" : \"$MASTER\"" <<<"$json" || { log "note: $ui is not the UI of $MASTER; cluster capacity not checked"; return 0; }
  mem="$(memory_mb "${EXECUTOR_MEMORY:-1g}")"
  [[ -n "$mem" && "$mem" -gt 0 ]] || return 0
  # executors each alive worker can host: with all its resources, and with what is free now
  read -r -a counts < <(awk -v c="$EXECUTOR_CORES" -v m="$mem" '
    function n(line) { gsub(/[^0-9]/, "", line); return line + 0 }
    /^  "workers"/ { w = 1 } /^  "aliveworkers"/ { w = 0 }
    w && /^    "cores" :/ { cores = n($0) } w && /^    "coresfree" :/ { cfree = n($0) }
    w && /^    "memory" :/ { memory = n($0) } w && /^    "memoryfree" :/ { mfree = n($0) }
    w && /^    "state" : "ALIVE"/ {
      a = int(cores / c); b = int(memory / m); total += (a < b ? a : b)
      a = int(cfree / c); b = int(mfree / m); free += (a < b ? a : b)
    }
    END { print total + 0, free + 0 }' <<<"$json")
  fits=$((TOTAL_CORES / EXECUTOR_CORES))
  if ((counts[0] < fits)); then
    printf '%s: ERROR: %s\n' "$PROG" "$MASTER can host only ${counts[0]} executor(s) of $EXECUTOR_CORES core(s) and ${mem} MiB, $fits requested: BigDL would wait up to an hour (spark.scheduler.maxRegisteredResourcesWaitingTime) for the rest. Ask for fewer or smaller executors, or add workers." >&2
    exit 2 # a request the user can change, as YARN's and Kubernetes' refusals
  elif ((counts[1] < fits)); then
    log "note: only ${counts[1]} of the $fits executors fit in what is free on $MASTER now; the job waits for running applications to release resources"
  fi
}
[[ "$MASTER" != spark://* ]] || $DRY_RUN || $LIST_JARS || preflight_standalone

# ---- where the driver runs, and so where the jars and logging files must be ----
#   here:        client mode (and local, standalone): paths on this machine
#   yarn-cluster: the driver runs in a YARN container; spark-submit uploads the jars, --files ships the logging
#                files into the container's working directory, the driver names them by file name
#   k8s:         cluster mode only; everything is inside the image of submit/k8s/Dockerfile under $K8S_HOME,
#                named by local:// URIs (nothing is uploaded)
K8S_HOME=/opt/sparkvit
case "$MASTER" in
  k8s://*)
    [[ -z "$DEPLOY_MODE" || "$DEPLOY_MODE" == cluster ]] \
      || bad "--deploy-mode $DEPLOY_MODE: on Kubernetes this launcher supports cluster mode only (the jars are in the image)"
    DEPLOY_MODE=cluster DRIVER_AT=k8s ;;
  yarn*)
    [[ -z "$DEPLOY_MODE" || "$DEPLOY_MODE" == client || "$DEPLOY_MODE" == cluster ]] \
      || bad "--deploy-mode must be client or cluster, got '$DEPLOY_MODE'"
    if [[ "$DEPLOY_MODE" == cluster ]]; then DRIVER_AT=yarn-cluster; else DRIVER_AT=here; fi ;;
  *)
    [[ -z "$DEPLOY_MODE" || "$DEPLOY_MODE" == client ]] \
      || bad "--deploy-mode $DEPLOY_MODE: only client mode is supported for $MASTER (the driver runs here)"
    DRIVER_AT=here ;;
esac

# ---- environment: Spark distribution, Java 17, application jars ----
SPARK_HOME="$(spark_home)"
export SPARK_HOME
use_java17
OPENS="$(jvm_opens)"
[[ -f "$JAR" ]] || die "missing $JAR: build first (make build)"
[[ -f "$CLASSPATH_FILE" ]] || die "missing $CLASSPATH_FILE: build first (make build)"
if $LIST_JARS; then DRIVER_AT=list; fi
[[ -f "$LOG4J" ]] || die "missing logging configuration $LOG4J (SPARKVIT_LOG4J)"
[[ -f "$LOG4J2" ]] || die "missing logging configuration $LOG4J2 (SPARKVIT_LOG4J2)"
LOG4J="$(readlink -f "$LOG4J")" LOG4J2="$(readlink -f "$LOG4J2")" # file: URLs must not depend on the driver's cwd

# ---- YARN: one application attempt, loopback test clusters, pre-flight ----
# A second attempt of a sparkvit driver finds the first attempt's checkpoints in output_dir and refuses to start;
# lost executors are recovered inside the driver (training.max_restarts). So one attempt, unless the user says so.
# submit/yarn-preflight.py reads the Hadoop configuration Spark's YARN client would (SPARK_CONF_DIR,
# HADOOP_CONF_DIR, YARN_CONF_DIR; spark.hadoop.*): a ResourceManager on loopback is a test cluster on this machine,
# whose containers must reach the driver and each other on 127.0.0.1 too. Outside --dry-run it asks the RM's REST
# API for its running nodes and maximum allocation and refuses (exit 2, one line) a request that can never be
# granted: BigDL's minRegisteredResourcesRatio=1.0 would otherwise wait an hour (maxRegisteredResourcesWaitingTime).
# SPARKVIT_YARN_PREFLIGHT=0 skips that query (the loopback settings still apply).
YARN_CONF=()
if [[ "$MASTER" == yarn* ]] && ! $LIST_JARS; then
  user_attempts=false
  for ((i = 0; i + 1 < ${#SPARK_ARGS[@]}; i++)); do
    [[ "${SPARK_ARGS[i]}" != --conf || "${SPARK_ARGS[i + 1]}" != spark.yarn.maxAppAttempts=* ]] || user_attempts=true
  done
  properties="$SPARK_HOME/conf/spark-defaults.conf"
  [[ -z "${SPARK_CONF_DIR:-}" ]] || properties="$SPARK_CONF_DIR/spark-defaults.conf"
  for ((i = 0; i < ${#SPARK_ARGS[@]}; i++)); do
    case "${SPARK_ARGS[i]}" in
      --properties-file) properties="${SPARK_ARGS[i + 1]:-}" ;;
      --properties-file=*) properties="${SPARK_ARGS[i]#*=}" ;;
    esac
  done
  [[ ! -f "$properties" ]] || ! grep -qE '^[[:space:]]*spark\.yarn\.maxAppAttempts([[:space:]=]|$)' "$properties" || user_attempts=true
  $user_attempts || YARN_CONF+=(--conf spark.yarn.maxAppAttempts=1)
  if command -v python3 >/dev/null; then
    query=(--query)
    ! $DRY_RUN && [[ "${SPARKVIT_YARN_PREFLIGHT:-1}" != 0 ]] || query=() # 0: skip the RM query (escape hatch)
    preflight_rc=0
    yarn_facts="$(python3 "$SPARKVIT_ROOT/submit/yarn-preflight.py" --mode "${DEPLOY_MODE:-client}" \
      --instances "$INSTANCES" --executor-cores "$EXECUTOR_CORES" --executor-memory "$EXECUTOR_MEMORY" \
      "${query[@]}" -- "${SPARK_ARGS[@]}")" || preflight_rc=$?
    ((preflight_rc != 2)) || exit 2 # the request can never be granted; yarn-preflight.py said why
    ((preflight_rc == 0)) || log "note: the YARN pre-flight failed (exit $preflight_rc); cluster capacity not checked"
    if grep -qx 'loopback=1' <<<"$yarn_facts"; then
      export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
      YARN_CONF+=(--conf "spark.yarn.appMasterEnv.SPARK_LOCAL_IP=$SPARK_LOCAL_IP"
        --conf "spark.executorEnv.SPARK_LOCAL_IP=$SPARK_LOCAL_IP")
    fi
  else
    log "note: no python3: the YARN ResourceManager's capacity and address are not checked"
  fi
fi

# ---- Kubernetes pre-flight: the namespace's ResourceQuotas, where kubectl reads them (submit/k8s-preflight.py) ----
if [[ "$MASTER" == k8s://* ]] && ! $DRY_RUN && ! $LIST_JARS && [[ "${SPARKVIT_K8S_PREFLIGHT:-1}" != 0 ]] \
  && command -v python3 >/dev/null && command -v kubectl >/dev/null; then
  preflight_rc=0
  python3 "$SPARKVIT_ROOT/submit/k8s-preflight.py" --master "$MASTER" --instances "$INSTANCES" \
    --executor-cores "$EXECUTOR_CORES" --executor-memory "$EXECUTOR_MEMORY" -- "${SPARK_ARGS[@]}" || preflight_rc=$?
  ((preflight_rc != 2)) || exit 2 # a quota the pods can never fit in; k8s-preflight.py said which
  ((preflight_rc == 0)) || log "note: the Kubernetes pre-flight failed (exit $preflight_rc); quotas not checked"
fi

artifact_of() { # jar file name -> artifact name: everything before the first "-<digit>"
  local base="${1##*/}"
  base="${base%.jar}"
  printf '%s' "$base" | sed -E 's/-[0-9].*$//'
}
declare -A SPARK_SHIPS=() # artifact -> the distribution's jar ("-" for the NOT_SHIPPED ones)
for jar in "$SPARK_HOME"/jars/*.jar; do SPARK_SHIPS["$(artifact_of "$jar")"]="${jar##*/}"; done
for artifact in "${NOT_SHIPPED[@]}"; do SPARK_SHIPS["$artifact"]="-"; done
SHIP=()
OTHER_VERSION=() # jars whose artifact Spark ships in another version: Spark's copy is the one loaded
IFS=':' read -r -a CLASSPATH_ENTRIES <"$CLASSPATH_FILE" || true
((${#CLASSPATH_ENTRIES[@]})) || die "$CLASSPATH_FILE is empty: rebuild (make build)"
for jar in "${CLASSPATH_ENTRIES[@]}"; do
  [[ -n "$jar" ]] || continue
  spark_jar="${SPARK_SHIPS["$(artifact_of "$jar")"]:-}"
  if [[ -n "$spark_jar" ]]; then
    [[ "$spark_jar" == "-" || "$spark_jar" == "${jar##*/}" ]] || OTHER_VERSION+=("${jar##*/} (Spark ships $spark_jar)")
    continue
  fi
  [[ -f "$jar" ]] || die "missing $jar (listed in $CLASSPATH_FILE): rebuild (make build) or wait for a running build to finish"
  [[ "${jar##*/}" != scala-library-* && "${jar##*/}" != scala-reflect-* ]] || continue
  SHIP+=("$jar")
done

# Jars built in this repository (the application jar, the model jar) are copied into a folder named by their
# content hash, and those copies are submitted: executors fetch jars when they start, so a rebuild during a run
# would otherwise hand later executors (or a retried stage) different classes than the driver's.
STAGE="$SPARKVIT_CACHE/submit-jars"
stage_jar() { # jar -> prints the path of its content-addressed copy
  local tmp sha dir
  mkdir -p "$STAGE"
  tmp="$(mktemp "$STAGE/.copy.XXXXXX")"
  cp "$1" "$tmp" || { rm -f "$tmp"; die "cannot copy $1 into $STAGE"; }
  chmod 644 "$tmp" # mktemp makes it private; workers may run as another user
  sha="$(sha256sum "$tmp" | cut -c1-16)"
  dir="$STAGE/$sha"
  mkdir -p "$dir"
  mv -f "$tmp" "$dir/${1##*/}"
  touch "$dir"
  printf '%s\n' "$dir/${1##*/}"
}
if [[ "$DRIVER_AT" == list ]]; then printf '%s\n' "${SHIP[@]}"; exit 0; fi
if [[ "$DRIVER_AT" == k8s ]]; then # the image's copies (submit/k8s/context.sh lays them out so)
  APP_JAR="local://$K8S_HOME/sparkvit.jar"
  for i in "${!SHIP[@]}"; do SHIP[i]="local://$K8S_HOME/jars/${SHIP[i]##*/}"; done
else
  find "$STAGE" -mindepth 1 -maxdepth 1 -type d -mtime +7 -exec rm -rf {} + 2>/dev/null || true
  APP_JAR="$(stage_jar "$JAR")"
  for i in "${!SHIP[@]}"; do
    [[ "${SHIP[i]}" != "$SPARKVIT_ROOT"/* ]] || SHIP[i]="$(stage_jar "${SHIP[i]}")"
  done
fi
JARS="$(IFS=,; printf '%s' "${SHIP[*]}")${USER_JARS:+,$USER_JARS}"

# Loopback masters (and local ones) keep driver, executors and block managers on 127.0.0.1 whatever this
# machine's hostname resolves to; a real cluster's driver must be reachable, so it is left alone there.
LOOPBACK_CONF=()
case "$MASTER" in
  local* | spark://127.* | spark://localhost:*)
    export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
    # else the driver advertises the reverse lookup of 127.0.0.1 ("localhost"), which may resolve to ::1
    LOOPBACK_CONF=(--conf "spark.driver.host=$SPARK_LOCAL_IP" --conf "spark.driver.bindAddress=$SPARK_LOCAL_IP")
    ;;
esac

# The driver's logging files: paths here, file names in the YARN container's working directory (shipped with
# --files), or the image's conf/ on Kubernetes.
FILES="$USER_FILES"
case "$DRIVER_AT" in
  here) LOG4J_URL="file:$LOG4J" LOG4J2_URL="file:$LOG4J2" ;;
  yarn-cluster)
    [[ "${LOG4J##*/}" != "${LOG4J2##*/}" ]] || bad "SPARKVIT_LOG4J and SPARKVIT_LOG4J2 need different file names for --files"
    LOG4J_URL="${LOG4J##*/}" LOG4J2_URL="${LOG4J2##*/}"
    FILES="$LOG4J,$LOG4J2${USER_FILES:+,$USER_FILES}" ;;
  k8s) LOG4J_URL="file:$K8S_HOME/conf/${LOG4J##*/}" LOG4J2_URL="file:$K8S_HOME/conf/${LOG4J2##*/}" ;;
esac
DRIVER_JAVA_OPTIONS="$(join_words "$OPENS" "-Dlog4j.configuration=$LOG4J_URL" "-Dlog4j.configurationFile=$LOG4J2_URL" "$DRIVER_OPTS")"
EXECUTOR_JAVA_OPTIONS="$(join_words "$OPENS" "$EXECUTOR_OPTS")"

CMD=("$SPARK_HOME/bin/spark-submit" --master "$MASTER")
[[ -z "$DEPLOY_MODE" ]] || CMD+=(--deploy-mode "$DEPLOY_MODE")
CMD+=(--class "$MAIN_CLASS")
for kv in "${BIGDL_CONF[@]}"; do CMD+=(--conf "$kv"); done
CMD+=("${RESOURCE_CONF[@]}" "${LOOPBACK_CONF[@]}" "${YARN_CONF[@]}")
CMD+=(--conf "spark.driver.extraJavaOptions=$DRIVER_JAVA_OPTIONS")
CMD+=(--conf "spark.executor.extraJavaOptions=$EXECUTOR_JAVA_OPTIONS")
CMD+=(--jars "$JARS")
[[ -z "$FILES" ]] || CMD+=(--files "$FILES")
CMD+=("${SPARK_ARGS[@]}")
CMD+=("$APP_JAR" "$@")

if $DRY_RUN; then
  for jar in "${OTHER_VERSION[@]}"; do printf '# not shipped, Spark'"'"'s own version is loaded: %s\n' "$jar"; done
  printf 'SPARK_HOME=%q JAVA_HOME=%q SPARK_LOCAL_IP=%q \\\n' "$SPARK_HOME" "$JAVA_HOME" "${SPARK_LOCAL_IP:-}"
  i=0 # one option (with its value) per line
  while ((i < ${#CMD[@]})); do
    line="$(printf '%q' "${CMD[i]}")"
    if [[ "${CMD[i]}" == --* && $((i + 1)) -lt ${#CMD[@]} && "${CMD[i + 1]}" != --* ]]; then
      i=$((i + 1)); line="$line $(printf '%q' "${CMD[i]}")"
    fi
    i=$((i + 1))
    if ((i < ${#CMD[@]})); then printf '  %s \\\n' "$line"; else printf '  %s\n' "$line"; fi
  done
  exit 0
fi
exec "${CMD[@]}"
