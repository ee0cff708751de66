package dev.sparkvit.jobs.retrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sparkvit.jobs.inference.ClassifierWeights;
import dev.sparkvit.report.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A folder of model versions and the pointer to the one in production:
 * <pre>
 *   REGISTRY/versions/v0001/   finetuned.safetensors, finetuned-ema.safetensors, metrics.json, version.json
 *   REGISTRY/production        the name of the production version (one line), replaced atomically
 *   REGISTRY/.lock             held by the retrain run in progress ({@link RegistryLock})
 * </pre>
 * A version is written to a temporary folder and renamed, so a version folder is complete or absent. Its
 * {@code version.json} records the run key (data fingerprint, resolved config, code version), the warm start, the
 * metrics of the gate, and whether it was promoted. Local file systems only (atomic rename and create).
 *
 * <p>Damage is never repaired by rewriting: a registered version is never changed, replaced or deleted. A damaged
 * production pointer or production version stops a run ({@link CorruptRegistryException}, naming the file and what
 * to do); another damaged version is listed as damaged and skipped when looking for a matching run. Version names
 * are checked everywhere ({@code v} and four or more digits), so no pointer can lead outside the registry.
 */
public final class ModelRegistry {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Pattern VERSION = Pattern.compile("v\\d{4,9}");
    private static final String VERSIONS = "versions";
    private static final String PRODUCTION = "production";
    private static final String LOCK = ".lock";
    private static final String INFO = "version.json";
    private static final String METRICS = "metrics.json";
    private static final String LIVE = "finetuned.safetensors";
    private static final String EMA = "finetuned-ema.safetensors";
    /** version.json and metrics.json are a few KiB; anything far larger is not one of ours. */
    private static final long MAX_JSON_BYTES = 16L << 20;

    private final Path root;

