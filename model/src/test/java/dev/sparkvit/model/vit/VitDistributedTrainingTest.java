package dev.sparkvit.model.vit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Criteria;
import dev.sparkvit.engine.DistributedTraining;
import dev.sparkvit.engine.OptimMethods;
import dev.sparkvit.engine.Samples;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.engine.Triggers;
import dev.sparkvit.model.layers.TokenPooling;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.optim.WarmupCosine;
import dev.sparkvit.testing.SharedSpark;
import dev.sparkvit.testing.TestTensors;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Under DistriOptimizer in local[2] (two model replicas, gradients through DLlib's flat buffer) every parameter of
 * the ViT changes after a few steps: the check that catches gradients that never reach the optimiser, as DLlib's
 * own LayerNorm's never do.
 */
@ExtendWith(SharedSpark.class)
class VitDistributedTrainingTest {

    private static final VitConfig CONFIG = new VitConfig(16, 4, 3, 16, 2, 2, 2.0, 0.1, true, 0.1,
            TokenPooling.Mode.CLASS_TOKEN);

    private static List<Sample<Float>> randomImages() {
        Random random = new Random(3);
        List<Sample<Float>> samples = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            Tensor<Float> image = TestTensors.randn(random, 1.0, 3, 16, 16);
            samples.add(Samples.labelled(image, 1 + i % 3));
        }
        return samples;
    }

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

    @Test
    void everyParameterTensorChanges() {
        VisionTransformer vit = VisionTransformer.classifier(CONFIG, 3, 5);
        Map<String, float[]> before = snapshot(vit);
        DistributedTraining.of(vit.module(), SharedSpark.context().parallelize(randomImages(), 2).rdd(),
                        Criteria.crossEntropy(), 8)
                .optimMethod(OptimMethods.sgd(0.05, 0.9))
                .endWhen(Triggers.maxIteration(4))
                .optimize();
        List<String> unchanged = unchanged(before, vit);
        assertTrue(unchanged.isEmpty(), "parameters that did not change under DistriOptimizer: " + unchanged);
        assertTrue(before.keySet().containsAll(List.of("blocks.0.norm1.weight", "blocks.1.ls2.gamma", "pos_embed",
                "cls_token", "norm.bias")), "the check covers LayerNorm, LayerScale and the embeddings");
    }

    /** sparkvit's own AdamW, one per parameter group, runs inside DistriOptimizer and trains every parameter. */
    @Test
    void adamwPerGroupTrainsEveryParameter() {
        VisionTransformer vit = VisionTransformer.classifier(CONFIG, 3, 6);
        Map<String, float[]> before = snapshot(vit);
        Map<String, OptimMethod<Float>> methods = new LinkedHashMap<>();
        for (ParameterGroup group : vit.parameterGroups()) {
            methods.put(group.name(), AdamW.of(new WarmupCosine(1e-2, 1, 4, 0.0), 0.05));
        }
        DistributedTraining.of(vit.module(), SharedSpark.context().parallelize(randomImages(), 2).rdd(),
                        Criteria.crossEntropy(), 8)
                .optimMethods(methods)
                .endWhen(Triggers.maxIteration(3))
                .optimize();
        assertEquals(List.of(), unchanged(before, vit));
    }

    /**
     * The parameter groups are accepted by DLlib's per-submodule optimisers (which refuse groups that are not
     * contiguous slices of the flat buffer) and each group really gets its own learning rate: the group given
     * learning rate 0 stays exactly as it was while every other parameter trains.
     */
    @Test
    void parameterGroupsTakeTheirOwnOptimisers() {
        VisionTransformer vit = VisionTransformer.classifier(CONFIG, 3, 5);
        Map<String, float[]> before = snapshot(vit);
        Map<String, OptimMethod<Float>> methods = new LinkedHashMap<>();
        List<String> frozen = new ArrayList<>();
        for (ParameterGroup group : vit.parameterGroups()) {
            boolean freeze = group.name().equals("blocks.0");
            methods.put(group.name(), OptimMethods.sgd(freeze ? 0.0 : 0.05, 0.0));
            if (freeze) {
                frozen.addAll(group.parameterNames());
            }
        }
        DistributedTraining.of(vit.module(), SharedSpark.context().parallelize(randomImages(), 2).rdd(),
                        Criteria.crossEntropy(), 8)
                .optimMethods(methods)
                .endWhen(Triggers.maxIteration(3))
                .optimize();
        assertEquals(frozen, unchanged(before, vit), "exactly the zero-learning-rate group is unchanged");
    }
}
