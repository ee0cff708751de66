#!/usr/bin/env bash
# A Spark standalone cluster on this machine: one master and N workers, each its own JVM, on loopback.
#
#   submit/standalone.sh up       start what is not running yet, wait until every worker is registered
#   submit/standalone.sh down     stop the workers, then the master (SIGTERM, SIGKILL after a grace period)
#   submit/standalone.sh status   one line per daemon and the master's view; exit 0 when all are up, 3 otherwise
#   submit/standalone.sh url      print the master URL (spark://HOST:PORT) for --master
#   submit/standalone.sh clean    with everything stopped: delete the logs and the workers' work folders
#
# The daemons come from the distribution submit/spark-dist.sh installs ($SPARK_HOME overrides it) and run on Java
# 17 with the --add-opens of submit/jvm.properties in SPARK_DAEMON_JAVA_OPTS. Logs, pid files, the workers' work
# folders (executor stdout/stderr, fetched jars) live under $SPARKVIT_CACHE/standalone/, never in the repository.
#
# Environment (defaults in brackets); ports are away from Spark's 7077/8080/8081 so a stock cluster can coexist:
#   SPARKVIT_MASTER_HOST [127.0.0.1]   SPARKVIT_MASTER_PORT [7177]         SPARKVIT_MASTER_UI_PORT [8180]
#   SPARKVIT_WORKERS [2]               SPARKVIT_WORKER_CORES [1]           SPARKVIT_WORKER_MEMORY [3g]
#   SPARKVIT_WORKER_PORT_BASE [7180]   SPARKVIT_WORKER_UI_PORT_BASE [8180] (worker i listens on BASE+i, i = 1..N)
#   SPARKVIT_STANDALONE_TIMEOUT [90]   seconds to wait for start-up and for each daemon to stop
#   SPARKVIT_WORKER_APPDATA_TTL [21600] seconds a finished application's work folder (its executor logs and a
#                                       copy of every submitted jar, about 120 MB per executor) is kept
#   SPARK_DAEMON_MEMORY [Spark's 1g]   SPARKVIT_CACHE [~/.cache/sparkvit]   SPARK_HOME [the sparkvit distribution]
set -euo pipefail
PROG=standalone
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

MASTER_HOST="${SPARKVIT_MASTER_HOST:-127.0.0.1}"
MASTER_PORT="${SPARKVIT_MASTER_PORT:-7177}"
MASTER_UI_PORT="${SPARKVIT_MASTER_UI_PORT:-8180}"
WORKERS="${SPARKVIT_WORKERS:-2}"
WORKER_CORES="${SPARKVIT_WORKER_CORES:-1}"
WORKER_MEMORY="${SPARKVIT_WORKER_MEMORY:-3g}"
WORKER_PORT_BASE="${SPARKVIT_WORKER_PORT_BASE:-7180}"
WORKER_UI_PORT_BASE="${SPARKVIT_WORKER_UI_PORT_BASE:-8180}"
TIMEOUT="${SPARKVIT_STANDALONE_TIMEOUT:-90}"
APPDATA_TTL="${SPARKVIT_WORKER_APPDATA_TTL:-21600}"
STATE="$SPARKVIT_CACHE/standalone"
MASTER_URL="spark://$MASTER_HOST:$MASTER_PORT"
MASTER_JSON="http://$MASTER_HOST:$MASTER_UI_PORT/json/"
MASTER_CLASS=org.apache.spark.deploy.master.Master
WORKER_CLASS=org.apache.spark.deploy.worker.Worker
IDENT=sparkvit # SPARK_IDENT_STRING: names the pid and log files of spark-daemon.sh

for knob in MASTER_PORT MASTER_UI_PORT WORKERS WORKER_CORES WORKER_PORT_BASE WORKER_UI_PORT_BASE TIMEOUT APPDATA_TTL; do
  [[ "${!knob}" =~ ^[0-9]+$ ]] || die "SPARKVIT_$knob must be a whole number, got '${!knob}'"
