package dev.sparkvit.jobs.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.layers.TokenPooling;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * NT-Xent's chance value, the one warning a run stuck near it gets after its grace epochs, and the projections' cosine
 * leaving no activations in the monitor's copy of the model.
 */
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

    /**
     * The monitor's copy lives for the whole run on the driver: its forward's outputs must not stay in its layers
     * (vit_tiny at 32 px kept about 0.7 GB through every later segment). The control: the same forward without the
     * monitor leaves them.
     */
    @Test
    void theCosineLeavesNoActivationsInTheCopy() {
        VitConfig config = new VitConfig(16, 4, 3, 32, 2, 2, 2.0, 0.0, false, 0.0, TokenPooling.Mode.CLASS_TOKEN);
        Head head = Head.projection(8, false);
        float[] pixels = new float[6 * 3 * 16 * 16];
        Random random = new Random(3);
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) random.nextGaussian();
        }
        VisionTransformer copy = VisionTransformer.of(config, head, 0);
        CollapseMonitor monitor = new CollapseMonitor(Tensors.of(pixels, 6, 3, 16, 16), copy,
                CollapseMonitor.chance(3), 2);
        double cosine = monitor.projectionCosine(VisionTransformer.of(config, head, 1));
        assertTrue(cosine > -1 && cosine < 1, "cosine " + cosine);
        assertEquals(0, activations(copy.module()), "elements of outputs and input gradients left in the copy");

        VisionTransformer control = VisionTransformer.of(config, head, 0);
        control.module().evaluate();
        control.module().forward(Tensors.of(pixels, 6, 3, 16, 16));
        assertTrue(activations(control.module()) > 6 * 17 * 32, "a forward leaves outputs in the layers");
    }

    /** The elements of every tensor output and input gradient in {@code module}'s tree. */
    private static long activations(AbstractModule<?, ?, ?> module) {
        long n = elements(module.output()) + elements(module.gradInput());
        if (module instanceof com.intel.analytics.bigdl.dllib.nn.Container<?, ?, ?> container) {
            scala.collection.Iterator<? extends AbstractModule<?, ?, ?>> children = container.modules().iterator();
            while (children.hasNext()) {
                n += activations(children.next());
            }
        }
        return n;
    }

    private static long elements(Object activity) {
        return activity instanceof Activity a && a.isTensor() ? a.toTensor(dev.sparkvit.engine.FloatTypes.NUMERIC)
                .nElement() : 0;
    }
}
