package dev.sparkvit.jobs.retrain;

import dev.sparkvit.jobs.inference.ClassifierWeights;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitPresets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A registry built with the registry's own code and real files (tiny classifiers written by ClassifierWeights,
 * metrics as JSON), no training: versions v0001..vN, production pointing at the last, and helpers to snapshot every
 * byte of it so a test can show nothing changed.
 */
final class RegistryFixture {
    private RegistryFixture() {
    }

    static ModelRegistry registry(Path root, int versions) {
        return fill(new ModelRegistry(root), root.resolveSibling(root.getFileName() + "-staging"), versions);
    }

    /** Registers and promotes {@code versions} versions in {@code registry} (on any file system), staged locally. */
    static ModelRegistry fill(ModelRegistry registry, Path staging, int versions) {
        int first = registry.versions().size() + 1;
        try {
            Files.createDirectories(staging);
            for (int v = first; v < first + versions; v++) {
                Path live = staging.resolve("finetuned.safetensors");
                Path ema = staging.resolve("finetuned-ema.safetensors");
                Path metrics = staging.resolve("metrics.json");
                VisionTransformer vit = VisionTransformer.classifier(VitPresets.get("vit_nano_patch4_32")
                        .withImgSize(16), 3, v);
                ClassifierWeights.of("vit_nano_patch4_32", vit, List.of("a", "b", "c"), Map.of("kind", "live"))
                        .save(live);
                ClassifierWeights.of("vit_nano_patch4_32", vit, List.of("a", "b", "c"), Map.of("kind", "ema"))
                        .save(ema);
                Files.writeString(metrics, "{\"ema+tta\": {\"accuracy\": 0." + (4 + v) + "}}\n");
                Map<String, Object> info = new LinkedHashMap<>();
                info.put("key", "key-" + v);
                info.put("status", "promoted");
                info.put("metric", "accuracy (ema+tta, test)");
                info.put("candidate_score", 0.4 + v / 10.0);
                info.put("data_fingerprint", "0123456789abcdef" + v);
                String version = registry.register(List.of(live, ema, metrics), info);
                registry.promote(version);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return registry;
    }

    /** Every file under {@code root} (hidden ones included) with its bytes. */
    static Map<String, String> snapshot(Path root) {
        Map<String, String> files = new TreeMap<>();
        if (!Files.exists(root)) {
            return files;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                files.put(root.relativize(p).toString(), Files.isDirectory(p) ? "<dir>"
                        : java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                        .digest(Files.readAllBytes(p))));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return files;
    }
}
