package dev.sparkvit.cli;

import dev.sparkvit.engine.Blas;
import dev.sparkvit.engine.SparkSessions;
import dev.sparkvit.engine.blas.MklCpuDispatch;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Option;

/** Options and session start-up shared by the commands that run Spark jobs. */
abstract class SparkCommand {
    @Option(names = "--master", defaultValue = "local[2]",
            description = "Spark master when not launched by spark-submit (default: ${DEFAULT-VALUE}).")
    String master;

    SparkSession startSpark(String appName) {
        // Chooses and logs this JVM's GEMM backend before Spark starts, so a bad sparkvit.blas / SPARKVIT_BLAS fails
        // at once; each executor JVM chooses its own from its own settings (docs/ENGINE.md, "BLAS backend"). The
        // same for MKL's code path (sparkvit.mkl.cpu), which must be chosen before MKL first computes.
        MklCpuDispatch.configure();
        Blas.gemmBackend();
        return SparkSessions.start(new SparkConf().setAppName(appName)
                .set("spark.ui.showConsoleProgress", "false"), master);
    }
}
