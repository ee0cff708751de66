#!/usr/bin/env bash
# Installs the native image decoder sparkvit's ingestion uses when it loads (README, "The data pipeline";
# dev.sparkvit.data.image.Decoders): libjpeg-turbo's TurboJPEG library (Debian's libturbojpeg0, Ubuntu's
# libturbojpeg), the SIMD JPEG decoder Pillow uses. Does nothing when it is present; installs it with apt-get when run
# as root (`make bootstrap` runs this). It never fails its caller: without it, JPEGs are decoded by the JDK's ImageIO,
# to the same pixels, about 1.7x slower.
#
# Environment: SPARKVIT_CODECS_INSTALL=0 to only report what is missing.
set -uo pipefail

LIBS=(libturbojpeg.so.0)
PACKAGES=("libturbojpeg0|libturbojpeg")   # Debian's name | Ubuntu's name

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
  log "missing ${todo//|/ or }: JPEGs are decoded by ImageIO (slower, same pixels); install as root with" \
    "'apt-get install ${todo%%|*}' (Debian) to use libjpeg-turbo"
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
  log "apt-get could not install ${todo//|/ or }; JPEGs are decoded by ImageIO"
else
  log "installed: ${LIBS[*]}"
fi
exit 0
