package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An attempt's executors: one that disappears is lost even when a replacement (a new id) has come; a new executor
 * alone loses nothing. (On a real cluster: ClusterExecutorKillTest, make reliability.)
 */
@ExtendWith(dev.sparkvit.testing.SharedSpark.class)
class ExecutorWatchTest {
    @Test
    void anExecutorGoneIsLostEvenAfterItsReplacementRegistered() {
        List<String> alive = new ArrayList<>(List.of("0", "1"));
        ExecutorWatch watch = new ExecutorWatch(() -> List.copyOf(alive));
        assertEquals(List.of("0", "1"), watch.started());
        watch.requireIntact("now");
        alive.add("2");
        assertEquals(List.of(), watch.lost(), "a new executor loses nothing");
        alive.remove("1");
        assertEquals(List.of("1"), watch.lost());
        ExecutorWatch.ExecutorLostException lost = assertThrows(ExecutorWatch.ExecutorLostException.class,
                () -> watch.requireIntact("during iterations 4 to 6"));
        assertEquals(List.of("1"), lost.lost());
        assertTrue(lost.getMessage().startsWith("executor 1 was lost during iterations 4 to 6: its cached training "
                + "data and read positions are gone"), lost.getMessage());
    }

    @Test
    void localModeHasNoExecutorsToLose() {
        assertEquals(List.of(), ExecutorWatch.executorIds(dev.sparkvit.testing.SharedSpark.session().sparkContext()));
    }
}
