package dev.sparkvit.model.vit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatTypes;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.model.io.VitWeights;
import dev.sparkvit.model.layers.TokenPooling;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Numerical parity with timm's own VisionTransformer on the same weights. The fixtures are written by
 * {@code tools/parity/make_vit_fixtures.py} (timm 1.0.31, torch 2.15.0, CPU): weights moved off their initial values,
 * one forward and one backward pass in eval mode. sparkvit must reproduce the output, the input gradient and every
 * parameter gradient within 1e-4 relative error (largest absolute difference over the largest reference value).
 */
class PyTorchParityTest {
    private static final double TOLERANCE = 1e-4;

    private static Path fixture(String name, String file) throws URISyntaxException {
        return Path.of(PyTorchParityTest.class.getResource("/parity/" + name + "/" + file).toURI());
    }

    /** The sparkvit config of a fixture, read from the timm constructor arguments stored in its metadata. */
    private static VitConfig config(JsonNode timm) {
        boolean layerScale = !timm.get("init_values").isNull();
        return new VitConfig(timm.get("img_size").asInt(), timm.get("patch_size").asInt(),
                timm.get("in_chans").asInt(), timm.get("embed_dim").asInt(), timm.get("depth").asInt(),
                timm.get("num_heads").asInt(), timm.get("mlp_ratio").asDouble(), 0.0, layerScale,
                layerScale ? timm.get("init_values").asDouble() : 0.0,
                timm.get("global_pool").asText().equals("avg") ? TokenPooling.Mode.MEAN
                        : TokenPooling.Mode.CLASS_TOKEN);
    }

    /** The timm constructor arguments a fixture was made with. */
    private static JsonNode timmArguments(String name) throws Exception {
        SafeTensors.Contents weights = SafeTensors.read(fixture(name, "weights.safetensors"));
        return new ObjectMapper().readTree(weights.metadata().get("config"));
    }

    /** sparkvit's classifier with a fixture's architecture and its own initialisation from {@code seed}. */
    private static VisionTransformer model(JsonNode timm, long seed) {
        return VisionTransformer.classifier(config(timm), timm.get("num_classes").asInt(), seed);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vit_micro_token_ls", "vit_micro_avg"})
    void outputsAndGradientsMatchTimm(String name) throws Exception {
        VisionTransformer vit = model(timmArguments(name), 0);
        VitWeights.ImportReport report = VitWeights.load(vit, fixture(name, "weights.safetensors"),
                VitWeights.Match.STRICT);
        assertEquals(vit.namedParameters().size(), report.loaded().size());
        vit.module().evaluate();

        Map<String, NamedTensor> io = SafeTensors.read(fixture(name, "io.safetensors")).tensors();
        Tensor<Float> input = tensor(io.get("input"));
        Tensor<Float> output = vit.module().forward(input).toTensor(FloatTypes.NUMERIC);
        assertClose(name + " output", io.get("output"), output);

        vit.module().zeroGradParameters();
        Tensor<Float> inputGrad = vit.module().backward(input, tensor(io.get("grad_output")))
                .toTensor(FloatTypes.NUMERIC);
        assertClose(name + " input gradient", io.get("input_grad"), inputGrad);
        int compared = 0;
        for (Map.Entry<String, Tensor<Float>> grad : vit.namedGradients().entrySet()) {
            assertClose(name + " gradient of " + grad.getKey(), io.get("grad." + grad.getKey()), grad.getValue());
            compared++;
        }
        assertEquals(vit.namedParameters().size(), compared);
    }

    /**
     * The other direction: weights sparkvit initialised itself, exported under timm's names with sparkvit's output
     * on the fixture input, into {@code target/parity-export/<name>/}. {@code tools/parity/check_sparkvit_export.py}
     * (run by hand) loads them into timm and compares. Here: the export re-reads into an identical model.
     */
    @ParameterizedTest
    @ValueSource(strings = {"vit_micro_token_ls", "vit_micro_avg"})
    void exportsWeightsTimmCanLoad(String name) throws Exception {
        JsonNode timm = timmArguments(name);
        VisionTransformer vit = model(timm, 7);
        vit.module().evaluate();
        NamedTensor input = SafeTensors.read(fixture(name, "io.safetensors")).tensors().get("input");
        Tensor<Float> output = vit.module().forward(tensor(input)).toTensor(FloatTypes.NUMERIC);

        Path dir = Path.of("target", "parity-export", name);
        VitWeights.save(vit, dir.resolve("weights.safetensors"), Map.of("config", timm.toString()));
        SafeTensors.write(dir.resolve("io.safetensors"), Map.of("input", input,
                "output", new NamedTensor(Tensors.shape(output), Tensors.toArray(output))), Map.of());

        VisionTransformer reloaded = model(timm, 8);
        VitWeights.load(reloaded, dir.resolve("weights.safetensors"), VitWeights.Match.STRICT);
        reloaded.module().evaluate();
        assertArrayEquals(Tensors.toArray(output),
                Tensors.toArray(reloaded.module().forward(tensor(input)).toTensor(FloatTypes.NUMERIC)));
    }

    private static Tensor<Float> tensor(NamedTensor t) {
        return Tensors.of(t.values().clone(), t.shape());
    }

    private static void assertClose(String what, NamedTensor expected, Tensor<Float> actual) {
        assertTrue(expected != null, what + ": missing from the fixture");
        assertArrayEquals(expected.shape(), Tensors.shape(actual), what + " shape");
        float[] a = Tensors.toArray(actual);
        float[] e = expected.values();
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < e.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - e[i]));
            maxRef = Math.max(maxRef, Math.abs(e[i]));
        }
        assertTrue(maxRef > 0, what + ": reference is all zeros, the comparison would be vacuous");
        assertTrue(maxDiff / maxRef < TOLERANCE,
                what + ": relative error " + maxDiff / maxRef + " (max |diff| " + maxDiff + ", max |ref| " + maxRef + ")");
    }
}
