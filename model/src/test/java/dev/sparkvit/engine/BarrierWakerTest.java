package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BarrierWakerTest {
    /** Spark 3.1's wait for a barrier answer: check, sleep a second, swallow an interrupt, check again. */
    private static int sparkLikeWait(AtomicBoolean answered) {
        int wakes = 0;
        while (!answered.get()) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                wakes++;
            }
        }
        return wakes;
    }

    @Test
    void aPollingSleepEndsSoonAfterTheAnswerAndTheCallerIsNotLeftInterrupted() throws Exception {
        AtomicBoolean answered = new AtomicBoolean();
        Thread answer = new Thread(() -> {
            LockSupportSleep.millis(30);
            answered.set(true);
        });
        long start = System.nanoTime();
        answer.start();
        int wakes = BarrierWaker.during(() -> sparkLikeWait(answered));
        double millis = (System.nanoTime() - start) / 1e6;
        assertTrue(wakes > 0, "woken");
        assertTrue(millis < 700, "returned after " + millis + " ms, not at the next one-second poll");
        assertFalse(Thread.currentThread().isInterrupted());
        Thread.sleep(20); // no late interrupt from a waker that should have stopped
        answer.join();
    }

    @Test
    void aThreadThatIsNotInATimedWaitIsLeftAlone() {
        AtomicInteger interrupted = new AtomicInteger();
        int result = BarrierWaker.during(() -> {
            long end = System.nanoTime() + 30_000_000L;
            int spins = 0;
            while (System.nanoTime() < end) { // RUNNABLE all along
                spins++;
                if (Thread.currentThread().isInterrupted()) {
                    interrupted.incrementAndGet();
                }
            }
            return spins;
        });
        assertTrue(result > 0);
        assertEquals(0, interrupted.get());
    }

    private static final class LockSupportSleep {
        static void millis(long millis) {
            java.util.concurrent.locks.LockSupport.parkNanos(millis * 1_000_000L);
        }
    }
}
