package dev.sparkvit.model.vit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.BarrierSegment;
import dev.sparkvit.engine.PartitionedOptimizerState;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.layers.TokenPooling;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.optim.SgdMomentum;
import dev.sparkvit.model.optim.WarmupCosine;
import dev.sparkvit.testing.BarrierRuns;
import dev.sparkvit.testing.RandomImages;
import dev.sparkvit.testing.SharedSpark;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * On the barrier engine in local[2] (two tasks, gradients exchanged through the model's flat buffer) every parameter
 * of the ViT changes after a few steps: the check that catches gradients that never reach the optimiser, as DLlib's
 * own LayerNorm's never do. That the ViT on 2 barrier tasks equals one replica on the whole batch is
 * {@code engine.BarrierSegmentTest}'s subject.
 */
@ExtendWith(SharedSpark.class)
class VitDistributedTrainingTest {

    private static final VitConfig CONFIG = new VitConfig(16, 4, 3, 16, 2, 2, 2.0, 0.1, true, 0.1,
            TokenPooling.Mode.CLASS_TOKEN);

    private static Map<String, float[]> snapshot(VisionTransformer vit) {
        Map<String, float[]> values = new LinkedHashMap<>();
        vit.namedParameters().forEach((name, tensor) -> values.put(name, Tensors.toArray(tensor)));
        return values;
    }

    /** Names of the parameters whose values are bit-for-bit what they were in {@code before}. */
    private static List<String> unchanged(Map<String, float[]> before, VisionTransformer vit) {
        Map<String, Tensor<Float>> after = vit.namedParameters();
        assertEquals(before.keySet(), after.keySet());
        List<String> unchanged = new ArrayList<>();
        for (Map.Entry<String, float[]> entry : before.entrySet()) {
            if (Arrays.equals(entry.getValue(), Tensors.toArray(after.get(entry.getKey())))) {
                unchanged.add(entry.getKey());
            }
        }
        return unchanged;
    }

    /**
     * Trains {@code vit} for {@code iterations} iterations of batch 8 on 32 random images in 2 barrier tasks, one
     * method per parameter group, and puts the trained weights back into it.
     */
    private static void train(VisionTransformer vit, Function<ParameterGroup, OptimMethod<Float>> method,
            int iterations) {
        Map<String, OptimMethod<Float>> methods = new LinkedHashMap<>();
        Map<String, AbstractModule<?, ?, Float>> modules = new LinkedHashMap<>();
        for (ParameterGroup group : vit.parameterGroups()) {
            methods.put(group.name(), method.apply(group));
            modules.put(group.name(), group.module());
        }
        try (BarrierSegment segment = new BarrierSegment(BarrierRuns.module(vit.module()),
                RandomImages.epochDataSet(32, 16, 3, 3, SharedSpark.CORES), 8, BarrierRuns.crossEntropy(), methods,
                PartitionedOptimizerState.slices(vit.module(), modules))) {
            BarrierSegment.Result result = segment.run(BarrierSegment.Start.of(vit.module(), methods, 0), iterations);
            assertEquals(SharedSpark.CORES, result.tasks());
            BarrierRuns.load(vit.module(), result.weights());
        }
    }

    @Test
    void everyParameterTensorChanges() {
        VisionTransformer vit = VisionTransformer.classifier(CONFIG, 3, 5);
        Map<String, float[]> before = snapshot(vit);
        train(vit, group -> new SgdMomentum(i -> 0.05, 0.9, false), 4);
        List<String> unchanged = unchanged(before, vit);
        assertTrue(unchanged.isEmpty(), "parameters that did not change on the barrier engine: " + unchanged);
        assertTrue(before.keySet().containsAll(List.of("blocks.0.norm1.weight", "blocks.1.ls2.gamma", "pos_embed",
                "cls_token", "norm.bias")), "the check covers LayerNorm, LayerScale and the embeddings");
    }

    /** sparkvit's own AdamW, one per parameter group, trains every parameter. */
    @Test
    void adamwPerGroupTrainsEveryParameter() {
        VisionTransformer vit = VisionTransformer.classifier(CONFIG, 3, 6);
        Map<String, float[]> before = snapshot(vit);
        train(vit, group -> AdamW.of(new WarmupCosine(1e-2, 1, 4, 0.0), 0.05), 3);
        assertEquals(List.of(), unchanged(before, vit));
    }

    /**
     * Each parameter group really gets its own method, on its own slice of the flat buffer: the group given learning
     * rate 0 stays exactly as it was while every other parameter trains.
     */
    @Test
    void parameterGroupsTakeTheirOwnOptimisers() {
        VisionTransformer vit = VisionTransformer.classifier(CONFIG, 3, 5);
        Map<String, float[]> before = snapshot(vit);
        List<String> frozen = new ArrayList<>();
        for (ParameterGroup group : vit.parameterGroups()) {
            if (group.name().equals("blocks.0")) {
                frozen.addAll(group.parameterNames());
            }
        }
        train(vit, group -> {
            double rate = group.name().equals("blocks.0") ? 0.0 : 0.05;
            return new SgdMomentum(i -> rate, 0.0, false);
        }, 3);
        assertEquals(frozen, unchanged(before, vit), "exactly the zero-learning-rate group is unchanged");
    }
}
