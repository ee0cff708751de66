package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.engine.DataParallelStepCheck.Kind;
import dev.sparkvit.engine.LayoutExactness.Difference;
import dev.sparkvit.engine.LayoutExactness.Measured;
import dev.sparkvit.testing.ChildJvm;
import dev.sparkvit.testing.Reliability;
import dev.sparkvit.testing.SharedSpark;
import dev.sparkvit.testing.StandaloneCluster;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 21's first "done when": local[2], local[4] and a two-executor standalone cluster give the loss and the
 * gradient of one replica on the whole batch within relative 1e-5, for cross-entropy and for NT-Xent over the global
 * batch ({@link LayoutExactness}: the same fixed batch of 8 everywhere). local[2] runs on the shared session,
 * local[4] in a child JVM (a JVM holds one SparkContext); the standalone cluster (real executor JVMs, every exchange
 * over Netty between processes) is {@link Reliability}: {@code make reliability RELIABILITY_TEST=LayoutExactnessTest}.
 */
@ExtendWith(SharedSpark.class)
class LayoutExactnessTest {
    @Test
    void local2EqualsOneReplica() {
        List<String> lines = LayoutExactness.check(SharedSpark.context(), "local[2]", 2);
        lines.forEach(l -> System.out.println("LayoutExactnessTest: " + l));
        assertEquals(2, lines.size());
    }

    @Test
    void local4EqualsOneReplica(@TempDir Path tmp) throws Exception {
        List<String> lines = child(tmp, "local4", List.of("4", "local[4]", "4"), Map.of(), List.of());
        assertTrue(lines.get(0).contains("T=4"), lines.get(0));
    }

    /**
     * The comparison is able to fail: on the real reference numbers, a gradient off by a factor of 1 + 2e-5 (a
     * summation error twice the bound), half the gradient (the slices' gradients averaged once too often), a loss off
     * by 2e-5 and a NaN are all rejected; the reference itself and a 5e-6 perturbation are accepted.
     */
    @Test
    void theComparisonRejectsAWrongScaling() {
        for (Kind kind : new Kind[] {Kind.CROSS_ENTROPY, Kind.NT_XENT}) {
            Measured reference = LayoutExactness.reference(kind);
            assertTrue(Difference.of(reference, reference).within(LayoutExactness.RELATIVE), kind + ": itself");
            assertTrue(Difference.of(scaled(reference, 1, 1 + 5e-6), reference).within(LayoutExactness.RELATIVE),
                    kind + ": 5e-6");
            Difference slightly = Difference.of(scaled(reference, 1, 1 + 2e-5), reference);
            Difference half = Difference.of(scaled(reference, 1, 0.5), reference);
            Difference loss = Difference.of(scaled(reference, 1 + 2e-5, 1), reference);
            Difference nan = Difference.of(new Measured(Double.NaN, reference.gradient()), reference);
            System.out.printf("LayoutExactnessTest: %s controls: gradient x (1 + 2e-5) -> %.2e, x 0.5 -> %.2e, "
                    + "loss x (1 + 2e-5) -> %.2e%n", kind, slightly.gradient(), half.gradient(), loss.loss());
            assertFalse(slightly.within(LayoutExactness.RELATIVE), kind + ": " + slightly);
            assertFalse(half.within(LayoutExactness.RELATIVE), kind + ": " + half);
            assertFalse(loss.within(LayoutExactness.RELATIVE), kind + ": " + loss);
            assertFalse(nan.within(LayoutExactness.RELATIVE), kind + ": " + nan);
        }
    }

    private static Measured scaled(Measured m, double lossFactor, double gradientFactor) {
        float[] g = m.gradient().clone();
        for (int i = 0; i < g.length; i++) {
            g[i] = (float) (g[i] * gradientFactor);
        }
        return new Measured(m.loss() * lossFactor, g);
    }

    /**
     * Two executors of one core on a real standalone cluster of this machine (its own master and workers on free
     * ports), the driver in a child JVM with this JVM's classes in {@code spark.jars}: every task in its own executor
     * JVM. About 1-2 minutes.
     */
    @Test
    @Reliability
    void aTwoExecutorStandaloneClusterEqualsOneReplica(@TempDir Path tmp) throws Exception {
        String sparkHome = StandaloneCluster.sparkHome(tmp.resolve("logs"));
        try (StandaloneCluster cluster = new StandaloneCluster(tmp.resolve("cluster"), sparkHome)) {
            cluster.up();
            List<String> jars = StandaloneCluster.applicationJars(tmp.resolve("jars"), sparkHome);
            List<String> lines = child(tmp, "standalone", List.of(cluster.masterUrl(), "standalone", "2"),
                    cluster.env(), List.of("-Dsparkvit.check.jars=" + String.join(",", jars)));
            for (String line : lines) {
                assertTrue(line.contains("T=2") && line.matches(".*\\(executors \\[(0, 1|1, 0)\\]\\).*"),
                        "one task in each of the two executors: " + line);
            }
        }
    }

    /** {@link LayoutExactness#main} in a child JVM; its two OK lines, printed. */
    private static List<String> child(Path tmp, String name, List<String> args, Map<String, String> env,
            List<String> properties) throws Exception {
        List<String> command = new ArrayList<>(ChildJvm.command("1g", LayoutExactness.class.getName(), args));
        command.addAll(1, properties);
        StandaloneCluster.Run run = StandaloneCluster.run(tmp.resolve("logs"), name, command, env, 6);
        assertEquals(0, run.exit(), run.output());
        List<String> lines = run.stdout().lines().filter(l -> l.startsWith("OK ")).toList();
        lines.forEach(l -> System.out.println("LayoutExactnessTest: " + l));
        assertEquals(2, lines.size(), run.output());
        return lines;
    }
}
