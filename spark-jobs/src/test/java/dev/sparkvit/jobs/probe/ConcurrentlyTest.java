package dev.sparkvit.jobs.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sparkvit.testing.SharedSpark;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.spark.SparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link Concurrently}: results in order, the tasks really side by side, failures and the job group passed on. */
@ExtendWith(SharedSpark.class)
class ConcurrentlyTest {
    @Test
    void runsTheTasksSideBySideAndKeepsTheirOrder() {
        CountDownLatch both = new CountDownLatch(2);
        Supplier<String> waitForTheOther = () -> {
            both.countDown();
            try { // one thread after the other would wait here forever (30 s, then fail)
                return both.await(30, TimeUnit.SECONDS) ? Thread.currentThread().getName() : "alone";
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        };
        List<String> names = Concurrently.all(List.of(waitForTheOther, waitForTheOther));
        assertEquals(List.of("sparkvit-probe-0", "sparkvit-probe-1"), names);
    }

    @Test
    void theFirstFailureInOrderIsRethrownAfterAllEnded() {
        IllegalArgumentException failure = assertThrows(IllegalArgumentException.class,
                () -> Concurrently.<Integer>all(List.of(() -> 1, () -> {
                    throw new IllegalArgumentException("second");
                }, () -> {
                    throw new IllegalStateException("third");
                })));
        assertEquals("second", failure.getMessage());
    }

    @Test
    void theTasksRunInTheCallersJobGroup() {
        SparkContext sc = SharedSpark.session().sparkContext();
        sc.setJobGroup("probe-group", "a probe", false);
        try {
            List<String> groups = Concurrently.all(List.<Supplier<String>>of(
                    () -> sc.getLocalProperty("spark.jobGroup.id")));
            assertEquals(List.of("probe-group"), groups);
        } finally {
            sc.clearJobGroup();
        }
    }
}
