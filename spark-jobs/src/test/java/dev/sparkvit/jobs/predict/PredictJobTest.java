package dev.sparkvit.jobs.predict;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The row of one prediction: the k most probable classes, most probable first, ties to the lower class index. */
class PredictJobTest {
    private static final List<String> CLASSES = List.of("ant", "bee", "cat", "dog", "eel");

    private static void assertPrediction(float[] probabilities, int k, String[] labels, Float[] values) {
        Row row = PredictJob.prediction("/in/x.png", probabilities, CLASSES, k);
        assertEquals("/in/x.png", row.getString(0));
        assertArrayEquals(labels, (String[]) row.get(1));
        assertArrayEquals(values, (Float[]) row.get(2));
        assertNull(row.get(3), "no reject reason");
        assertNull(row.get(4), "no reject detail");
    }

    @Test
    void labelsComeMostProbableFirstAndKIsRespected() {
        float[] p = {0.05f, 0.4f, 0.1f, 0.3f, 0.15f};
        assertPrediction(p, 1, new String[] {"bee"}, new Float[] {0.4f});
        assertPrediction(p, 3, new String[] {"bee", "dog", "eel"}, new Float[] {0.4f, 0.3f, 0.15f});
        assertPrediction(p, 5, new String[] {"bee", "dog", "eel", "cat", "ant"},
                new Float[] {0.4f, 0.3f, 0.15f, 0.1f, 0.05f});
    }

    @Test
    void tiesGoToTheLowerClassIndex() {
        // two ties: bee and dog at 0.3, ant and cat at 0.1 (only ant makes the top 4)
        float[] p = {0.1f, 0.3f, 0.1f, 0.3f, 0.2f};
        assertPrediction(p, 4, new String[] {"bee", "dog", "eel", "ant"}, new Float[] {0.3f, 0.3f, 0.2f, 0.1f});
        float[] uniform = {0.2f, 0.2f, 0.2f, 0.2f, 0.2f};
        assertPrediction(uniform, 2, new String[] {"ant", "bee"}, new Float[] {0.2f, 0.2f});
    }
}
