package dev.sparkvit.jobs.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitPresets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A classifier file given to predict or evaluate may come from elsewhere (docs/SECURITY.md): its metadata decides
 * the size of the model built before the weights are copied in, so a lying img_size or class list must be a
 * ConfigException (exit 2) naming the file, decided before any model is allocated.
 */
class ClassifierWeightsHostileFilesTest {
    private static final String PRESET = "vit_nano_patch4_32";
    private static final VitConfig CONFIG = VitPresets.get(PRESET).withImgSize(16);

    @TempDir
    Path tmp;

    /** A genuine 3-class classifier's tensors, saved under {@code metadata} instead of its own. */
    private Path withMetadata(Map<String, String> metadata) throws IOException {
        ClassifierWeights real = ClassifierWeights.of(PRESET, VisionTransformer.classifier(CONFIG, 3, 1),
                List.of("a", "b", "c"), Map.of());
        Map<String, NamedTensor> tensors = new LinkedHashMap<>();
        real.model().namedParameters().forEach((name, t) -> tensors.put(name, new NamedTensor(
                dev.sparkvit.engine.Tensors.shape(t), real.weights().get(name))));
        Path file = tmp.resolve("foreign.safetensors");
        SafeTensors.write(file, tensors, metadata);
        return file;
    }

    private static Map<String, String> meta(String preset, String imgSize, String classes) {
        return Map.of("preset", preset, "img_size", imgSize, "classes", classes);
    }

    private static void assertRejected(Path file, String... fragments) {
        ConfigException e = assertThrows(ConfigException.class, () -> ClassifierWeights.load(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), e.getMessage());
        }
        assertEquals(-1, e.getMessage().indexOf('\n'), "one line: " + e.getMessage());
    }

    @Test
    void theUntamperedFileLoads() throws IOException {
        assertEquals(3, ClassifierWeights.load(withMetadata(meta(PRESET, "16", "[\"a\",\"b\",\"c\"]"))).classes()
                .size());
    }

    @Test
    void anImageSizeThatIsNotASmallWholeNumberIsRejected() throws IOException {
        assertRejected(withMetadata(meta(PRESET, "sixteen", "[\"a\",\"b\",\"c\"]")), "img_size", "sixteen");
        assertRejected(withMetadata(meta(PRESET, "1073741824", "[\"a\",\"b\",\"c\"]")), "img_size");
        assertRejected(withMetadata(meta(PRESET, "-16", "[\"a\",\"b\",\"c\"]")), "img_size");
        assertRejected(withMetadata(meta(PRESET, "17", "[\"a\",\"b\",\"c\"]")), "img_size", "17");
    }

    @Test
    void aMalformedWeightsFileIsBadInputNamingIt() throws IOException {
        Path file = tmp.resolve("garbage.safetensors");
        byte[] header = ("{\"__metadata__\":{\"classes\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(8 + header.length)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(header.length).put(header);
        java.nio.file.Files.write(file, bytes.array());
        assertRejected(file, "not a valid safetensors file", "nested deeper than");
    }

    @Test
    void aTransposedTensorIsRejectedNamingTheTensorBothShapesAndTheFile() throws IOException {
        // head.weight of 3 classes x 64 stored as [64, 3]: the same element count, wrong answers if loaded
        ClassifierWeights real = ClassifierWeights.of(PRESET, VisionTransformer.classifier(CONFIG, 3, 1),
                List.of("a", "b", "c"), Map.of());
        Map<String, NamedTensor> tensors = new LinkedHashMap<>();
        real.model().namedParameters().forEach((name, t) -> tensors.put(name, new NamedTensor(
                dev.sparkvit.engine.Tensors.shape(t), real.weights().get(name))));
        assertEquals(List.of(3, 64), java.util.Arrays.stream(tensors.get("head.weight").shape()).boxed().toList());
        tensors.put("head.weight", new NamedTensor(new int[] {64, 3}, tensors.get("head.weight").values()));
        Path file = tmp.resolve("transposed.safetensors");
        SafeTensors.write(file, tensors, meta(PRESET, "16", "[\"a\",\"b\",\"c\"]"));
        assertRejected(file, "head.weight", "[64, 3]", "[3, 64]");
    }

    @Test
    void anUnknownPresetIsRejectedNamingTheFile() throws IOException {
        assertRejected(withMetadata(meta("vit_colossal", "16", "[\"a\",\"b\",\"c\"]")), "vit_colossal");
    }

    @Test
    void metadataDeclaringAModelLargerThanTheFileIsRejectedBeforeItIsBuilt() throws IOException {
        // 4 million class names: a 4M x 64 head (1 GB of floats) would be allocated before the missing weights were
        // noticed; the file holds the weights of 3 classes
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 4_000_000; i++) {
            many.add("c");
        }
        assertRejected(withMetadata(meta(PRESET, "16", ClassNames.format(many))), "4000000 classes", "holds");
        // an image size whose position embedding the file does not hold (160 px: 1601 tokens, the file has 17)
        assertRejected(withMetadata(meta(PRESET, "160", "[\"a\",\"b\",\"c\"]")), "img_size 160", "holds");
    }
}
