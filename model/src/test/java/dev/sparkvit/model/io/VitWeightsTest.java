package dev.sparkvit.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatTypes;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.layers.TokenPooling;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.testing.TestTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VitWeightsTest {
    private static final VitConfig MICRO = new VitConfig(8, 4, 3, 8, 2, 2, 2.0, 0.0, true, 0.5,
            TokenPooling.Mode.CLASS_TOKEN);

    private static float[] logits(VisionTransformer vit, Tensor<Float> images) {
        vit.module().evaluate();
        return Tensors.toArray(vit.module().forward(images).toTensor(FloatTypes.NUMERIC));
    }

    @Test
    void saveThenLoadReproducesTheModel(@TempDir Path dir) throws IOException {
        VisionTransformer source = VisionTransformer.classifier(MICRO, 3, 1);
        Path file = dir.resolve("vit.safetensors");
        VitWeights.save(source, file, Map.of("preset", "micro"));
        VisionTransformer target = VisionTransformer.classifier(MICRO, 3, 2);
        VitWeights.load(target, file, VitWeights.Match.STRICT);
        Tensor<Float> images = TestTensors.randn(new Random(3), 1.0, 2, 3, 8, 8);
        assertArrayEquals(logits(source, images), logits(target, images));
        assertEquals("micro", SafeTensors.read(file).metadata().get("preset"));
    }

    /** Final weights are never written from a poisoned model, and an earlier file of that name is left alone. */
    @Test
    void weightsHoldingNanOrInfinityAreRefusedBeforeTheFileIsTouched(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("vit.safetensors");
        VitWeights.save(VisionTransformer.classifier(MICRO, 3, 1), file, Map.of());
        byte[] good = java.nio.file.Files.readAllBytes(file);
        VisionTransformer poisoned = VisionTransformer.classifier(MICRO, 3, 2);
        Tensor<Float> bias = poisoned.namedParameters().get("head.bias");
        bias.setValue(2, Float.POSITIVE_INFINITY);
        NonFiniteValuesException refused = assertThrows(NonFiniteValuesException.class, () -> VitWeights.save(poisoned, file, Map.of()));
        assertEquals("refusing to write weights file " + file + ": tensor head.bias holds 1 non-finite value of 3 "
                + "(the first, Infinity, at element 1); nothing was written", refused.getMessage());
        assertArrayEquals(good, java.nio.file.Files.readAllBytes(file));
    }

    @Test
    void sharedMatchMovesTheEncoderFromSimclrToAClassifier(@TempDir Path dir) throws IOException {
        VisionTransformer ssl = VisionTransformer.simclr(MICRO, 16, 1);
        Path file = dir.resolve("ssl.safetensors");
        VitWeights.save(ssl, file, Map.of());
        VisionTransformer classifier = VisionTransformer.classifier(MICRO, 3, 2);
        float[] headBefore = Tensors.toArray(classifier.namedParameters().get("head.weight"));
        VitWeights.ImportReport report = VitWeights.load(classifier, file, VitWeights.Match.SHARED);
        assertEquals(List.of("head.weight", "head.bias"), report.missingFromFile());
        assertTrue(report.unusedFromFile().contains("projection.fc1.weight"));
        assertArrayEquals(Tensors.toArray(ssl.namedParameters().get("blocks.1.ls2.gamma")),
                Tensors.toArray(classifier.namedParameters().get("blocks.1.ls2.gamma")));
        assertArrayEquals(headBefore, Tensors.toArray(classifier.namedParameters().get("head.weight")),
                "the new head keeps its initial weights");
    }

    @Test
    void strictLoadRejectsMismatchesAndChangesNothing(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("other.safetensors");
        VitWeights.save(VisionTransformer.classifier(MICRO.withLayerScale(false, 0), 4, 1), file, Map.of());
        VisionTransformer target = VisionTransformer.classifier(MICRO, 3, 2);
        float[] before = Tensors.toArray(target.namedParameters().get("blocks.0.attn.qkv.weight"));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> VitWeights.load(target, file, VitWeights.Match.STRICT));
        String message = error.getMessage();
        assertTrue(message.contains(file.toString()), message);
        assertTrue(message.contains("head.weight has shape [4, 8] in the file but [3, 8] in the model"), message);
        assertTrue(message.contains("blocks.0.ls1.gamma is missing from the file"), message);
        assertArrayEquals(before, Tensors.toArray(target.namedParameters().get("blocks.0.attn.qkv.weight")));
    }

    @Test
    void dllibWeightFilesRoundTrip(@TempDir Path dir) {
        VisionTransformer source = VisionTransformer.classifier(MICRO, 3, 1);
        Path file = dir.resolve("vit.bigdl-weights");
        source.module().saveWeights(file.toString(), true);
        assertTrue(Files.exists(file));
        VisionTransformer target = VisionTransformer.classifier(MICRO, 3, 9);
        target.module().loadWeights(file.toString(), true);
        Tensor<Float> images = TestTensors.randn(new Random(4), 1.0, 1, 3, 8, 8);
        assertArrayEquals(logits(source, images), logits(target, images));
    }
}
