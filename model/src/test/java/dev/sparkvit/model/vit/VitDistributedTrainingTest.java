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
import dev.sparkvit.testing.SharedSpark;
import dev.sparkvit.testing.TestTensors;
import java.util.ArrayList;
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

    @Test
    void everyParameterTensorChanges() {
        VitConfig config = new VitConfig(16, 4, 3, 16, 2, 2, 2.0, 0.1, true, 0.1, TokenPooling.Mode.CLASS_TOKEN);
        VisionTransformer vit = VisionTransformer.classifier(config, 3, 5);
        Map<String, float[]> before = new LinkedHashMap<>();
        vit.namedParameters().forEach((name, tensor) -> before.put(name, Tensors.toArray(tensor)));

        Random random = new Random(3);
        List<Sample<Float>> samples = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            Tensor<Float> image = TestTensors.randn(random, 1.0, 3, 16, 16);
            samples.add(Samples.labelled(image, 1 + i % 3));
        }
        DistributedTraining.of(vit.module(), SharedSpark.context().parallelize(samples, 2).rdd(),
                        Criteria.crossEntropy(), 8)
                .optimMethod(OptimMethods.sgd(0.05, 0.9))
                .endWhen(Triggers.maxIteration(4))
                .optimize();

        Map<String, Tensor<Float>> after = vit.namedParameters();
        assertEquals(before.keySet(), after.keySet());
        List<String> unchanged = new ArrayList<>();
        for (Map.Entry<String, float[]> entry : before.entrySet()) {
            float[] now = Tensors.toArray(after.get(entry.getKey()));
            double maxChange = 0;
            for (int i = 0; i < now.length; i++) {
                maxChange = Math.max(maxChange, Math.abs(now[i] - entry.getValue()[i]));
            }
            if (!(maxChange > 0)) {
                unchanged.add(entry.getKey());
            }
        }
        assertTrue(unchanged.isEmpty(), "parameters that did not change under DistriOptimizer: " + unchanged);
        assertTrue(before.keySet().containsAll(List.of("blocks.0.norm1.weight", "blocks.1.ls2.gamma", "pos_embed",
                "cls_token", "norm.bias")), "the check covers LayerNorm, LayerScale and the embeddings");
    }
}
