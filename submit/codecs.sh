#!/usr/bin/env bash
# Installs the native libraries sparkvit's image decoding uses when they load (docs/USER-GUIDE.md, "Decoding";
# dev.sparkvit.data.image.Decoders): libjpeg-turbo's TurboJPEG library (Debian's libturbojpeg0, Ubuntu's
# libturbojpeg), the SIMD JPEG decoder Pillow uses, and libdeflate (libdeflate0), whole-buffer inflate for PNG.
# Does nothing when they are present; installs the missing ones with apt-get when run as root (`make bootstrap` runs
# this). It never fails its caller: without them, JPEGs are decoded by the JDK's ImageIO and PNG data is inflated by
# java.util.zip, to the same pixels, more slowly.
#
# Environment: SPARKVIT_CODECS_INSTALL=0 to only report what is missing.
set -uo pipefail

LIBS=(libturbojpeg.so.0 libdeflate.so.0)
PACKAGES=("libturbojpeg0|libturbojpeg" libdeflate0)   # Debian's name | Ubuntu's name

log() { printf 'codecs: %s\n' "$*" >&2; }

loadable() { ldconfig -p 2>/dev/null | grep -q "[[:space:]]$1 "; }

missing() {
  local i out=()
  for i in "${!LIBS[@]}"; do loadable "${LIBS[$i]}" || out+=("${PACKAGES[$i]}"); done
  echo "${out[*]}"
}

todo="$(missing)"
if [[ -z "$todo" ]]; then
  exit 0
fi
if [[ "${SPARKVIT_CODECS_INSTALL:-1}" == 0 || $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  log "missing ${todo//|/ or }: images decode more slowly, to the same pixels (ImageIO, java.util.zip); install" \
    "as root with apt-get (Debian: libturbojpeg0 libdeflate0) to use them"
  exit 0
fi

install_one() { # "name|alternative": the first name apt-get knows
  local name
  for name in ${1//|/ }; do
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$name" >/dev/null 2>&1 && return 0
  done
  return 1
}

log "installing ${todo//|/ or }"
for want in $todo; do
  install_one "$want" || { apt-get update -qq >/dev/null 2>&1; install_one "$want"; }
done
todo="$(missing)"
if [[ -n "$todo" ]]; then
  log "apt-get could not install ${todo//|/ or }; images decode without them, more slowly"
else
  log "installed: ${LIBS[*]}"
fi
exit 0
