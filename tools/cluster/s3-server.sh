#!/usr/bin/env bash
# An S3-compatible server on this machine (moto's, from PyPI), on 127.0.0.1 with a free port, for make
# cluster-test and by hand:
#
#   tools/cluster/s3-server.sh start DIR   start it in the background, wait until it answers (~2 s)
#   tools/cluster/s3-server.sh env DIR     print the shell exports of a running one (SPARKVIT_S3_ENDPOINT)
#   tools/cluster/s3-server.sh stop DIR    stop it
#
# The server is `moto_server` of moto[server]==$MOTO_VERSION, installed once into a venv under
# $SPARKVIT_CACHE/s3-venv (default ~/.cache/sparkvit/s3-venv) with pip. It keeps everything in memory and accepts
# any access key and secret. DIR holds pid, endpoint (http://127.0.0.1:PORT) and s3-server.log. Clients (S3A):
# fs.s3a.endpoint=ENDPOINT, fs.s3a.path.style.access=true, fs.s3a.connection.ssl.enabled=false and any keys.
# Exit 2 for a bad invocation, 1 when the server does not come up.
set -euo pipefail
PROG=s3-server
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../submit/common.sh"
MOTO_VERSION=5.2.5
VENV="$SPARKVIT_CACHE/s3-venv"

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
(($# == 2)) || usage
ACTION="$1"
DIR="$(mkdir -p "$2" && cd "$2" && pwd)"

# shellcheck source=tools/cluster/daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemon.sh"

install_moto() {
  if [[ -x "$VENV/bin/moto_server" ]] \
    && [[ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" == "$MOTO_VERSION" ]]; then
    return 0
  fi
  log "installing moto[server]==$MOTO_VERSION into $VENV (pip, once)"
  python3 -m venv "$VENV" || die "python3 -m venv $VENV failed (Debian: apt-get install python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2 \
    || die "pip install moto[server]==$MOTO_VERSION failed"
}

start() {
  running && die "already running in $DIR (pid $(cat "$DIR/pid")); stop it first"
  install_moto
  local port waited
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  rm -f "$DIR/pid" "$DIR/endpoint"
  setsid "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$DIR/s3-server.log" 2>&1 </dev/null &
  echo $! >"$DIR/pid"
  waited="$(await_up 30 "$DIR/s3-server.log" moto_server curl -fsS --max-time 1 -o /dev/null "http://127.0.0.1:$port/")"
  printf 'http://127.0.0.1:%s\n' "$port" >"$DIR/endpoint"
  log "up in $((waited / 10)) s at http://127.0.0.1:$port (pid $(cat "$DIR/pid"))"
}

case "$ACTION" in
  start) start ;;
  stop) stop 10 ;;
  env)
    running && [[ -f "$DIR/endpoint" ]] || die "not running in $DIR"
    printf 'export SPARKVIT_S3_ENDPOINT=%q\n' "$(cat "$DIR/endpoint")"
    ;;
  *) usage ;;
esac
