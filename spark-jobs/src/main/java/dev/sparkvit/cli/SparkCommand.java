package dev.sparkvit.cli;

import dev.sparkvit.engine.Blas;
import dev.sparkvit.engine.SparkSessions;
import dev.sparkvit.engine.blas.MklCpuDispatch;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Option;

/**
 * Options and session start-up shared by the commands that run Spark jobs (public for the bench module's commands).
 */
public abstract class SparkCommand {
    @Option(names = "--master", defaultValue = "local[2]",
            description = "Spark master when not launched by spark-submit (default: ${DEFAULT-VALUE}).")
    protected String master;

    /**
     * A local master must name at least one thread (Spark's own error comes with a stack trace from inside the
     * SparkContext); cluster masters are left to Spark.
     */
    static void requireValidLocalMaster(String master) {
        if (master != null && master.startsWith("local[")
                && !master.matches("local\\[(\\*|[1-9][0-9]{0,5})(,\\s*[1-9][0-9]{0,5})?]")) {
            throw new IllegalArgumentException("--master " + master + " is invalid: expected local, local[N] or "
                    + "local[N,F] with N and F at least 1, local[*], or a cluster URL");
        }
    }

    /**
     * How to name a file a job wrote into the run folder {@code output} (a local path or a Hadoop URI): its place
     * there, not the working copy of a remote folder (dev.sparkvit.storage.RunFolder).
     */
    static String inRun(String output, java.nio.file.Path file) {
        return file == null ? null : dev.sparkvit.storage.Locations.resolve(output, file.getFileName().toString());
    }

    /**
     * The Hadoop configuration a registry or dataset is reached with before Spark starts (to take its lock): the
     * Hadoop files on the classpath
     * (HADOOP_CONF_DIR under spark-submit) and the {@code spark.hadoop.*} settings, as Spark's own would have.
     */
    static org.apache.hadoop.conf.Configuration hadoopConfiguration() {
        org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration();
        for (scala.Tuple2<String, String> entry : new org.apache.spark.SparkConf().getAllWithPrefix("spark.hadoop.")) {
            conf.set(entry._1(), entry._2());
        }
        return conf;
    }

    protected SparkSession startSpark(String appName) {
        // Chooses and logs this JVM's GEMM backend before Spark starts, so a bad sparkvit.blas / SPARKVIT_BLAS fails
        // at once; each executor JVM chooses its own from its own settings (docs/ENGINE.md, "BLAS backend"). The
        // same for MKL's code path (sparkvit.mkl.cpu), which must be chosen before MKL first computes.
        requireValidLocalMaster(master);
        MklCpuDispatch.configure();
        Blas.gemmBackend();
        return SparkSessions.start(new SparkConf().setAppName(appName)
                .set("spark.ui.showConsoleProgress", "false"), master);
    }
}
