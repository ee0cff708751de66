package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.utils.Engine$;
import org.apache.spark.SparkConf;
import scala.Tuple2;

/**
 * Spark settings and start-up of BigDL's Engine.
 *
 * <p>BigDL ships its required Spark settings in {@code spark-bigdl.conf} (JavaSerializer, no speculation, no reduce
 * locality, wait for all executors). {@code Engine.createSparkConf} copies them over a conf, but it also
 * <em>replaces</em> {@code spark.driver.extraJavaOptions} with {@code -Dlog4j2.info}, which would drop the Java 17
 * {@code --add-opens} in cluster mode. {@link #configure(SparkConf)} applies every other setting and appends to the
 * JVM options instead.
 */
public final class BigDlEngine {
    private static final String DRIVER_JAVA_OPTIONS = "spark.driver.extraJavaOptions";

    private BigDlEngine() {
    }

    /** Applies BigDL's required Spark settings to {@code conf} and returns it. */
    public static SparkConf configure(SparkConf conf) {
        SparkConf required = Engine$.MODULE$.createSparkConf(new SparkConf(false));
        for (Tuple2<String, String> entry : required.getAll()) {
            String key = entry._1();
            String value = entry._2();
            if (key.equals(DRIVER_JAVA_OPTIONS)) {
                String existing = conf.get(key, "").trim();
                if (!existing.contains(value)) {
                    conf.set(key, existing.isEmpty() ? value : existing + " " + value);
                }
            } else {
                conf.set(key, value);
            }
        }
        return conf;
    }

    /**
     * Starts the Engine against the running SparkContext: it reads the executor and core counts from the Spark
     * master ({@code local[N]} gives one node of N cores) and sizes its thread pools. Call after the SparkContext
     * exists; safe to call again.
     */
    public static void init() {
        Engine$.MODULE$.init();
    }

    /** Executors the Engine trains on (1 in local mode). */
    public static int nodeNumber() {
        return Engine$.MODULE$.nodeNumber();
    }

    /** Cores per executor the Engine uses; with the default MklBlas engine, one model replica per core. */
    public static int coreNumber() {
        return Engine$.MODULE$.coreNumber();
    }

    /** Model replicas: executors x cores, one barrier task each ({@code BarrierSegment}). */
    public static int replicas() {
        return nodeNumber() * coreNumber();
    }
}
