package dev.sparkvit.jobs.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.io.VitWeights;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitPresets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A classifier's weights file keeps the weights, the class names (whatever characters they hold) and the model. */
class ClassifierWeightsTest {
    private static final String PRESET = "vit_nano_patch4_32";
    private static final VitConfig CONFIG = VitPresets.get(PRESET).withImgSize(16);
    private static final List<String> CLASSES = List.of("cat", "say \"hi\", then, go", "naïve 猫 🐈", "a\\b",
            "[not, a, list]");

    @TempDir
    Path tmp;

    @Test
    void saveThenLoadGivesTheSameWeightsClassesAndArchitecture() {
        ClassifierWeights saved = ClassifierWeights.of(PRESET, VisionTransformer.classifier(CONFIG, CLASSES.size(), 3),
                CLASSES, Map.of("dataset", "/data/ds", "kind", "ema"));
        Path file = tmp.resolve("finetuned.safetensors");
        saved.save(file);

        ClassifierWeights loaded = ClassifierWeights.load(file);
        assertEquals(PRESET, loaded.preset());
        assertEquals(CONFIG, loaded.config());
        assertEquals(16, loaded.config().imgSize());
        assertEquals(CLASSES, loaded.classes());
        assertEquals(saved.weights().keySet(), loaded.weights().keySet());
        saved.weights().forEach((name, values) -> assertArrayEquals(values, loaded.weights().get(name), name));
        assertEquals("/data/ds", loaded.metadata().get("dataset"));
        assertEquals("ema", loaded.metadata().get("kind"));
        assertEquals("16", loaded.metadata().get("img_size"));
        assertNotEquals(saved.id(), loaded.id(), "a loaded instance gets its own models");
        // the rebuilt model carries the loaded weights, not a fresh initialisation
        loaded.model().namedParameters().forEach((name, tensor) -> assertArrayEquals(saved.weights().get(name),
                Tensors.toArray(tensor), name));
    }

    @Test
    void aWeightsFileWithoutClassesIsRejectedNamingIt() throws IOException {
        Path file = tmp.resolve("pretrained.safetensors");
        VitWeights.save(VisionTransformer.classifier(CONFIG, 3, 1), file, Map.of("preset", PRESET, "img_size",
                "16"));
        ConfigException e = assertThrows(ConfigException.class, () -> ClassifierWeights.load(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("classes"), e.getMessage());
    }

    @Test
    void classesThatDoNotFitTheHeadOrAMissingFileAreRejectedNamingTheFile() throws IOException {
        Path file = tmp.resolve("three.safetensors");
        VitWeights.save(VisionTransformer.classifier(CONFIG, 3, 1), file, Map.of("preset", PRESET, "img_size", "16",
                "classes", ClassNames.format(List.of("a", "b"))));
        ConfigException wrongHead = assertThrows(ConfigException.class, () -> ClassifierWeights.load(file));
        assertTrue(wrongHead.getMessage().contains(file.toString()) && wrongHead.getMessage().contains("head"),
                wrongHead.getMessage());
        Path absent = tmp.resolve("absent.safetensors");
        ConfigException missing = assertThrows(ConfigException.class, () -> ClassifierWeights.load(absent));
        assertTrue(missing.getMessage().contains(absent.toString()), missing.getMessage());
    }
}
