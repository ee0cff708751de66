package dev.sparkvit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TimingTest {

    @Test
    void alternatedRunsTakeTurnsAfterTheWarmUpPairsAndTimeEachRunOnItsOwn() {
        List<String> order = new ArrayList<>();
        Timing.Runs[] runs = Timing.alternated(3, 2, () -> order.add("a"), () -> {
            order.add("b");
            sleep(30);
        });
        assertEquals(List.of("a", "b", "a", "b", "a", "b", "a", "b", "a", "b"), order);
        assertEquals(2, runs.length);
        for (Timing.Runs r : runs) {
            assertEquals(3, r.wall().length);
            assertEquals(3, r.cpu().length);
        }
        for (int i = 0; i < 3; i++) {
            assertTrue(runs[1].wall()[i] >= 0.029, "b sleeps 30 ms: " + runs[1].wall()[i]);
            assertTrue(runs[0].wall()[i] < runs[1].wall()[i], "a's time does not include b's");
        }
    }

    @Test
    void alternatedRunsRejectNoRepeatsAndNegativeWarmUps() {
        assertThrows(IllegalArgumentException.class, () -> Timing.alternated(0, 1, () -> { }, () -> { }));
        assertThrows(IllegalArgumentException.class, () -> Timing.alternated(1, -1, () -> { }, () -> { }));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