done
((WORKERS >= 1)) || die "SPARKVIT_WORKERS must be at least 1"
[[ "$WORKER_MEMORY" =~ ^[0-9]+[mMgG]$ ]] || die "SPARKVIT_WORKER_MEMORY must look like 3g or 512m, got '$WORKER_MEMORY'"

usage() { sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

pid_file() { printf '%s/pids/spark-%s-%s-%s.pid\n' "$STATE" "$IDENT" "$1" "$2"; } # class instance

# Prints the pid of daemon (class, instance) when that process runs, else fails. A pid file whose process is gone
# or is something else (a reused pid) is removed.
running_pid() {
  local file pid
  file="$(pid_file "$1" "$2")"
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- " $1 "; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$file"
  return 1
}

port_in_use() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Fails naming the port when something already listens on it.
require_free() { # host port what
  if port_in_use "$1" "$2"; then
    die "port $2 on $1 ($3) is already in use by another process; choose another with the knob named in submit/standalone.sh"
  fi
}

master_json() { curl -fsS --max-time 5 "$MASTER_JSON" 2>/dev/null; }
json_number() { sed -n "s/^  \"$1\" *: *\([0-9]*\).*/\1/p" | head -1; } # top-level numeric field of Spark's JSON

start_daemon() { # class instance args...
  local class="$1" instance="$2"
  shift 2
  "$SPARK_HOME_DIR/sbin/spark-daemon.sh" start "$class" "$instance" "$@" >&2
  running_pid "$class" "$instance" >/dev/null \
    || die "$class $instance did not start; see $STATE/logs/spark-$IDENT-$class-$instance-*.out"
}

# SIGTERM, wait up to TIMEOUT seconds, then SIGKILL: only the process whose pid file we wrote.
stop_daemon() { # class instance label
  local pid waited=0
  if ! pid="$(running_pid "$1" "$2")"; then
    log "$3 not running"
    return 0
  fi
  log "stopping $3 (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((waited < TIMEOUT * 2)); do sleep 0.5; waited=$((waited + 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    log "$3 (pid $pid) still running after ${TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(pid_file "$1" "$2")"
}

up() {
  SPARK_HOME_DIR="$(spark_home)"
  use_java17
  mkdir -p "$STATE/logs" "$STATE/pids" "$STATE/conf"
  local opens i
  opens="$(jvm_opens)"
  export SPARK_HOME="$SPARK_HOME_DIR" SPARK_CONF_DIR="$STATE/conf" SPARK_LOG_DIR="$STATE/logs" \
    SPARK_PID_DIR="$STATE/pids" SPARK_IDENT_STRING="$IDENT" SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-$MASTER_HOST}"
  # Spark 3.1's daemons start and register on Java 17 without the openings (tested); they get them anyway, as
  # Spark 3.3+ gives every JVM it launches, so no code path of theirs can fail on Java 17's encapsulation.
  export SPARK_DAEMON_JAVA_OPTS="$opens ${SPARK_DAEMON_JAVA_OPTS:-}"
  export SPARK_WORKER_OPTS="-Dspark.worker.cleanup.enabled=true -Dspark.worker.cleanup.appDataTtl=$APPDATA_TTL ${SPARK_WORKER_OPTS:-}"

  if running_pid "$MASTER_CLASS" 1 >/dev/null; then
    log "master already running ($MASTER_URL)"
  else
    require_free "$MASTER_HOST" "$MASTER_PORT" "master, SPARKVIT_MASTER_PORT"
    require_free "$MASTER_HOST" "$MASTER_UI_PORT" "master web UI, SPARKVIT_MASTER_UI_PORT"
    start_daemon "$MASTER_CLASS" 1 --host "$MASTER_HOST" --port "$MASTER_PORT" --webui-port "$MASTER_UI_PORT"
  fi
  for ((i = 1; i <= WORKERS; i++)); do
    if running_pid "$WORKER_CLASS" "$i" >/dev/null; then
      log "worker $i already running"
      continue
    fi
    require_free "$MASTER_HOST" $((WORKER_PORT_BASE + i)) "worker $i, SPARKVIT_WORKER_PORT_BASE + $i"
    require_free "$MASTER_HOST" $((WORKER_UI_PORT_BASE + i)) "worker $i web UI, SPARKVIT_WORKER_UI_PORT_BASE + $i"
    mkdir -p "$STATE/work/worker-$i"
    start_daemon "$WORKER_CLASS" "$i" --host "$MASTER_HOST" --port $((WORKER_PORT_BASE + i)) \
      --webui-port $((WORKER_UI_PORT_BASE + i)) --cores "$WORKER_CORES" --memory "$WORKER_MEMORY" \
      --work-dir "$STATE/work/worker-$i" "$MASTER_URL"
  done

  local waited=0 alive=""
  while ((waited < TIMEOUT)); do
    alive="$(master_json | json_number aliveworkers || true)"
    [[ -n "$alive" ]] && ((alive >= WORKERS)) && break
    sleep 1
    waited=$((waited + 1))
  done
  [[ -n "$alive" ]] || die "the master's web UI $MASTER_JSON did not answer within ${TIMEOUT}s; see $STATE/logs/"
  ((alive >= WORKERS)) || die "only $alive of $WORKERS workers registered within ${TIMEOUT}s; see $STATE/logs/"
  log "up: master $MASTER_URL (web UI http://$MASTER_HOST:$MASTER_UI_PORT), $alive workers alive, each $WORKER_CORES core(s) and $WORKER_MEMORY"
  printf '%s\n' "$MASTER_URL"
}

down() {
  local pidfile instance
  # Workers first (also any beyond today's SPARKVIT_WORKERS that an earlier 'up' started), then the master.
  shopt -s nullglob
  for pidfile in "$STATE/pids/spark-$IDENT-$WORKER_CLASS-"*.pid; do
    instance="${pidfile##*-}"
    instance="${instance%.pid}"
    stop_daemon "$WORKER_CLASS" "$instance" "worker $instance"
  done
  shopt -u nullglob
  stop_daemon "$MASTER_CLASS" 1 "master"
  log "down"
}

clean() {
  local pidfile instance
  running_pid "$MASTER_CLASS" 1 >/dev/null && die "the master is running: run '$0 down' first"
  for pidfile in "$STATE/pids/spark-$IDENT-$WORKER_CLASS-"*.pid; do
    [[ -e "$pidfile" ]] || continue
    instance="${pidfile##*-}"
    instance="${instance%.pid}"
    running_pid "$WORKER_CLASS" "$instance" >/dev/null && die "worker $instance is running: run '$0 down' first"
  done
  rm -rf "$STATE/work" "$STATE/logs"
  log "removed $STATE/work and $STATE/logs"
}

status() {
  local pid i ok=0 json
  if pid="$(running_pid "$MASTER_CLASS" 1)"; then
    printf 'master    running  pid %-7s %s  web UI http://%s:%s\n' "$pid" "$MASTER_URL" "$MASTER_HOST" "$MASTER_UI_PORT"
  else
    printf 'master    stopped\n'
    ok=3
  fi
  for ((i = 1; i <= WORKERS; i++)); do
    if pid="$(running_pid "$WORKER_CLASS" "$i")"; then
      printf 'worker %-2s running  pid %-7s %s:%s  web UI http://%s:%s\n' "$i" "$pid" \
        "$MASTER_HOST" $((WORKER_PORT_BASE + i)) "$MASTER_HOST" $((WORKER_UI_PORT_BASE + i))
    else
      printf 'worker %-2s stopped\n' "$i"
      ok=3
    fi
  done
  if json="$(master_json)"; then
    printf 'master says: %s alive workers, %s cores (%s used), %s running applications\n' \
      "$(json_number aliveworkers <<<"$json")" "$(json_number cores <<<"$json")" \
      "$(json_number coresused <<<"$json")" "$(grep -c '"starttime"' <<<"$(sed -n '/"activeapps"/,/"completedapps"/p' <<<"$json")" || true)"
  fi
  printf 'logs: %s/logs  work: %s/work\n' "$STATE" "$STATE"
  return "$ok"
}

[[ $# -eq 1 ]] || usage
case "$1" in
  up) up ;;
  down) down ;;
  status) status ;;
  url) printf '%s\n' "$MASTER_URL" ;;
  clean) clean ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
