package dev.sparkvit.model.vit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatTypes;
import dev.sparkvit.engine.ModuleParameters;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.layers.TokenPooling;
import dev.sparkvit.testing.GradientCheck;
import dev.sparkvit.testing.TestTensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class VisionTransformerTest {
    /** A ViT small enough for finite differences: 8 px, patch 4 (4 patches + class token), width 8, 2 blocks. */
    static final VitConfig MICRO = new VitConfig(8, 4, 3, 8, 2, 2, 2.0, 0.0, true, 0.5,
            TokenPooling.Mode.CLASS_TOKEN);

    static List<String> presets() {
        List<String> names = new ArrayList<>();
        VitPresets.names().forEach(names::add);
        return names;
    }

    @ParameterizedTest
    @MethodSource("presets")
    void everyPresetRunsForwardAndBackward(String preset) {
        VitConfig config = VitPresets.get(preset);
        VisionTransformer vit = VisionTransformer.classifier(config, 10, 1);
        Tensor<Float> images = TestTensors.randn(new Random(1), 1.0, 1, 3, config.imgSize(), config.imgSize());
        Tensor<Float> logits = vit.module().forward(images).toTensor(FloatTypes.NUMERIC);
        assertArrayEquals(new int[] {1, 10}, Tensors.shape(logits), preset);
        for (float v : Tensors.toArray(logits)) {
            assertTrue(Float.isFinite(v), preset + " produced " + v);
        }
        vit.module().zeroGradParameters();
        Tensor<Float> gradInput = vit.module()
                .backward(images, TestTensors.randn(new Random(2), 1.0, 1, 10)).toTensor(FloatTypes.NUMERIC);
        assertArrayEquals(Tensors.shape(images), Tensors.shape(gradInput), preset);
        double gradNorm = 0;
        for (Tensor<Float> g : ModuleParameters.gradients(vit.module())) {
            for (float v : Tensors.toArray(g)) {
                assertTrue(Float.isFinite(v), preset + " gradient " + v);
                gradNorm += v * v;
            }
        }
        assertTrue(gradNorm > 0, preset + ": backward produced all-zero parameter gradients");
        assertEquals(ModelSummary.of(config, Head.classifier(10)).parameters(), vit.parameterCount(),
                preset + ": built parameter count equals the analytic summary");
    }

    @Test
    void parameterNamesFollowTimm() {
        VisionTransformer vit = VisionTransformer.classifier(MICRO, 3, 1);
        List<String> names = new ArrayList<>(vit.namedParameters().keySet());
        List<String> expected = new ArrayList<>(List.of("patch_embed.proj.weight", "patch_embed.proj.bias",
                "cls_token", "pos_embed"));
        for (int i = 0; i < 2; i++) {
            String p = "blocks." + i + ".";
            expected.addAll(List.of(p + "norm1.weight", p + "norm1.bias", p + "attn.qkv.weight", p + "attn.qkv.bias",
                    p + "attn.proj.weight", p + "attn.proj.bias", p + "ls1.gamma", p + "norm2.weight",
                    p + "norm2.bias", p + "mlp.fc1.weight", p + "mlp.fc1.bias", p + "mlp.fc2.weight",
                    p + "mlp.fc2.bias", p + "ls2.gamma"));
        }
        expected.addAll(List.of("norm.weight", "norm.bias", "head.weight", "head.bias"));
        assertEquals(expected, names);
        Map<String, Tensor<Float>> params = vit.namedParameters();
        assertArrayEquals(new int[] {8, 3, 4, 4}, Tensors.shape(params.get("patch_embed.proj.weight")));
        assertArrayEquals(new int[] {1, 1, 8}, Tensors.shape(params.get("cls_token")));
        assertArrayEquals(new int[] {1, 5, 8}, Tensors.shape(params.get("pos_embed")));
        assertArrayEquals(new int[] {24, 8}, Tensors.shape(params.get("blocks.0.attn.qkv.weight")));
        assertArrayEquals(new int[] {8}, Tensors.shape(params.get("blocks.1.ls2.gamma")));
    }

    @Test
    void meanPoolingMovesTheFinalNormAfterThePool() {
        VisionTransformer vit = VisionTransformer.classifier(MICRO.withPooling(TokenPooling.Mode.MEAN), 3, 1);
        Set<String> names = vit.namedParameters().keySet();
        assertTrue(names.contains("fc_norm.weight"));
        assertFalse(names.contains("norm.weight"));
    }

    @Test
    void layerScaleAndDropPathAreAbsentUnlessConfigured() {
        VisionTransformer plain = VisionTransformer.encoderOnly(MICRO.withLayerScale(false, 0), 1);
        assertTrue(plain.namedParameters().keySet().stream().noneMatch(n -> n.contains(".ls")));
        assertTrue(plain.layerScaleStats().isEmpty());
        assertFalse(plain.module().toString().contains("DropPath"));
        VisionTransformer dropping = VisionTransformer.encoderOnly(MICRO.withDropPathRate(0.2), 1);
        // linear rule: block 0 gets rate 0 (no DropPath built), block 1 gets 0.2
        String text = dropping.module().toString();
        assertTrue(text.contains("DropPath(0.2)"), text);
        assertEquals(0.0, MICRO.withDropPathRate(0.2).dropPathRate(0));
    }

    @Test
    void parameterGroupsPartitionTheFlatBufferInOrder() {
        VisionTransformer vit = VisionTransformer.simclr(MICRO, 16, 1);
        List<String> groupNames = new ArrayList<>();
        List<String> concatenated = new ArrayList<>();
        for (ParameterGroup group : vit.parameterGroups()) {
            groupNames.add(group.name());
            concatenated.addAll(group.parameterNames());
            assertEquals(group.parameterNames().size(), ModuleParameters.weights(group.module()).size(), group.name());
        }
        assertEquals(List.of("stem", "blocks.0", "blocks.1", "neck", "projection"), groupNames);
        assertEquals(new ArrayList<>(vit.namedParameters().keySet()), concatenated,
                "groups are contiguous and cover every parameter exactly once");
    }

    @Test
    void noWeightDecaySetHoldsBiasesNormsGammasAndEmbeddings() {
        VisionTransformer vit = VisionTransformer.classifier(MICRO, 3, 1);
        Set<String> noDecay = vit.noWeightDecay();
        for (String name : vit.namedParameters().keySet()) {
            boolean expected = name.endsWith(".bias") || name.contains("norm") || name.endsWith(".gamma")
                    || name.equals("cls_token") || name.equals("pos_embed");
            assertEquals(expected, noDecay.contains(name), name);
        }
    }

    @Test
    void sameSeedSameWeightsOtherSeedOther() {
        float[] a = Tensors.toArray(VisionTransformer.classifier(MICRO, 3, 7).namedParameters().get("head.weight"));
        float[] b = Tensors.toArray(VisionTransformer.classifier(MICRO, 3, 7).namedParameters().get("head.weight"));
        float[] c = Tensors.toArray(VisionTransformer.classifier(MICRO, 3, 8).namedParameters().get("head.weight"));
        assertArrayEquals(a, b);
        assertFalse(java.util.Arrays.equals(a, c));
    }

    @Test
    void aBlankModelGivenAnInitialisedOnesWeightsComputesTheSame() {
        VisionTransformer initialised = VisionTransformer.of(MICRO, Head.projection(16), 3);
        VisionTransformer blank = VisionTransformer.blank(MICRO, Head.projection(16));
        Map<String, Tensor<Float>> from = initialised.namedParameters();
        Map<String, Tensor<Float>> into = blank.namedParameters();
        assertEquals(List.copyOf(from.keySet()), List.copyOf(into.keySet()));
        assertFalse(java.util.Arrays.equals(Tensors.toArray(from.get("blocks.0.attn.qkv.weight")),
                Tensors.toArray(into.get("blocks.0.attn.qkv.weight"))), "nothing drawn into the blank model");
        into.forEach((name, tensor) -> tensor.copy(from.get(name)));
        initialised.module().evaluate();
        blank.module().evaluate();
        Tensor<Float> images = TestTensors.randn(new Random(5), 1.0, 2, 3, 8, 8);
        assertArrayEquals(Tensors.toArray(initialised.module().forward(images).toTensor(FloatTypes.NUMERIC)),
                Tensors.toArray(blank.module().forward(images).toTensor(FloatTypes.NUMERIC)));
    }

    @Test
    void layerScaleStatsReportInitialGammas() {
        VisionTransformer vit = VisionTransformer.encoderOnly(MICRO, 1);
        List<LayerScaleStats> stats = vit.layerScaleStats();
        assertEquals(2, stats.size());
        assertEquals(0.5, stats.get(1).mlpMean(), 1e-7);
        assertEquals(0.5, stats.get(0).attentionMeanAbs(), 1e-7);
    }

    @Test
    void wholeBlockGradientCheck() {
        VisionTransformer vit = VisionTransformer.encoderOnly(MICRO, 3);
        Block block = (Block) vit.parameterGroups().get(1).module();
        TestTensors.randomizeParameters(block, new Random(4), 0.0, 0.5);
        for (GradientCheck.Result r : new GradientCheck(block, 1e-2, 30, 5)
                .run(TestTensors.randn(new Random(6), 1.0, 2, 5, 8))) {
            assertTrue(r.relativeError() < 1e-3, r.toString());
        }
    }

    @Test
    void wholeEncoderGradientCheck() {
        VisionTransformer vit = VisionTransformer.encoderOnly(MICRO, 3);
        TestTensors.randomizeParameters(vit.encoder(), new Random(7), 0.0, 0.5);
        for (GradientCheck.Result r : new GradientCheck(vit.encoder(), 1e-2, 12, 8)
                .run(TestTensors.randn(new Random(9), 1.0, 2, 3, 8, 8))) {
            assertTrue(r.relativeError() < 1e-3, r.toString());
        }
    }

    @Test
    void unknownPresetListsTheKnownOnes() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> VitPresets.get("vit_huge"));
        assertTrue(error.getMessage().contains("vit_base_patch16_224"), error.getMessage());
    }

    @Test
    void invalidConfigNamesTheKey() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new VitConfig(32, 4, 3, 100, 4, 3, 4.0, 0.0, false, 0, TokenPooling.Mode.CLASS_TOKEN));
        assertTrue(error.getMessage().contains("model.embed_dim = 100"), error.getMessage());
    }
}
