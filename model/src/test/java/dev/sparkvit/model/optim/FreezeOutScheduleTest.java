package dev.sparkvit.model.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FreezeOutScheduleTest {

    @Test
    void cubicFractionsOfTwelveBlocksFromPointEight() {
        FreezeOutSchedule s = FreezeOutSchedule.standard(12, 1000, 10, 0.1);
        assertEquals(0.512, s.fraction(0), 1e-12);
        assertEquals(Math.pow(0.8 + 0.2 * 5 / 11.0, 3), s.fraction(5), 1e-12);
        assertEquals(1.0, s.fraction(11), 1e-12);
        assertEquals(512, s.frozenAfterIteration(0));
        assertEquals(1000, s.frozenAfterIteration(11));
    }

    @Test
    void eachBlockWarmsUpThenFollowsItsOwnCosineToZero() {
        FreezeOutSchedule s = new FreezeOutSchedule(4, 0.5, FreezeOutSchedule.Scaling.LINEAR, 100, 10, 0.2, false);
        LearningRateSchedule block0 = s.forBlock(0); // stops at 50
        assertEquals(0.02, block0.rate(0), 1e-12);
        assertEquals(0.2, block0.rate(9), 1e-12);
        assertEquals(0.2, block0.rate(10), 1e-12);
        assertEquals(0.1, block0.rate(30), 1e-12, "half way from warmup end (10) to the stop (50)");
        assertTrue(block0.rate(49) > 0);
        assertEquals(0.0, block0.rate(50));
        assertEquals(0.0, block0.rate(99));
        assertTrue(s.forBlock(3).rate(99) > 0, "the last block trains to the end");
        assertEquals(0.0, s.forUnfrozen().rate(100));
    }

    @Test
    void scaledRatesDivideByTheFraction() {
        FreezeOutSchedule s = new FreezeOutSchedule(2, 0.5, FreezeOutSchedule.Scaling.LINEAR, 100, 0, 0.1, true);
        assertEquals(0.2, s.forBlock(0).rate(0), 1e-12);
        assertEquals(0.1, s.forBlock(1).rate(0), 1e-12);
    }

    @Test
    void frozenPrefixGrowsAsBlocksFreeze() {
        FreezeOutSchedule s = new FreezeOutSchedule(3, 0.5, FreezeOutSchedule.Scaling.LINEAR, 100, 0, 0.1, false);
        assertEquals(0, s.frozenPrefix(49));
        assertEquals(1, s.frozenPrefix(50));
        assertEquals(2, s.frozenPrefix(75));
        assertEquals(3, s.frozenPrefix(100));
    }

    @Test
    void warmupMustEndBeforeTheFirstBlockFreezes() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> FreezeOutSchedule.standard(12, 100, 60, 0.1));
        assertTrue(error.getMessage().contains("block 0 freezes at iteration 51"), error.getMessage());
    }
}
