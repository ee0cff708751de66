package dev.sparkvit.provenance;

import dev.sparkvit.data.ingest.DatasetSnapshot;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The identity every weights file a training run writes carries in its metadata: {@value #CODE_VERSION}
 * ({@link CodeVersion}), {@value #CONFIG_SHA256} (SHA-256 of the run's resolved settings, one {@code key=value} line
 * each in their order: the settings a checkpoint records and a resume must keep), {@value #DATASET} (the dataset
 * folder) and {@value #DATASET_SNAPSHOT} (the table snapshot the run read).
 */
public final class WeightsProvenance {
    public static final String CODE_VERSION = "code_version";
    public static final String CONFIG_SHA256 = "config_sha256";
    public static final String DATASET = "dataset";
    public static final String DATASET_SNAPSHOT = "dataset_snapshot";

    private WeightsProvenance() {
    }

    /** The four fields for a run of {@code settings} on {@code data}. */
    public static Map<String, String> of(Map<String, String> settings, DatasetSnapshot data) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(CODE_VERSION, CodeVersion.current());
        meta.put(CONFIG_SHA256, configSha256(settings));
        meta.put(DATASET, data.dataset());
        meta.put(DATASET_SNAPSHOT, String.valueOf(data.id()));
        return meta;
    }

    /** SHA-256 of {@code settings} as {@code key=value} lines in their order. */
    public static String configSha256(Map<String, String> settings) {
        StringBuilder text = new StringBuilder();
        settings.forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
        return sha256(text.toString());
    }

    /** SHA-256 of {@code text}'s UTF-8 bytes, as hex. */
    public static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(
                    StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
