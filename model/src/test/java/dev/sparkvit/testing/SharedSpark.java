package dev.sparkvit.testing;

import dev.sparkvit.engine.SparkSessions;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One local[2] Spark session with BigDL's Engine started, shared by every test class in the JVM (Surefire runs all
 * classes in one fork). Use {@code @ExtendWith(SharedSpark.class)} and {@link #session()}; it stops when the whole
 * test run ends.
 */
public final class SharedSpark implements BeforeAllCallback {
    /** Cores of the shared local master: two, so every test exercises more than one model replica. */
    public static final int CORES = 2;

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SharedSpark.class);
    private static SparkSession session;

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent("spark",
                key -> (ExtensionContext.Store.CloseableResource) SharedSpark::stop,
                ExtensionContext.Store.CloseableResource.class);
        session();
    }

    public static synchronized SparkSession session() {
        if (session == null) {
            // before MKL first computes (docs/ENGINE.md, "MKL on AMD"): DLlib's own layers call MKL without passing
            // through sparkvit's classes, and MKL's generic path on AMD rounds differently from call to call, which
            // the tests comparing runs bit for bit would see
            dev.sparkvit.engine.blas.MklCpuDispatch.configure();
            session = SparkSessions.local(CORES, "sparkvit-tests");
        }
        return session;
    }

    public static JavaSparkContext context() {
        return JavaSparkContext.fromSparkContext(session().sparkContext());
    }

    private static synchronized void stop() {
        if (session != null) {
            session.stop();
            session = null;
        }
    }
}
