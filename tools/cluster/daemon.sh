# A background server of tools/cluster/ kept in a folder DIR: its pid in DIR/pid. Sourced (after submit/common.sh,
# with DIR set) by mini-hadoop.sh and s3-server.sh.

# Whether the server of DIR is running.
running() { [[ -f "$DIR/pid" ]] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null; }

# await_up SECONDS LOG WHAT CHECK...: waits until the command CHECK (its errors silenced) succeeds; dies naming WHAT
# and LOG (with its tail) when the server exits first or is not up within SECONDS (then stopped). Prints the tenths
# of a second waited.
await_up() {
  local seconds="$1" logfile="$2" what="$3" waited=0
  shift 3
  until "$@" 2>/dev/null; do
    if ! running; then tail -n 30 "$logfile" >&2; die "$what did not start (log: $logfile)"; fi
    ((waited++ < seconds * 10)) || { stop "$seconds" >&2; die "$what not up within $seconds s (log: $logfile)"; }
    sleep 0.1
  done
  echo "$waited"
}

# stop [SECONDS]: SIGTERM to the server of DIR, SIGKILL after SECONDS (default 30).
stop() {
  running || { log "not running in $DIR"; rm -f "$DIR/pid"; return 0; }
  local pid waited=0 grace="${1:-30}"
  pid="$(cat "$DIR/pid")"
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((waited++ < grace * 10)); do sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$DIR/pid"
  log "stopped (pid $pid)"
}
