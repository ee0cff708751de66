#!/usr/bin/env bash
# Installs the Spark 3.1.3 distribution sparkvit submits with, without manual steps, and prints its SPARK_HOME.
#
# Source: PyPI's pyspark 3.1.3 source distribution (pip download --no-deps), whose deps/ folder is a complete Spark
# 3.1.3 binary distribution for Hadoop 3.2 (bin/, sbin/spark-daemon.sh, jars/, ...). Its SHA-256 is pinned below.
# The tarball is kept in $SPARKVIT_CACHE/downloads/ and deps/ becomes $SPARKVIT_CACHE/spark-3.1.3/.
#
# One change to the distribution: jars/scala-{library,reflect,compiler}-2.12.10.jar are replaced by 2.12.15 (SHA-256
# pinned; from the local Maven repository when it has them, else Maven Central). With Spark's own 2.12.10, Java 17
# fails to deserialize Scala lambdas ("IllegalArgumentException: too many arguments" from
# LambdaMetafactory.altMetafactory, fixed in Scala 2.12.15), which DLlib's and Spark's closures do; see
# docs/ENGINE.md. scala-reflect and scala-compiler are swapped too because the three are released together and
# scala-reflect/scala-compiler call internals of the scala-library of their own version. The originals are moved
# to jars-scala-2.12.10/ next to jars/.
#
# One addition: S3A, Hadoop's s3a:// file system, which Spark's distribution leaves out: jars/ gets
# org.apache.hadoop:hadoop-aws:3.2.0 (the Hadoop version of the distribution) and the AWS SDK it was built against,
# com.amazonaws:aws-java-sdk-bundle:1.11.375 (SHA-256 pinned; from the local Maven repository when it has them, else
# Maven Central). Added to an existing installation too (ensure_s3a), without re-extracting it.
#
# Idempotent: a finished installation is recognised by its marker file and left alone; an interrupted one is
# redone. Environment: SPARKVIT_CACHE (default ~/.cache/sparkvit), PIP (default: python3 -m pip),
# MAVEN_REPO_LOCAL (default ~/.m2/repository), MAVEN_CENTRAL (default https://repo1.maven.org/maven2),
# SPARKVIT_PYSPARK_SDIST (path of an already downloaded pyspark-3.1.3.tar.gz to reuse; checked like a download).
set -euo pipefail
PROG=spark-dist
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SDIST=pyspark-3.1.3.tar.gz
SDIST_SHA256=39ac641ef5559a3d1286154779fc990316e9934520853615ae4785c1af52d14b # PyPI's published digest
SCALA_OLD=2.12.10
SCALA_NEW=2.12.15
# artifact | SHA-256 of the 2.12.15 jar (Maven Central's; its .sha1 files agree)
SCALA_JARS=(
  "scala-library|e518bb640e2175de5cb1f8e326679b8d975376221f1b547757de429bbf4563f0"
  "scala-reflect|d5a21ab16b35dbe1fa9f50267d3c198d4797084a61557874ca53c85f15747e48"
  "scala-compiler|bf4d3ed5a5bc1581bc44512c98f61e0aee128fbfa7536f0ce367d2e42b84db07"
)
# groupId path | artifact | version | SHA-256 (Maven Central's; its .sha1 files agree)
S3A_JARS=(
  "org/apache/hadoop|hadoop-aws|3.2.0|ceac8724f8bb47d2f039eaecf4ee147623b46e4bbf26ddf73a9bb8808743655e"
  "com/amazonaws|aws-java-sdk-bundle|1.11.375|c6fc2a6e2c1184e4c4302cdd463171b58d31ac6b355337795b821598975c597b"
)
PIP="${PIP:-python3 -m pip}"
MAVEN_REPO_LOCAL="${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}"
MAVEN_CENTRAL="${MAVEN_CENTRAL:-https://repo1.maven.org/maven2}"
DOWNLOADS="$SPARKVIT_CACHE/downloads"
DEST="$SPARKVIT_SPARK_HOME"
MARKER="$DEST/SPARKVIT-DIST"
MARKER_TEXT="pyspark sdist $SDIST_SHA256; scala $SCALA_NEW $(printf '%s ' "${SCALA_JARS[@]}")"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
has_sha256() { [[ -f "$1" ]] && [[ "$(sha256_of "$1")" == "$2" ]]; }

