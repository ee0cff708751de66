package dev.sparkvit.bench;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OpenBlasThreadsTest {
    @Test
    void oneThreadAcceptsAnUnsetOrOneVariable() {
        assertDoesNotThrow(() -> OpenBlasThreads.requireAgrees(1, null));
        assertDoesNotThrow(() -> OpenBlasThreads.requireAgrees(1, "1"));
    }

    @Test
    void moreThreadsNeedTheVariableAtThatCount() {
        assertDoesNotThrow(() -> OpenBlasThreads.requireAgrees(2, "2"));
        IllegalArgumentException unset = assertThrows(IllegalArgumentException.class,
                () -> OpenBlasThreads.requireAgrees(2, null));
        assertTrue(unset.getMessage().startsWith("--threads 2 but OPENBLAS_NUM_THREADS=(unset)"), unset.getMessage());
        assertThrows(IllegalArgumentException.class, () -> OpenBlasThreads.requireAgrees(2, "4"));
    }

    @Test
    void oneThreadRefusesAContradictingVariable() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OpenBlasThreads.requireAgrees(1, "2"));
        assertTrue(e.getMessage().contains("OPENBLAS_NUM_THREADS=2"), e.getMessage());
    }
}
