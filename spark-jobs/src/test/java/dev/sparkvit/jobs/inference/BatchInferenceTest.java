package dev.sparkvit.jobs.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.augment.TestImages;
import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.engine.FloatTypes;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitPresets;
import dev.sparkvit.testing.SharedSpark;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.function.Function;
import org.apache.spark.broadcast.Broadcast;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Softmax, the mean over test-time views and batching, with a real (tiny, untrained) classifier. */
@ExtendWith(SharedSpark.class)
class BatchInferenceTest {
    private static final String PRESET = "vit_nano_patch4_32";
    private static final int SIZE = 16;
    private static final Normalize NORMALIZE = new Normalize(new float[] {0.5f, 0.4f, 0.3f},
            new float[] {0.25f, 0.2f, 0.3f});
    private static final float HEAD_GAIN = 100;
    private static Broadcast<ClassifierWeights> model;
    private static List<FloatImage> images;

    @BeforeAll
    static void classifier() {
        images = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            images.add(TestImages.random(SIZE, SIZE, 100 + i));
        }
        VitConfig config = VitPresets.get(PRESET).withImgSize(SIZE);
        VisionTransformer vit = VisionTransformer.classifier(config, 3, 7);
        // An untrained ViT gives nearly the same logits to every image (about 0.2 apart between classes, 0.01
        // between images), so every view would score alike and a wrong mean could not show. The head is affine, so
        // K W and K (b - m), with m the mean logits of the test images, give K (logits - m): the differences
        // between images and views, enlarged to a few units.
        vit.module().evaluate();
        int pixels = 3 * SIZE * SIZE;
        float[] batch = new float[images.size() * pixels];
        for (int i = 0; i < images.size(); i++) {
            System.arraycopy(NORMALIZE.apply(images.get(i), new SplittableRandom(0)).data(), 0, batch, i * pixels,
                    pixels);
        }
        float[] logits = Tensors.toArray(vit.module().forward(Tensors.of(batch, images.size(), 3, SIZE, SIZE))
                .toTensor(FloatTypes.NUMERIC));
        ClassifierWeights initial = ClassifierWeights.of(PRESET, vit, List.of("a", "b", "c"), Map.of());
        Map<String, float[]> weights = new LinkedHashMap<>(initial.weights());
        float[] head = weights.get("head.weight").clone();
        for (int i = 0; i < head.length; i++) {
            head[i] *= HEAD_GAIN;
        }
        float[] bias = weights.get("head.bias").clone();
        for (int c = 0; c < bias.length; c++) {
            double mean = 0;
            for (int i = 0; i < images.size(); i++) {
                mean += logits[i * bias.length + c] / images.size();
            }
            bias[c] = (float) (HEAD_GAIN * (bias[c] - mean));
        }
        weights.put("head.weight", head);
        weights.put("head.bias", bias);
        model = SharedSpark.context().broadcast(new ClassifierWeights(PRESET, config, initial.classes(), weights,
                Map.of(), UUID.randomUUID().toString()));
    }

    private static List<float[]> scores(List<String> views, int batch) {
        BatchInference inference = new BatchInference(model, new TtaViews(views), NORMALIZE, batch);
        List<float[]> out = new ArrayList<>();
        inference.score(images.iterator(), Function.identity()).forEachRemaining(s -> out.add(s.probabilities()));
        return out;
    }

    @Test
    void softmaxIsStableForLargeLogitsAndSumsToOne() {
        // exp(-2), exp(-1), 1 over their sum, whatever the common offset
        float[] expected = {0.09003057f, 0.24472847f, 0.66524096f};
        assertArrayEquals(expected, BatchInference.softmax(new float[] {1000, 1001, 1002}, 0, 3), 1e-6f);
        assertArrayEquals(expected, BatchInference.softmax(new float[] {-1e30f, -1e30f, -5, -4, -3}, 2, 3), 1e-6f);
        float[] extreme = BatchInference.softmax(new float[] {-1000, 0, 3e38f}, 0, 3);
        assertArrayEquals(new float[] {0, 0, 1}, extreme);
        float[] p = BatchInference.softmax(new float[] {0.3f, -2.1f, 7.5f, 1e4f, 1e4f - 1}, 0, 5);
        double sum = 0;
        for (float v : p) {
            assertTrue(v >= 0 && v <= 1 && Float.isFinite(v), String.valueOf(v));
            sum += v;
        }
        assertEquals(1.0, sum, 1e-6);
        assertEquals(1 / (1 + Math.exp(-1)), p[3], 1e-6);
    }

    @Test
    void probabilitiesOfSeveralViewsAreTheMeanOfEachViewsProbabilities() {
        List<float[]> identity = scores(List.of("identity"), 4);
        List<float[]> flip = scores(List.of("flip"), 4);
        List<float[]> both = scores(List.of("identity", "flip"), 4);
        assertEquals(images.size(), both.size());
        double largestGap = 0;
        for (int i = 0; i < images.size(); i++) {
            double sum = 0;
            for (int c = 0; c < 3; c++) {
                double mean = (identity.get(i)[c] + flip.get(i)[c]) / 2.0;
                assertEquals(mean, both.get(i)[c], 1e-6, "image " + i + " class " + c);
                largestGap = Math.max(largestGap, Math.abs(identity.get(i)[c] - flip.get(i)[c]));
                sum += both.get(i)[c];
            }
            assertEquals(1.0, sum, 1e-5, "image " + i);
        }
        assertTrue(largestGap > 0.01, "the views must disagree for the mean to be tested: " + largestGap);
    }

    @Test
    void resultsDoNotDependOnTheBatchSize() {
        List<String> views = List.of("identity", "flip", "crops");
        List<float[]> single = scores(views, 1);
        List<float[]> four = scores(views, 4); // batches of 4 and 1
        assertEquals(images.size(), single.size());
        assertEquals(images.size(), four.size());
        for (int i = 0; i < images.size(); i++) {
            assertArrayEquals(single.get(i), four.get(i), 1e-6f, "image " + i);
        }
        assertTrue(Math.abs(single.get(0)[0] - single.get(1)[0]) > 0.01,
                "different images score differently, so a mixed-up order would show");
    }

    /**
     * Once a partition is scored its thread's model is released: this JVM keeps the models of several
     * instances (a fine-tuning run ships two every epoch), and each kept its last batch's outputs, gigabytes for a
     * 224-px ViT at the inference batch (vit_tiny_patch16_224's finetune job ran out of a 6 GB heap in epoch 2).
     */
    @Test
    void aScoredPartitionReleasesItsModel() {
        BatchInference inference = new BatchInference(model, TtaViews.none(), NORMALIZE, 2);
        var scored = inference.score(images.iterator(), Function.identity());
        scored.next();
        VisionTransformer during = model.value().model();
        assertTrue(during.module().output().toTensor(FloatTypes.NUMERIC).nElement() > 0,
                "a batch was forwarded: the model holds its output");
        scored.forEachRemaining(s -> { });
        VisionTransformer after = model.value().model();
        org.junit.jupiter.api.Assertions.assertNotSame(during, after, "the partition is scored: its model is released");
        org.junit.jupiter.api.Assertions.assertNull(after.module().output(), "a fresh model: nothing forwarded");
    }

    @Test
    void elementsComeBackInOrderWithTheirScores() {
        BatchInference inference = new BatchInference(model, TtaViews.none(), NORMALIZE, 2);
        var scored = inference.score(images.iterator(), Function.identity());
        for (FloatImage image : images) {
            assertSame(image, scored.next().element());
        }
        assertTrue(!scored.hasNext());
        assertThrows(IllegalArgumentException.class, () -> new BatchInference(model, TtaViews.none(), NORMALIZE, 0));
    }
}
