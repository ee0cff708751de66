package dev.sparkvit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build check of issue 23: the product jar ({@code spark-jobs/target/sparkvit.jar}) and the model's jar, built
 * by the reactor before this module, hold no benchmark or prototype class. It runs in {@code make test} (the bench module is in the
 * default reactor) and fails the build when one is put back.
 */
class ProductJarTest {

    /**
     * A benchmark or prototype class: any class under a {@code bench} package, or whose name says bench, benchmark
     * or prototype, or a top-level class named {@code *Timing} (the timing mains; a nested {@code X$Timing} is a
     * product's record of its own phase times), whatever its package.
     */
    private static final Pattern BENCH_CLASS = Pattern.compile(
            "(?i)(^|/)bench/.*\\.class$|[^/]*(bench|prototype)[^/]*\\.class$|/[^/$]*Timing(\\$[^/]*)?\\.class$");

    /** The class entries of {@code jar} that are benchmark or prototype classes. */
    static List<String> benchClasses(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            return file.stream().map(JarEntry::getName).filter(n -> BENCH_CLASS.matcher(n).find()).sorted().toList();
        }
    }

    @Test
    void theProductJarsHoldNoBenchmarkOrPrototypeClass() throws IOException {
        String property = System.getProperty("sparkvit.productJars");
        assertTrue(property != null, "sparkvit.productJars is not set (the bench module's surefire configuration)");
        List<String> jars = List.of(property.split(","));
        assertEquals(2, jars.size(), property);
        for (String name : jars) {
            Path jar = Path.of(name);
            assertTrue(Files.isRegularFile(jar), "no jar at " + jar + ": build it in the same reactor (mvn verify)");
            long classes;
            try (JarFile file = new JarFile(jar.toFile())) {
                classes = file.stream().filter(e -> e.getName().startsWith("dev/sparkvit/")
                        && e.getName().endsWith(".class")).count();
            }
            assertTrue(classes > 50, jar + " holds " + classes + " sparkvit classes: not a product jar");
            assertEquals(List.of(), benchClasses(jar), jar + " holds benchmark or prototype classes; they belong in "
                    + "the bench module (bench/src/main/java)");
        }
    }

    @Test
    void aBenchmarkOrPrototypeClassInAJarIsFound(@TempDir Path tmp) throws IOException {
        Path jar = tmp.resolve("product.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            for (String name : List.of("dev/sparkvit/cli/Main.class", "dev/sparkvit/jobs/bench/Timing.class",
                    "dev/sparkvit/cli/GemmBenchCommand.class", "dev/sparkvit/engine/BarrierSegmentTiming.class",
                    "dev/sparkvit/jobs/pretrain/PretrainJob.class", "dev/sparkvit/bench/cli/BenchMain.class",
                    "dev/sparkvit/jobs/IterationsPerJobPrototype$1.class", "dev/sparkvit/data/package-info.class",
                    "dev/sparkvit/engine/BarrierSegment$Timing.class")) {
                out.putNextEntry(new JarEntry(name));
                out.write(new byte[] {(byte) 0xCA, (byte) 0xFE});
                out.closeEntry();
            }
        }
        assertEquals(List.of("dev/sparkvit/bench/cli/BenchMain.class", "dev/sparkvit/cli/GemmBenchCommand.class",
                "dev/sparkvit/engine/BarrierSegmentTiming.class", "dev/sparkvit/jobs/IterationsPerJobPrototype$1.class",
                "dev/sparkvit/jobs/bench/Timing.class"), benchClasses(jar));
    }
}