    public ModelRegistry(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    /** Takes the lock (see {@link RegistryLock}); a take-over of a dead run's lock is reported through warn. */
    public RegistryLock lock(Consumer<String> warn) {
        return RegistryLock.acquire(root.resolve(LOCK), warn);
    }

    /** Whether the registry is locked, and by whom, as a status line. */
    public String lockState() {
        return RegistryLock.state(root.resolve(LOCK));
    }

    /** Names of the versions (folder names {@code vNNNN}), oldest first. */
    public List<String> versions() {
        Path dir = root.resolve(VERSIONS);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> VERSION.matcher(n).matches())
                    .sorted(Comparator.comparingLong((String n) -> Long.parseLong(n.substring(1)))
                            .thenComparing(Comparator.naturalOrder()))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /** The folder of a version; the name must be a version name, so the path stays inside the registry. */
    public Path versionDir(String version) {
        if (version == null || !VERSION.matcher(version).matches()) {
            throw new IllegalArgumentException("'" + version + "' is not a version name (v and 4 to 9 digits)");
        }
        return root.resolve(VERSIONS).resolve(version);
    }

    /**
     * What {@code version.json} of a version holds.
     *
     * @throws CorruptRegistryException when it is missing, not JSON or not a JSON object
     */
    @SuppressWarnings("unchecked")
    public Map<String, Object> info(String version) {
        Path file = versionDir(version).resolve(INFO);
        JsonNode node = json(file);
        if (!node.isObject()) {
            throw new CorruptRegistryException("registry file " + file + " is not a JSON object");
        }
        return JSON.convertValue(node, LinkedHashMap.class);
    }

    /**
     * The production version, if any (no pointer file: none).
     *
     * @throws CorruptRegistryException when the pointer is not a file, is empty, holds anything but a version name,
     *     or names a version that is not in the registry
     */
    public Optional<String> production() {
        Path file = root.resolve(PRODUCTION);
        if (!Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        String problem;
        String version = null;
        try {
            if (!Files.isRegularFile(file)) {
                problem = "is not a file";
            } else if (Files.size(file) > 64) {
                problem = "holds " + Files.size(file) + " bytes, not a version name";
            } else {
                version = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).strip();
                problem = version.isEmpty() ? "is empty"
                        : !VERSION.matcher(version).matches() ? "holds " + shown(version) + ", not a version name"
                        : !Files.isDirectory(versionDir(version)) ? "names " + version + ", which is not in "
                        + root.resolve(VERSIONS) : null;
            }
        } catch (IOException e) {
            problem = "cannot be read (" + e + ")";
        }
        if (problem != null) {
            throw new CorruptRegistryException("registry pointer " + file + " " + problem + "; nothing was changed. "
                    + "Write the name of a registered version into it (" + listing() + "), or delete it to have no "
                    + "production model (the next candidate is then promoted without a comparison)");
        }
        return Optional.of(version);
    }

    /**
     * What is wrong with a version's files, if anything: {@code version.json} and {@code metrics.json} must be JSON
     * objects, and the model file must exist; with {@code deep} the model files are also read in full and checked
     * (structure, the data checksum, the classifier's metadata).
     */
    public Optional<String> damage(String version, boolean deep) {
        Path dir = versionDir(version);
        if (!Files.isDirectory(dir)) {
            return Optional.of(dir + " is not a folder");
        }
        try {
            info(version);
            JsonNode metrics = json(dir.resolve(METRICS));
            if (!metrics.isObject()) {
                return Optional.of("registry file " + dir.resolve(METRICS) + " is not a JSON object");
            }
            if (!Files.isRegularFile(dir.resolve(LIVE))) {
                return Optional.of("model file " + dir.resolve(LIVE) + " is missing");
            }
            if (deep) {
                for (String name : List.of(LIVE, EMA)) {
                    if (name.equals(LIVE) || Files.exists(dir.resolve(name))) {
                        ClassifierWeights.load(dir.resolve(name));
                    }
                }
            }
            return Optional.empty();
        } catch (IllegalArgumentException e) { // CorruptRegistryException, ConfigException (weights)
            return Optional.of(e.getMessage());
        }
    }

    /**
     * Checks that a run can use the registry: the production pointer, and the production version's files read in
     * full. Damaged other versions are reported through {@code warn} (they are skipped, never changed).
     *
     * @throws CorruptRegistryException naming the damaged file and what to do
     */
    public void check(Consumer<String> warn) {
        Optional<String> production = production();
        if (production.isPresent()) {
            Optional<String> damage = damage(production.get(), true);
            if (damage.isPresent()) {
                throw new CorruptRegistryException("production version " + production.get() + " is damaged: "
                        + damage.get() + "; nothing was changed. Restore the file from a backup, or point "
                        + root.resolve(PRODUCTION) + " at another version (" + listing() + ")");
            }
        }
        for (String version : versions()) {
            if (!production.map(version::equals).orElse(false)) {
                damage(version, false).ifPresent(problem -> warn.accept("version " + version + " is damaged ("
                        + problem + "): it is skipped when looking for a matching run and left as it is"));
            }
        }
    }

    /** The undamaged version registered with this run key, if any (an identical run already happened). */
    public Optional<String> findByKey(String key) {
        for (String version : versions()) {
            if (damage(version, false).isEmpty() && key.equals(info(version).get("key"))) {
                return Optional.of(version);
            }
        }
        return Optional.empty();
    }

    /**
     * Registers a new version: copies {@code files} and writes {@code version.json} with {@code info} into a
     * temporary folder, then renames it to the next version name, after every existing one (damaged ones
     * included). Call with the lock held.
     */
    public String register(List<Path> files, Map<String, Object> info) {
        List<String> existing = versions();
        long next = existing.isEmpty() ? 1 : Long.parseLong(existing.get(existing.size() - 1).substring(1)) + 1;
        String version = String.format("v%04d", next);
        Path dir = root.resolve(VERSIONS);
        Path target = versionDir(version);
        try {
            Files.createDirectories(dir);
            if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalStateException("version " + target + " exists already; it is not overwritten");
            }
            Path tmp = Files.createTempDirectory(dir, "." + version + "-");
            for (Path file : files) {
                Files.copy(file, tmp.resolve(file.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
            }
            Map<String, Object> all = new LinkedHashMap<>(info);
            all.put("version", version);
            all.put("registered_at", Instant.now().toString());
            JSON.writeValue(tmp.resolve(INFO).toFile(), all);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            return version;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot register a version in " + dir, e);
        }
    }

    /** Points production at {@code version} (write a temporary file, then an atomic rename). */
    public void promote(String version) {
        Optional<String> damage = damage(version, false);
        if (damage.isPresent()) {
            throw new IllegalArgumentException("version " + version + " cannot be promoted: " + damage.get());
        }
        try {
            AtomicFiles.write(root.resolve(PRODUCTION), tmp -> Files.writeString(tmp, version + "\n",
                    StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot switch " + root.resolve(PRODUCTION), e);
        }
    }

    /**
     * One line per version: name, production marker, promoted or not, the gate metric, data and time; a damaged
     * version shows what is wrong instead, and a damaged production pointer adds a first line saying so.
     */
    public List<String> describe() {
        List<String> lines = new ArrayList<>();
        Optional<String> production;
        try {
            production = production();
        } catch (CorruptRegistryException e) {
            production = Optional.empty();
            lines.add("(no production: " + e.getMessage() + ")");
        }
        for (String version : versions()) {
            String marker = production.map(version::equals).orElse(false) ? " (production)" : "";
            Optional<String> damage = damage(version, false);
            if (damage.isPresent()) {
                lines.add(version + marker + "  damaged: " + damage.get());
                continue;
            }
            Map<String, Object> info = info(version);
            String data = String.valueOf(info.get("data_fingerprint"));
            lines.add(String.format("%s%s  %s  %s = %s  data %s  %s", version, marker, info.get("status"),
                    info.get("metric"), score(info.get("candidate_score")), data.substring(0, Math.min(12,
                            data.length())), info.get("registered_at")));
        }
        return lines;
    }

    private JsonNode json(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CorruptRegistryException("registry file " + file + " is missing");
        }
        try {
            if (Files.size(file) > MAX_JSON_BYTES) {
                throw new CorruptRegistryException("registry file " + file + " holds " + Files.size(file)
                        + " bytes, more than the " + MAX_JSON_BYTES + " a registry file may hold");
            }
            byte[] bytes = Files.readAllBytes(file);
            dev.sparkvit.model.io.JsonLimits.check(bytes); // Jackson 2.10 has no nesting or number limits
            JsonNode node = JSON.readTree(bytes);
            if (node == null || node.isMissingNode()) {
                throw new CorruptRegistryException("registry file " + file + " is empty");
            }
            return node;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CorruptRegistryException("registry file " + file + " is not valid JSON: "
                    + e.getOriginalMessage().replaceAll("\\p{Cntrl}", "?"));
        } catch (IOException e) { // JsonLimits' refusals too
            throw new CorruptRegistryException("registry file " + file + " cannot be read: " + e);
        }
    }

    /** The versions as a message lists them. */
    private String listing() {
        List<String> all = versions();
        return all.isEmpty() ? "the registry has no version" : "versions: " + String.join(", ", all);
    }

    private static String shown(String value) {
        String line = value.replaceAll("[^\\x20-\\x7e]", "?");
        return "'" + (line.length() <= 64 ? line : line.substring(0, 64) + "...") + "'";
    }

    /** A score as the registry's listing shows it: three decimals (version.json keeps the full value). */
    private static String score(Object value) {
        return value instanceof Number n ? String.format(java.util.Locale.ROOT, "%.3f", n.doubleValue())
                : String.valueOf(value);
    }
}
