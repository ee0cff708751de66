package dev.sparkvit.jobs.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** NT-Xent's chance value, and the one warning a run stuck near it gets after its grace epochs. */
class CollapseMonitorTest {

    @Test
    void chanceIsTheLogOfTheCandidatesPerAnchor() {
        assertEquals(Math.log(63), CollapseMonitor.chance(32), 1e-12); // batch 64 on 2 replicas
        assertEquals(Math.log(127), CollapseMonitor.chance(64), 1e-12);
    }

    @Test
    void warnsOnceWhenTheLossStaysNearChanceAfterTheGraceEpochs() {
        double chance = CollapseMonitor.chance(32);
        CollapseMonitor monitor = new CollapseMonitor(null, null, chance, 2);
        assertNull(monitor.warning(0, chance, 0.9999), "epoch 1 is within the grace epochs");
        assertNull(monitor.warning(1, chance, 0.9999), "epoch 2 is within the grace epochs");
        String warning = monitor.warning(2, chance - 0.01, 0.9999);
        assertNotNull(warning);
        assertTrue(warning.contains("after epoch 3") && warning.contains("4.1431") && warning.contains("1.000")
                && warning.contains("model.layer_scale"), warning);
        assertNull(monitor.warning(3, chance, 0.9999), "once per run");
    }

    @Test
    void aLossThatLeftChanceIsNoWarning() {
        double chance = CollapseMonitor.chance(32);
        CollapseMonitor monitor = new CollapseMonitor(null, null, chance, 2);
        assertNull(monitor.warning(5, chance - CollapseMonitor.NEAR_CHANCE - 1e-9, 0.4));
        assertNull(monitor.warning(6, chance - 1.5, 0.01));
    }
}
