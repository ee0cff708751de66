# shellcheck shell=bash
# Helpers shared by the cluster scripts (spark-dist.sh, standalone.sh, spark-submit.sh). Sourced, never run.
# The caller sets PROG (its name, for messages) before sourcing.

SPARKVIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SPARKVIT_CACHE="${SPARKVIT_CACHE:-$HOME/.cache/sparkvit}"
SPARK_VERSION=3.1.3
# The Spark distribution spark-dist.sh installs; SPARK_HOME overrides it for every script.
SPARKVIT_SPARK_HOME="$SPARKVIT_CACHE/spark-$SPARK_VERSION"

log() { printf '%s: %s\n' "${PROG:-sparkvit}" "$*" >&2; }
die() { printf '%s: ERROR: %s\n' "${PROG:-sparkvit}" "$*" >&2; exit 1; }

java_major() { # java executable -> its major version, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p'
}

# Prints the home of a Java 17 runtime: $JAVA_HOME when it is one, else java on PATH, else /usr/lib/jvm/*17*.
find_java17_home() {
  local candidate
  for candidate in "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)" /usr/lib/jvm/*17*/bin/java; do
    if [[ -n "$candidate" && -x "$candidate" && "$(java_major "$candidate")" == "17" ]]; then
      dirname "$(dirname "$(readlink -f "$candidate")")"
      return 0
    fi
  done
  return 1
}

# Exports JAVA_HOME (a Java 17 runtime) and puts its bin first on PATH.
use_java17() {
  local home
  home="$(find_java17_home)" || die "no Java 17 runtime found: set JAVA_HOME to a Java 17 JDK or JRE (Debian: apt-get install openjdk-17-jdk-headless)"
  export JAVA_HOME="$home"
  export PATH="$JAVA_HOME/bin:$PATH"
}

# The Java 17 module openings every sparkvit JVM needs, from submit/jvm.properties (the one copy).
jvm_opens() {
  local file="$SPARKVIT_ROOT/submit/jvm.properties" opens
  [[ -f "$file" ]] || die "missing $file (the Java 17 --add-opens list)"
  opens="$(sed -n 's/^jvm\.opens=//p' "$file")"
  [[ -n "$opens" ]] || die "no jvm.opens= line in $file"
  printf '%s\n' "$opens"
}

# Prints the SPARK_HOME to use ($SPARK_HOME, else the distribution spark-dist.sh installs) after checking that it
# is a Spark $SPARK_VERSION whose jars/ carries Scala 2.12.15 and not Spark's own 2.12.10.
spark_home() {
  local home="${SPARK_HOME:-$SPARKVIT_SPARK_HOME}"
  [[ -x "$home/bin/spark-submit" && -d "$home/jars" ]] \
    || die "no Spark distribution at $home: run submit/spark-dist.sh (or set SPARK_HOME to a Spark $SPARK_VERSION)"
  [[ -f "$home/jars/spark-core_2.12-$SPARK_VERSION.jar" ]] \
    || die "$home is not Spark $SPARK_VERSION (no jars/spark-core_2.12-$SPARK_VERSION.jar)"
  [[ -f "$home/jars/scala-library-2.12.15.jar" && ! -e "$home/jars/scala-library-2.12.10.jar" ]] \
    || die "$home/jars does not carry scala-library-2.12.15.jar in place of 2.12.10 (Java 17 lambda deserialization fails with 2.12.10): run submit/spark-dist.sh, which swaps it"
  printf '%s\n' "$home"
}
