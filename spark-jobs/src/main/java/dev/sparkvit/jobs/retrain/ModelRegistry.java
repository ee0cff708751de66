package dev.sparkvit.jobs.retrain;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sparkvit.report.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A folder of model versions and the pointer to the one in production:
 * <pre>
 *   REGISTRY/versions/v0001/   finetuned.safetensors, finetuned-ema.safetensors, metrics.json, version.json
 *   REGISTRY/production        the name of the production version (one line), replaced atomically
 *   REGISTRY/.lock             held by the retrain run in progress (created atomically; who and since when)
 * </pre>
 * A version is written to a temporary folder and renamed, so a version folder is complete or absent. Its
 * {@code version.json} records the run key (data fingerprint, resolved config, code version), the warm start, the
 * metrics of the gate, and whether it was promoted. Local file systems only (atomic rename and create).
 */
public final class ModelRegistry {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String VERSIONS = "versions";
    private static final String PRODUCTION = "production";
    private static final String LOCK = ".lock";
    private static final String INFO = "version.json";
    /** Version folder names; anything else read from the pointer file could name a folder outside versions/. */
    private static final java.util.regex.Pattern VERSION_NAME = java.util.regex.Pattern.compile("v\\d{4,}");

    private final Path root;

    public ModelRegistry(Path root) {
        this.root = root.toAbsolutePath();
    }

    public Path root() {
        return root;
    }

    /** The lock of one retrain run; closing releases it. */
    public final class Lock implements AutoCloseable {
        private final Path file;

        private Lock(Path file) {
            this.file = file;
        }

        @Override
        public void close() {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot release the registry lock " + file, e);
            }
        }
    }

    /**
     * Takes the lock, or fails at once when another run holds it (the message says who and since when, and how to
     * clear a lock left by a killed run).
     */
    public Lock lock() {
        Path file = root.resolve(LOCK);
        try {
            Files.createDirectories(root);
            Files.writeString(Files.createFile(file), "pid " + ManagementFactory.getRuntimeMXBean().getName()
                    + " since " + Instant.now() + "\n", StandardCharsets.UTF_8);
            return new Lock(file);
        } catch (FileAlreadyExistsException e) {
            throw held(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the registry lock " + file, e);
        }
    }

    /**
     * Fails when another run holds the lock: a check before any cluster time is spent. {@link #lock()} stays the
     * authority (a run may take the lock between this check and that call).
     */
    public void requireUnlocked() {
        Path file = root.resolve(LOCK);
        if (Files.exists(file)) {
            throw held(file);
        }
    }

    private LockHeldException held(Path file) {
        String holder;
        try {
            holder = Files.readString(file, StandardCharsets.UTF_8).trim();
        } catch (IOException unreadable) {
            holder = "unknown holder";
        }
        return new LockHeldException("registry " + root + " is locked by another retrain run (" + holder + "); "
                + "if no run is active (a killed run leaves its lock), delete " + file);
    }

    /** Names of the versions, oldest first. */
    public List<String> versions() {
        Path dir = root.resolve(VERSIONS);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> n.matches("v\\d{4,}")).sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    public Path versionDir(String version) {
        return root.resolve(VERSIONS).resolve(version);
    }

    /** What {@code version.json} of a version holds. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> info(String version) {
        Path file = versionDir(version).resolve(INFO);
        try {
            byte[] json = Files.readAllBytes(file);
            dev.sparkvit.model.io.JsonLimits.check(json); // Jackson 2.10 has no nesting or number limits
            return JSON.readValue(json, LinkedHashMap.class);
        } catch (IOException e) {
            throw new UncheckedIOException("registry file " + file + " is missing or not valid JSON", e);
        }
    }

    /** The production version, if any. */
    public Optional<String> production() {
        Path file = root.resolve(PRODUCTION);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            String version = Files.readString(file, StandardCharsets.UTF_8).trim();
            if (!VERSION_NAME.matcher(version).matches()) {
                String shown = version.length() > 80 ? version.substring(0, 80) + "..." : version;
                throw new IllegalStateException("registry pointer " + file + " holds '"
                        + shown.replaceAll("\\p{Cntrl}", "?") + "', which is not a version name (vNNNN); write "
                        + "the production version's name into it");
            }
            if (!Files.isDirectory(versionDir(version))) {
                throw new IllegalStateException("registry pointer " + file + " names " + version
                        + ", which is not in " + root.resolve(VERSIONS));
            }
            return Optional.of(version);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** The version registered with this run key, if any (an identical run already happened). */
    public Optional<String> findByKey(String key) {
        for (String version : versions()) {
            if (key.equals(info(version).get("key"))) {
                return Optional.of(version);
            }
        }
        return Optional.empty();
    }

    /**
     * Registers a new version: copies {@code files} and writes {@code version.json} with {@code info} into a
     * temporary folder, then renames it to the next version name. Call with the lock held.
     */
    public String register(List<Path> files, Map<String, Object> info) {
        List<String> existing = versions();
        int next = existing.isEmpty() ? 1 : Integer.parseInt(existing.get(existing.size() - 1).substring(1)) + 1;
        String version = String.format("v%04d", next);
        Path dir = root.resolve(VERSIONS);
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempDirectory(dir, "." + version + "-");
            for (Path file : files) {
                Files.copy(file, tmp.resolve(file.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
            }
            Map<String, Object> all = new LinkedHashMap<>(info);
            all.put("version", version);
            all.put("registered_at", Instant.now().toString());
            JSON.writeValue(tmp.resolve(INFO).toFile(), all);
            Files.move(tmp, dir.resolve(version), StandardCopyOption.ATOMIC_MOVE);
            return version;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot register a version in " + dir, e);
        }
    }

    /** Points production at {@code version} (write a temporary file, then an atomic rename). */
    public void promote(String version) {
        if (!Files.isDirectory(versionDir(version))) {
            throw new IllegalArgumentException("no version " + version + " in " + root);
        }
        try {
            AtomicFiles.write(root.resolve(PRODUCTION), tmp -> Files.writeString(tmp, version + "\n",
                    StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot switch " + root.resolve(PRODUCTION), e);
        }
    }

    /** One line per version: name, promoted or not, production marker and the gate metric. */
    public List<String> describe() {
        Optional<String> production = production();
        List<String> lines = new ArrayList<>();
        for (String version : versions()) {
            Map<String, Object> info = info(version);
            lines.add(String.format("%s%s  %s  %s = %s  data %s  %s", version,
                    production.map(version::equals).orElse(false) ? " (production)" : "",
                    info.get("status"), info.get("metric"), score(info.get("candidate_score")),
                    String.valueOf(info.get("data_fingerprint")).substring(0, 12), info.get("registered_at")));
        }
        return lines;
    }

    /** A score as the registry's listing shows it: three decimals (version.json keeps the full value). */
    private static String score(Object value) {
        return value instanceof Number n ? String.format(java.util.Locale.ROOT, "%.3f", n.doubleValue())
                : String.valueOf(value);
    }
}
