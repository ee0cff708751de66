package dev.sparkvit.model.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import dev.sparkvit.engine.BarrierSegment;
import dev.sparkvit.engine.EpochDataSet;
import dev.sparkvit.engine.PartitionedOptimizerState;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.layers.TokenPooling;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.ParameterGroup;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.testing.BarrierRuns;
import dev.sparkvit.testing.RandomImages;
import dev.sparkvit.testing.SharedSpark;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * FreezeOut on the barrier engine (2 tasks on local[2], a segment per epoch of 6 iterations): block 0 and the stem
 * stop changing exactly at their iteration. Two runs from the same seed, one ending at block 0's freezing iteration
 * and one going on to T, must leave block 0 and the stem bit-for-bit equal, while the last block keeps training.
 */
@ExtendWith(SharedSpark.class)
class FreezeOutTrainingTest {
    private static final VitConfig CONFIG = new VitConfig(8, 4, 3, 16, 2, 2, 2.0, 0.0, true, 0.1,
            TokenPooling.Mode.CLASS_TOKEN);
    private static final long T = 12;
    private static final FreezeOutSchedule FREEZEOUT = new FreezeOutSchedule(2, 0.5,
            FreezeOutSchedule.Scaling.LINEAR, T, 1, 5e-3, false);

    private static Map<String, float[]> train(long iterations) {
        VisionTransformer vit = VisionTransformer.withFreezeOut(CONFIG, Head.classifier(3), 11, FREEZEOUT);
        Map<String, OptimMethod<Float>> methods = new LinkedHashMap<>();
        for (ParameterGroup group : vit.parameterGroups()) {
            LearningRateSchedule schedule = switch (group.name()) {
                case "stem", "blocks.0" -> FREEZEOUT.forBlock(0);
                case "blocks.1" -> FREEZEOUT.forBlock(1);
                default -> FREEZEOUT.forUnfrozen();
            };
            methods.put(group.name(), AdamW.of(schedule, 0.01));
        }
        EpochDataSet<Integer> data = RandomImages.epochDataSet(48, 8, 3, 5, SharedSpark.CORES);
        Map<String, AbstractModule<?, ?, Float>> modules = new LinkedHashMap<>();
        vit.parameterGroups().forEach(group -> modules.put(group.name(), group.module()));
        try (BarrierSegment segment = new BarrierSegment(BarrierRuns.module(vit.module()), data, 8,
                BarrierRuns.crossEntropy(), methods, PartitionedOptimizerState.slices(vit.module(), modules))) {
            BarrierRuns.load(vit.module(), BarrierRuns.until(segment, BarrierSegment.Start.of(vit.module(), methods,
                    0), iterations).weights());
        }
        Map<String, float[]> values = new LinkedHashMap<>();
        vit.namedParameters().forEach((name, tensor) -> values.put(name, Tensors.toArray(tensor)));
        return values;
    }

    @Test
    void blockZeroAndTheStemStopChangingExactlyAtTheirIteration() {
        long stop = FREEZEOUT.frozenAfterIteration(0);
        assertEquals(6, stop);
        Map<String, float[]> initial = new LinkedHashMap<>();
        VisionTransformer.classifier(CONFIG, 3, 11).namedParameters()
                .forEach((name, tensor) -> initial.put(name, Tensors.toArray(tensor)));
        Map<String, float[]> atStop = train(stop);
        Map<String, float[]> atEnd = train(T);
        for (String name : atStop.keySet()) {
            boolean frozenGroup = name.startsWith("blocks.0.") || name.startsWith("patch_embed")
                    || name.equals("cls_token") || name.equals("pos_embed");
            if (frozenGroup) {
                assertFalse(java.util.Arrays.equals(initial.get(name), atStop.get(name)), name + " trained first");
                assertArrayEquals(atStop.get(name), atEnd.get(name), name + " changed after its freezing iteration");
            }
        }
        assertFalse(java.util.Arrays.equals(atStop.get("blocks.1.mlp.fc1.weight"),
                atEnd.get("blocks.1.mlp.fc1.weight")), "the last block keeps training");
    }

    /**
     * Reproducibility: barrier segments fed by EpochDataSet (seeded order) give bit-identical weights for the same
     * seed, here in local[2] with two tasks per iteration.
     */
    @Test
    void theSameSeedGivesBitIdenticalWeights() {
        Map<String, float[]> first = train(T);
        Map<String, float[]> second = train(T);
        for (String name : first.keySet()) {
            assertArrayEquals(first.get(name), second.get(name), name);
        }
    }
}
