package dev.sparkvit.engine;

import dev.sparkvit.engine.blas.MklCpuDispatch;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Starts a SparkSession that BigDL's Engine can train on. */
public final class SparkSessions {
    private SparkSessions() {
    }

    /**
     * Gets or creates the session with BigDL's required settings applied over {@code conf}, then starts the Engine.
     * A master set by spark-submit wins; {@code defaultMaster} is used only when none is set.
     */
    public static SparkSession start(SparkConf conf, String defaultMaster) {
        // before anything computes: a model of DLlib's own layers (no FloatModule) would otherwise reach MKL first,
        // on its slow and address-dependent path on AMD CPUs (docs/ENGINE.md, "MKL on AMD CPUs")
        MklCpuDispatch.configure();
        if (!conf.contains("spark.master")) {
            conf.setMaster(defaultMaster);
        }
        // Adaptive execution coalesces the 200 default shuffle partitions to what the data needs; jobs over a few
        // thousand images otherwise spend most of their time scheduling empty tasks. User settings win.
        conf.setIfMissing("spark.sql.adaptive.enabled", "true");
        conf.setIfMissing("spark.sql.adaptive.coalescePartitions.enabled", "true");
        // A barrier stage must launch all its tasks in one round of offers; with delay scheduling a task waiting for
        // its cached partition's executor fails the whole stage ("Fail resource offers for barrier stage ... set
        // spark.locality.wait=0", seen after an executor-loss restart in ExecutorKillTest). A task placed elsewhere
        // reads its partition remotely. User settings win.
        conf.setIfMissing("spark.locality.wait", "0");
        // file: paths in this JVM (the driver, and local mode's executors) without a chmod process per file written
        NioLocalFileSystem.install();
        BigDlEngine.configure(conf);
        SparkSession session = SparkSession.builder().config(conf).getOrCreate();
        BigDlEngine.init();
        return session;
    }

    /** A quiet local session on loopback: no UI, few shuffle partitions. For tests, the demo and tools. */
    public static SparkSession local(int cores, String appName) {
        SparkConf conf = new SparkConf()
                .setAppName(appName)
                .set("spark.ui.enabled", "false")
                .set("spark.ui.showConsoleProgress", "false")
                .set("spark.sql.shuffle.partitions", String.valueOf(2 * cores))
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1");
        return start(conf, "local[" + cores + "]");
    }
}
