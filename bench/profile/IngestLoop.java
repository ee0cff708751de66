import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestResult;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.engine.SparkSessions;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import one.profiler.AsyncProfiler;
import org.apache.spark.sql.SparkSession;

/**
 * The ingest job run again and again in one local[1] JVM, the later runs under async-profiler (bench/profile/
 * ingest-profile.sh runs it). Args: INPUTS (comma-separated folders, taken in turn) WARMUPS RUNS LIBASYNCPROFILER
 * OUT (collapsed stacks, one line per stack, thread name first) SCRATCH. Prints wall and process CPU per run.
 */
public final class IngestLoop {
    public static void main(String[] args) throws Exception {
        String[] inputs = args[0].split(",");
        int warmups = Integer.parseInt(args[1]);
        int runs = Integer.parseInt(args[2]);
        AsyncProfiler profiler = AsyncProfiler.getInstance(args[3]);
        Path scratch = Path.of(args[5]);
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        SparkSession spark = SparkSessions.local(1, "ingest profile");
        try {
            for (int i = 0; i < warmups + runs; i++) {
                if (i == warmups) {
                    profiler.execute("start,event=cpu,interval=1ms,threads");
                }
                Path out = scratch.resolve("ingest-" + i);
                long cpu = os.getProcessCpuTime();
                long start = System.nanoTime();
                IngestResult r = new IngestJob(IngestSettings.defaults(inputs[i % inputs.length], out.toString())
                        .withStoredSize(32)).execute(spark);
                System.out.printf("run %d%s: %d files, wall %.2f s, process CPU %.2f s%n", i,
                        i < warmups ? " (warm-up)" : "", r.inputFiles(), (System.nanoTime() - start) / 1e9,
                        (os.getProcessCpuTime() - cpu) / 1e9);
                try (Stream<Path> walk = Files.walk(out)) {
                    walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
            profiler.execute("stop,file=" + args[4] + ",collapsed");
        } finally {
            spark.stop();
        }
    }
}