installed() {
  [[ -f "$MARKER" && "$(cat "$MARKER")" == "$MARKER_TEXT" ]] || return 1
  local entry
  for entry in "${SCALA_JARS[@]}"; do
    has_sha256 "$DEST/jars/${entry%%|*}-$SCALA_NEW.jar" "${entry#*|}" || return 1
    [[ ! -e "$DEST/jars/${entry%%|*}-$SCALA_OLD.jar" ]] || return 1
  done
  [[ -x "$DEST/bin/spark-submit" && -x "$DEST/sbin/spark-daemon.sh" ]]
}

# Puts a verified pyspark sdist into $DOWNLOADS and prints its path.
fetch_sdist() {
  local target="$DOWNLOADS/$SDIST" tmp
  if has_sha256 "$target" "$SDIST_SHA256"; then printf '%s\n' "$target"; return; fi
  mkdir -p "$DOWNLOADS"
  if [[ -n "${SPARKVIT_PYSPARK_SDIST:-}" ]]; then
    if has_sha256 "$SPARKVIT_PYSPARK_SDIST" "$SDIST_SHA256"; then
      log "reusing $SPARKVIT_PYSPARK_SDIST (SHA-256 verified)"
      cp "$SPARKVIT_PYSPARK_SDIST" "$target.part" && mv "$target.part" "$target"
      printf '%s\n' "$target"; return
    fi
    log "ignoring SPARKVIT_PYSPARK_SDIST=$SPARKVIT_PYSPARK_SDIST: missing or not SHA-256 $SDIST_SHA256"
  fi
  tmp="$(mktemp -d "$DOWNLOADS/pip.XXXXXX")"
  log "downloading pyspark==$SPARK_VERSION (source distribution, about 214 MB) with pip into $DOWNLOADS"
  # pip builds the sdist's metadata, which fetches setuptools and wheel into an isolated build environment.
  # shellcheck disable=SC2086 # PIP is a command with arguments
  if ! $PIP download --no-deps --no-binary :all: --progress-bar off -d "$tmp" "pyspark==$SPARK_VERSION" >&2; then
    log "pip download failed; trying the same file from PyPI's file host with curl"
    curl -fsSL --retry 3 -o "$tmp/$SDIST" "https://files.pythonhosted.org/packages/source/p/pyspark/$SDIST" \
      || { rm -rf "$tmp"; die "could not download $SDIST with pip or from files.pythonhosted.org"; }
  fi
  [[ -f "$tmp/$SDIST" ]] || { rm -rf "$tmp"; die "pip did not produce $SDIST in $tmp"; }
  has_sha256 "$tmp/$SDIST" "$SDIST_SHA256" \
    || { local got; got="$(sha256_of "$tmp/$SDIST")"; rm -rf "$tmp"; die "$SDIST has SHA-256 $got, expected $SDIST_SHA256"; }
  mv "$tmp/$SDIST" "$target"
  rm -rf "$tmp"
  printf '%s\n' "$target"
}

# Copies the verified 2.12.15 jar of artifact $1 (SHA-256 $2) to $3.
fetch_scala_jar() {
  local artifact="$1" sha="$2" out="$3" name="$1-$SCALA_NEW.jar" local_jar
  local_jar="$MAVEN_REPO_LOCAL/org/scala-lang/$artifact/$SCALA_NEW/$name"
  if has_sha256 "$local_jar" "$sha"; then
    cp "$local_jar" "$out"
  else
    log "downloading $name from $MAVEN_CENTRAL"
    curl -fsSL --retry 3 -o "$out" "$MAVEN_CENTRAL/org/scala-lang/$artifact/$SCALA_NEW/$name" \
      || die "could not download $MAVEN_CENTRAL/org/scala-lang/$artifact/$SCALA_NEW/$name"
  fi
  has_sha256 "$out" "$sha" || die "$name has SHA-256 $(sha256_of "$out"), expected $sha"
}

