#!/usr/bin/env bash
# Installs OpenBLAS for sparkvit's optional GEMM backend (docs/ENGINE.md, "BLAS backend"): Debian/Ubuntu's
# single-threaded build, libopenblas0-serial (what training loads: one single-threaded replica per core), and its
# pthread build, libopenblas0-pthread (for `sparkvit bench gemm --threads N`, N > 1). Does nothing when both are
# present; installs the missing ones with apt-get when run as root. It never fails its caller: without OpenBLAS,
# sparkvit runs its GEMMs on the MKL bundled with BigDL (sparkvit.blas=auto falls back; =openblas says why not).
# Note: installing them also makes OpenBLAS the system's libblas.so.3 alternative, unless a BLAS of higher
# priority is installed.
#
# Environment: OPENBLAS_LIB_DIR (default /usr/lib/x86_64-linux-gnu), where the packages put their libraries.
set -uo pipefail

LIB_DIR="${OPENBLAS_LIB_DIR:-/usr/lib/x86_64-linux-gnu}"
PACKAGES=(libopenblas0-serial libopenblas0-pthread)
FILES=("$LIB_DIR/openblas-serial/libblas.so.3" "$LIB_DIR/openblas-pthread/libblas.so.3")

log() { printf 'openblas: %s\n' "$*" >&2; }

missing() {
  local i out=()
  for i in "${!PACKAGES[@]}"; do [[ -r "${FILES[$i]}" ]] || out+=("${PACKAGES[$i]}"); done
  echo "${out[*]}"
}

todo="$(missing)"
if [[ -z "$todo" ]]; then
  log "present: ${FILES[*]}"
  exit 0
fi
if [[ "$(uname -m)" != x86_64 ]]; then
  log "not installing ($todo): only x86-64 is supported (as by BigDL's MKL); GEMMs run on MKL"
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  log "missing $todo: install as root with 'apt-get install $todo' (Debian/Ubuntu) to enable OpenBLAS;" \
    "until then GEMMs run on MKL"
  exit 0
fi

log "installing $todo"
# shellcheck disable=SC2086 # todo is a list of package names
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $todo >/dev/null 2>&1; then
  apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $todo >/dev/null 2>&1
fi
todo="$(missing)"
if [[ -n "$todo" ]]; then
  log "apt-get could not install $todo; GEMMs run on MKL"
else
  log "installed: ${FILES[*]}"
fi
exit 0
