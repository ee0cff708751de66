#!/usr/bin/env bash
# Entry point of the sparkvit image, after Spark 3.1.3's kubernetes/dockerfiles/spark/entrypoint.sh (which the
# pyspark-based distribution of submit/spark-dist.sh does not carry). Spark starts the driver pod with
# "driver ARGS" and executor pods with "executor" plus SPARK_* environment variables; anything else is run as is.
set -euo pipefail
SPARK_CLASSPATH="${SPARK_CLASSPATH:+$SPARK_CLASSPATH:}$SPARK_HOME/jars/*"
case "${1:-}" in
  driver)
    shift
    exec /usr/bin/tini -s -- "$SPARK_HOME/bin/spark-submit" \
      --conf "spark.driver.bindAddress=$SPARK_DRIVER_BIND_ADDRESS" --deploy-mode client "$@"
    ;;
  executor)
    shift
    # spark.executor.extraJavaOptions (the --add-opens) arrive as SPARK_JAVA_OPT_0, _1, ... in order
    mapfile -t JAVA_OPTS < <(env | grep '^SPARK_JAVA_OPT_' | sort -t_ -k4 -n | sed 's/[^=]*=\(.*\)/\1/')
    exec /usr/bin/tini -s -- "$JAVA_HOME/bin/java" "${JAVA_OPTS[@]}" \
      -Xms"$SPARK_EXECUTOR_MEMORY" -Xmx"$SPARK_EXECUTOR_MEMORY" -cp "$SPARK_CLASSPATH" \
      org.apache.spark.executor.CoarseGrainedExecutorBackend --driver-url "$SPARK_DRIVER_URL" \
      --executor-id "$SPARK_EXECUTOR_ID" --cores "$SPARK_EXECUTOR_CORES" --app-id "$SPARK_APPLICATION_ID" \
      --hostname "$SPARK_EXECUTOR_POD_IP" --resourceProfileId "$SPARK_RESOURCE_PROFILE_ID"
    ;;
  *) exec /usr/bin/tini -s -- "$@" ;;
esac
