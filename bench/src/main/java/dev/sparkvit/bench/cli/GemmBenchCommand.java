package dev.sparkvit.bench.cli;

import dev.sparkvit.bench.BenchResults;
import dev.sparkvit.bench.GemmBenchmark;
import dev.sparkvit.bench.Measurement;
import dev.sparkvit.bench.OpenBlasThreads;
import dev.sparkvit.cli.ExitCodes;
import dev.sparkvit.engine.blas.MklCpuDispatch;
import dev.sparkvit.engine.blas.MklSgemm;
import dev.sparkvit.engine.blas.OpenBlasLibrary;
import dev.sparkvit.engine.blas.OpenBlasSgemm;
import dev.sparkvit.engine.blas.Sgemm;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sparkvit bench gemm}: square sgemm GFLOP/s of the GEMM backends, at one thread count per JVM (OpenBLAS
 * fixes its threads when it loads). No Spark session.
 */
@Command(name = "gemm", mixinStandardHelpOptions = true,
        description = "Measure square sgemm GFLOP/s of BigDL's bundled MKL and of OpenBLAS at one thread count. "
                + "With openblas and --threads N > 1, start it with OPENBLAS_NUM_THREADS=N.")
final class GemmBenchCommand implements Callable<Integer> {
    @Option(names = "--sizes", split = ",", defaultValue = "256,512,1024,2048",
            description = "Matrix sides n (default: ${DEFAULT-VALUE}).")
    List<Integer> sizes;

    @Option(names = "--threads", defaultValue = "1",
            description = "Threads per product: MKL's setting; OpenBLAS's must match OPENBLAS_NUM_THREADS "
                    + "(default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--repeats", defaultValue = "5", description = "Timed samples per size and backend "
            + "(default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--backends", split = ",", defaultValue = "mkl,openblas",
            description = "Backends to measure, of mkl, openblas (default: ${DEFAULT-VALUE}).")
    List<String> backends;

    @Option(names = "--json", description = "Also write the measurements to this JSON file (bench/report.py reads it).")
    Path json;

    @Override
    public Integer call() {
        GemmBenchmark benchmark = new GemmBenchmark(sizes, repeats, threads);
        Map<String, Object> notes = new LinkedHashMap<>();
        List<Sgemm> selected = new ArrayList<>();
        for (String name : backends) {
            switch (name.trim()) {
                case "mkl" -> {
                    MklSgemm.setThreads(threads);
                    selected.add(MklSgemm.INSTANCE);
                }
                case "openblas" -> {
                    OpenBlasThreads.requireAgrees(threads, System.getenv(OpenBlasThreads.ENV));
                    OpenBlasSgemm openBlas = OpenBlasSgemm.load(openBlasLibrary());
                    notes.put("openblas_library", openBlas.library().toString());
                    selected.add(openBlas);
                }
                default -> throw new IllegalArgumentException("--backends: unknown backend '" + name
                        + "'; expected mkl, openblas");
            }
        }
        notes.put("threads", threads);
        notes.put("mkl_code_path", MklCpuDispatch.configure().reason());
        System.out.println("sparkvit bench gemm: n " + sizes + ", " + threads + " thread(s), " + repeats
                + " samples each, backends " + backends);
        List<Measurement> results = benchmark.run(selected);
        results.forEach(System.out::println);
        if (json != null) {
            BenchResults.write(json, "gemm", notes, results);
        }
        return ExitCodes.OK;
    }

    /** The configured library when one is set; else Debian's serial build for one thread, its pthread build else. */
    private Path openBlasLibrary() {
        boolean configured = System.getProperty(OpenBlasLibrary.PROPERTY) != null
                || System.getenv(OpenBlasLibrary.ENV) != null;
        if (configured) {
            return OpenBlasLibrary.configured();
        }
        return threads == 1 ? OpenBlasLibrary.DEBIAN_SERIAL : OpenBlasLibrary.DEBIAN_PTHREAD;
    }
}
