package dev.sparkvit.jobs.evaluate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkvit.jobs.evaluate.ClassificationMetrics.ClassScore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class ClassificationMetricsTest {
    private static final double EPS = 1e-12;
    private static final List<String> CLASSES = List.of("cat", "dog", "bird");

    /*
     * 10 examples, confusion [true][predicted]:
     *
     *              cat  dog  bird | support
     *   cat          4    1     0 |   5
     *   dog          2    1     0 |   3
     *   bird         1    1     0 |   2
     *   predicted    7    3     0
     *
     * accuracy = (4 + 1 + 0) / 10 = 0.5
     * cat:  P = 4/7, R = 4/5, F1 = 2*(16/35) / (4/7 + 4/5) = (32/35) / (48/35) = 2/3
     * dog:  P = 1/3, R = 1/3, F1 = 1/3
     * bird: never predicted, so P = 0 by convention; R = 0/2 = 0; F1 = 0
     * macro F1 = (2/3 + 1/3 + 0) / 3 = 1/3
     */
    private static final int[] LABELS = {0, 1, 2, 0, 0, 1, 2, 0, 1, 0};
    private static final int[] PREDICTIONS = {0, 0, 1, 1, 0, 1, 0, 0, 0, 0};

    private static ClassificationMetrics handWorked() {
        return ClassificationMetrics.of(CLASSES, LABELS, PREDICTIONS, 0.75);
    }

    @Test
    void matchesHandComputedScores() {
        ClassificationMetrics m = handWorked();
        assertEquals(10, m.count());
        assertEquals(CLASSES, m.classNames());
        assertEquals(0.75, m.meanLoss());
        assertEquals(0.5, m.accuracy(), EPS);
        assertArrayEquals(new long[] {4, 1, 0}, m.confusion()[0]);
        assertArrayEquals(new long[] {2, 1, 0}, m.confusion()[1]);
        assertArrayEquals(new long[] {1, 1, 0}, m.confusion()[2]);
        List<ClassScore> scores = m.perClass();
        assertScore(scores.get(0), "cat", 4.0 / 7, 4.0 / 5, 2.0 / 3, 5);
        assertScore(scores.get(1), "dog", 1.0 / 3, 1.0 / 3, 1.0 / 3, 3);
        assertScore(scores.get(2), "bird", 0, 0, 0, 2);
        assertEquals(1.0 / 3, m.macroF1(), EPS);
    }

    /*
     * 3 classes, 2 examples: labels [0, 0], predictions [0, 1].
     * class 0: P = 1/1, R = 1/2, F1 = 2*1 / (2*1 + 0 + 1) = 2/3
     * class 1: no examples but predicted once: P = 0/1 = 0, R = 0 (no support), F1 = 0
     * class 2: neither present nor predicted: P = R = F1 = 0, still counted in the macro mean
     * macro F1 = (2/3 + 0 + 0) / 3 = 2/9
     */
    @Test
    void absentClassesScoreZeroAndCountInTheMacroMean() {
        ClassificationMetrics m = ClassificationMetrics.of(List.of("a", "b", "c"), new int[] {0, 0},
                new int[] {0, 1}, Double.NaN);
        assertEquals(0.5, m.accuracy(), EPS);
        assertScore(m.perClass().get(0), "a", 1, 0.5, 2.0 / 3, 2);
        assertScore(m.perClass().get(1), "b", 0, 0, 0, 0);
        assertScore(m.perClass().get(2), "c", 0, 0, 0, 0);
        assertEquals(2.0 / 9, m.macroF1(), EPS);
    }

    @Test
    void perfectPredictionsScoreOne() {
        ClassificationMetrics m = ClassificationMetrics.of(List.of("only"), new int[] {0, 0, 0},
                new int[] {0, 0, 0}, 0.0);
        assertEquals(1.0, m.accuracy(), EPS);
        assertEquals(1.0, m.macroF1(), EPS);
        assertScore(m.perClass().get(0), "only", 1, 1, 1, 3);
    }

    @Test
    void confusionIsACopy() {
        ClassificationMetrics m = handWorked();
        m.confusion()[0][0] = 99;
        assertEquals(4, m.confusion()[0][0]);
    }

    @Test
    void rejectsBadInputsNamingTheProblem() {
        assertMessage(() -> ClassificationMetrics.of(CLASSES, new int[] {0, 1}, new int[] {0}, 0),
                "2 labels but 1 predictions");
        assertMessage(() -> ClassificationMetrics.of(CLASSES, new int[0], new int[0], 0), "at least one example");
        assertMessage(() -> ClassificationMetrics.of(List.of(), new int[] {0}, new int[] {0}, 0),
                "at least one class");
        assertMessage(() -> ClassificationMetrics.of(CLASSES, new int[] {0, 1, 3}, new int[] {0, 1, 2}, 0),
                "labels[2] = 3 is not a class index in [0, 3)");
        assertMessage(() -> ClassificationMetrics.of(CLASSES, new int[] {0, 1}, new int[] {-1, 1}, 0),
                "predictions[0] = -1 is not a class index in [0, 3)");
        assertMessage(() -> ClassificationMetrics.of(List.of("a", "b", "a"), new int[] {0}, new int[] {0}, 0),
                "\"a\" is repeated");
    }

    @Test
    void jsonRoundTripsThroughJackson(@TempDir Path dir) throws IOException {
        Map<String, ClassificationMetrics> variants = new LinkedHashMap<>();
        variants.put("live", handWorked());
        variants.put("ema", ClassificationMetrics.of(CLASSES, LABELS, LABELS, Double.NaN));
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("checkpoint", "ckpt-000120");
        extra.put("images", 10);
        Path file = dir.resolve("sub/metrics.json");
        ClassificationMetrics.writeJson(variants, extra, file);

        JsonNode root = new ObjectMapper().readTree(file.toFile());
        assertEquals(List.of("variants", "checkpoint", "images"), fieldNames(root));
        assertEquals(List.of("live", "ema"), fieldNames(root.get("variants")));
        assertEquals("ckpt-000120", root.get("checkpoint").asText());
        assertEquals(10, root.get("images").asInt());
        JsonNode live = root.get("variants").get("live");
        assertEquals(10, live.get("count").asLong());
        assertEquals(0.5, live.get("accuracy").asDouble(), EPS);
        assertEquals(1.0 / 3, live.get("macro_f1").asDouble(), EPS);
        assertEquals(0.75, live.get("mean_loss").asDouble(), EPS);
        assertEquals("bird", live.get("classes").get(2).asText());
        JsonNode cat = live.get("per_class").get(0);
        assertEquals("cat", cat.get("name").asText());
        assertEquals(4.0 / 7, cat.get("precision").asDouble(), EPS);
        assertEquals(5, cat.get("support").asLong());
        assertEquals(2, live.get("confusion").get(1).get(0).asLong());
        JsonNode ema = root.get("variants").get("ema");
        assertTrue(ema.get("mean_loss").isNull(), "NaN loss is written as null: " + ema.get("mean_loss"));
        assertEquals(1.0, ema.get("accuracy").asDouble(), EPS);
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void jsonExtraCannotReplaceTheVariants(@TempDir Path dir) {
        assertMessage(() -> ClassificationMetrics.writeJson(Map.of("live", handWorked()), Map.of("variants", 1),
                dir.resolve("m.json")), "reserved key \"variants\"");
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static void assertScore(ClassScore s, String name, double precision, double recall, double f1,
            long support) {
        assertEquals(name, s.name());
        assertEquals(precision, s.precision(), EPS, name + " precision");
        assertEquals(recall, s.recall(), EPS, name + " recall");
        assertEquals(f1, s.f1(), EPS, name + " f1");
        assertEquals(support, s.support(), name + " support");
    }

    private static void assertMessage(Executable call, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expected), "message \"" + e.getMessage() + "\" should contain \""
                + expected + "\"");
    }
}
