#!/usr/bin/env bash
# Checks the system tools the build needs (a Java 17 JDK, Maven, Python 3 with pip) and, when one is missing and
# this runs as root on a Debian/Ubuntu machine, installs it with apt-get. Prints the JAVA_HOME to build with.
set -euo pipefail

log() { printf 'prereqs: %s\n' "$*" >&2; }
die() { printf 'prereqs: ERROR: %s\n' "$*" >&2; exit 1; }

java_major() { # java executable -> major version, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p'
}

find_java17() {
  local candidate
  for candidate in "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)" /usr/lib/jvm/*17*/bin/java; do
    if [[ -n "$candidate" && -x "$candidate" && "$(java_major "$candidate")" == "17" && -x "$(dirname "$candidate")/javac" ]]; then
      dirname "$(dirname "$(readlink -f "$candidate")")"
      return 0
    fi
  done
  return 1
}

missing=()
find_java17 >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
      || die "apt-get could not install ${missing[*]}"
  else
    die "missing ${missing[*]}: install them (a Java 17 JDK, Maven 3.8+, Python 3 with pip) and retry"
  fi
fi
find_java17 || die "no Java 17 JDK found (set JAVA_HOME to one)"