# Copies the verified jar of Maven coordinates $1 (group path|artifact|version|sha256) to $2.
fetch_maven_jar() {
  local group artifact version sha out="$2" name local_jar
  IFS='|' read -r group artifact version sha <<<"$1"
  name="$artifact-$version.jar"
  local_jar="$MAVEN_REPO_LOCAL/$group/$artifact/$version/$name"
  if has_sha256 "$local_jar" "$sha"; then
    cp "$local_jar" "$out.part"
  else
    log "downloading $name from $MAVEN_CENTRAL"
    curl -fsSL --retry 3 -o "$out.part" "$MAVEN_CENTRAL/$group/$artifact/$version/$name" \
      || { rm -f "$out.part"; die "could not download $MAVEN_CENTRAL/$group/$artifact/$version/$name"; }
  fi
  has_sha256 "$out.part" "$sha" || { rm -f "$out.part"; die "$name has SHA-256 $(sha256_of "$out.part"), expected $sha"; }
  mv "$out.part" "$out"
}

# S3A (s3a://) in jars/: hadoop-aws and its AWS SDK, added when missing or not the pinned file.
ensure_s3a() {
  local entry group artifact version sha
  for entry in "${S3A_JARS[@]}"; do
    IFS='|' read -r group artifact version sha <<<"$entry"
    has_sha256 "$DEST/jars/$artifact-$version.jar" "$sha" && continue
    fetch_maven_jar "$entry" "$DEST/jars/$artifact-$version.jar"
    log "added jars/$artifact-$version.jar (S3A)"
  done
}

install() {
  local sdist work entry artifact
  sdist="$(fetch_sdist)"
  mkdir -p "$SPARKVIT_CACHE"
  work="$(mktemp -d "$SPARKVIT_CACHE/.spark-dist.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: the trap must remove this very folder
  trap "rm -rf '$work'" EXIT
  log "extracting pyspark-$SPARK_VERSION/deps from $sdist"
  tar -xzf "$sdist" -C "$work" "pyspark-$SPARK_VERSION/deps" \
    || die "could not extract pyspark-$SPARK_VERSION/deps from $sdist"
  local home="$work/pyspark-$SPARK_VERSION/deps"
  [[ -f "$home/jars/spark-core_2.12-$SPARK_VERSION.jar" && -x "$home/bin/spark-submit" ]] \
    || die "$sdist has no Spark distribution under pyspark-$SPARK_VERSION/deps"
  mkdir -p "$home/jars-scala-$SCALA_OLD" "$home/conf"
  for entry in "${SCALA_JARS[@]}"; do
    artifact="${entry%%|*}"
    [[ -f "$home/jars/$artifact-$SCALA_OLD.jar" ]] || die "the distribution has no jars/$artifact-$SCALA_OLD.jar to replace"
    mv "$home/jars/$artifact-$SCALA_OLD.jar" "$home/jars-scala-$SCALA_OLD/"
    fetch_scala_jar "$artifact" "${entry#*|}" "$home/jars/$artifact-$SCALA_NEW.jar"
  done
  printf 'Spark %s from PyPI %s (SHA-256 %s), Scala jars replaced by %s by submit/spark-dist.sh\n' \
    "$SPARK_VERSION" "$SDIST" "$SDIST_SHA256" "$SCALA_NEW" >"$home/RELEASE"
  printf '%s\n' "$MARKER_TEXT" >"$home/SPARKVIT-DIST"
  rm -rf "$DEST"
  mv "$home" "$DEST"
  log "installed Spark $SPARK_VERSION with Scala $SCALA_NEW in $DEST"
}

mkdir -p "$SPARKVIT_CACHE"
exec 9>"$SPARKVIT_CACHE/.spark-dist.lock"
flock 9 || die "could not lock $SPARKVIT_CACHE/.spark-dist.lock"
if installed; then
  log "Spark $SPARK_VERSION (Scala $SCALA_NEW) already installed; nothing to do"
else
  install
fi
ensure_s3a
printf '%s\n' "$DEST"
