package dev.sparkvit.jobs.retrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sparkvit.jobs.inference.ClassifierWeights;
import dev.sparkvit.lock.FolderLock;
import dev.sparkvit.lock.LockSubject;
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

/**
 * A folder of model versions and the pointer to the one in production:
 * <pre>
 *   REGISTRY/versions/v0001/   finetuned.safetensors, finetuned-ema.safetensors, metrics.json, version.json
 *   REGISTRY/production        the name of the production version (one line), replaced atomically
 *   REGISTRY/.lock             held by the retrain run in progress ({@link FolderLock})
 * </pre>
 * A version is written to a temporary folder and renamed, so a version folder is complete or absent. Its
 * {@code version.json} records the run key (data fingerprint, resolved config, code version), the warm start, the
 * metrics of the gate, and whether it was promoted.
 *
 * <p>Where: a local folder (java.nio; the lock is {@link FolderLock}'s, with its PID-based take-over), or a folder
 * on a Hadoop file system with atomic create-if-absent and rename ({@code hdfs://}, {@code viewfs://}: the lock is a
 * lease, {@link dev.sparkvit.lock.LeasedLock}; versions and the pointer are renamed into place through
 * {@link RegistryStore}). Object
 * stores ({@code s3a://} and every other scheme) are refused ({@link #checkLocation}): without an atomic rename and
 * create-if-absent neither the lock nor the all-or-nothing version could be kept.
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
    private static final String LOCK = FolderLock.FILE;
    private static final String INFO = "version.json";
    private static final String METRICS = "metrics.json";
    private static final String LIVE = "finetuned.safetensors";
    private static final String EMA = "finetuned-ema.safetensors";
    /** version.json and metrics.json are a few KiB; anything far larger is not one of ours. */
    private static final long MAX_JSON_BYTES = 16L << 20;


    /** The local root (null on a Hadoop file system). */
    private final Path localRoot;
    /** The root as messages show it: the local path, or the qualified Hadoop path. */
    private final String root;
    private final RegistryStore store;
    private final org.apache.hadoop.conf.Configuration conf;

    /** A registry in a local folder. */
    public ModelRegistry(Path root) {
        this.localRoot = root.toAbsolutePath().normalize();
        this.root = localRoot.toString();
        this.store = new RegistryStore.Local();
        this.conf = null;
    }

    private ModelRegistry(String root, RegistryStore.Hadoop store, org.apache.hadoop.conf.Configuration conf) {
        this.localRoot = null;
        this.root = root;
        this.store = store;
        this.conf = conf;
    }

    /**
     * The registry at {@code location}: a local path (or {@code file:} URI), or a folder on a Hadoop file system
     * with atomic create-if-absent and rename ({@link FolderLock#ATOMIC_SCHEMES}), reached through {@code conf}.
     *
     * @throws dev.sparkvit.config.ConfigException for any other scheme ({@link #checkLocation})
     */
    public static ModelRegistry open(String location, org.apache.hadoop.conf.Configuration conf) {
        String scheme = checkLocation(location, "registry");
        if (scheme == null) {
            return new ModelRegistry(Path.of(location.startsWith("file:") ? java.net.URI.create(location).getPath()
                    : location));
        }
        try {
            org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(location);
            org.apache.hadoop.fs.FileSystem fs = path.getFileSystem(conf);
            return new ModelRegistry(fs.makeQualified(path).toString(), new RegistryStore.Hadoop(fs, conf), conf);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reach the registry " + location, e);
        }
    }

    /**
     * Checks that a registry can live at {@code location}; returns its Hadoop scheme, or null for a local path
     * ({@link FolderLock#checkLocation}: S3A and the other object stores are refused).
     *
     * @param what how the message names the setting ("FILE: registry")
     */
    public static String checkLocation(String location, String what) {
        return FolderLock.checkLocation(LockSubject.REGISTRY, location, what);
    }

    /** The root of a local registry. */
    public Path root() {
        if (localRoot == null) {
            throw new IllegalStateException("registry " + root + " is not a local folder");
        }
        return localRoot;
    }

    /** The root as a local path or a qualified Hadoop path. */
    public String location() {
        return root;
    }

    /** Whether the registry is on a Hadoop file system (its files are copied to read model files locally). */
    public boolean remote() {
        return store.remote();
    }

    private String at(String... names) {
        String location = root;
        for (String name : names) {
            location = store.child(location, name);
        }
        return location;
    }

    /** Takes the lock (see {@link FolderLock}); a take-over of a dead run's lock is reported through warn. */
    public FolderLock lock(Consumer<String> warn) {
        if (localRoot != null) {
            return FolderLock.acquire(LockSubject.REGISTRY, localRoot.resolve(LOCK), warn);
        }
        return FolderLock.acquire(LockSubject.REGISTRY, ((RegistryStore.Hadoop) store).fs(),
                new org.apache.hadoop.fs.Path(at(LOCK)), root, FolderLock.leaseSeconds(LockSubject.REGISTRY, conf),
                warn);
    }

    /** Whether the registry is locked, and by whom, as a status line. */
    public String lockState() {
        if (localRoot != null) {
            return FolderLock.state(LockSubject.REGISTRY, localRoot.resolve(LOCK));
        }
        return FolderLock.state(LockSubject.REGISTRY, ((RegistryStore.Hadoop) store).fs(),
                new org.apache.hadoop.fs.Path(at(LOCK)));
    }

    /** Names of the versions (folder names {@code vNNNN}), oldest first. */
    public List<String> versions() {
        String dir = at(VERSIONS);
        if (!store.isDirectory(dir)) {
            return List.of();
        }
        try {
            return store.list(dir).stream().filter(n -> VERSION.matcher(n).matches())
                    .sorted(Comparator.comparingLong((String n) -> Long.parseLong(n.substring(1)))
                            .thenComparing(Comparator.naturalOrder()))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /**
     * The folder of a version of a local registry; the name must be a version name, so the path stays inside the
     * registry.
     */
    public Path versionDir(String version) {
        return root().resolve(VERSIONS).resolve(checked(version));
    }

    /** The folder of a version, as a local path or a Hadoop path. */
    public String versionLocation(String version) {
        return at(VERSIONS, checked(version));
    }

    private static String checked(String version) {
        if (version == null || !VERSION.matcher(version).matches()) {
            throw new IllegalArgumentException("'" + version + "' is not a version name (v and 4 to 9 digits)");
        }
        return version;
    }

    /**
     * A local folder with a version's model files, to read them: the version's folder on a local registry; on a
     * Hadoop file system, {@code cache/VERSION}, filled with copies of its model files. A copy is reused only while
     * its record ({@code .complete}: the registry, each file's length and modification time) matches the registry's
     * files, so a registry recreated at the same place, or another registry, is never served an old copy.
     */
    public Path localModelDir(String version, Path cache) {
        if (localRoot != null) {
            return versionDir(version);
        }
        Path dir = cache.resolve(checked(version));
        try {
            StringBuilder record = new StringBuilder(root).append('\n');
            for (String name : List.of(LIVE, EMA)) {
                String file = at(VERSIONS, version, name);
                record.append(name).append(' ').append(store.isFile(file) ? store.stamp(file) : "-").append('\n');
            }
            Path complete = dir.resolve(".complete");
            if (Files.isRegularFile(complete) && Files.readString(complete).equals(record.toString())) {
                return dir;
            }
            Files.deleteIfExists(complete);
            Files.createDirectories(dir);
            for (String name : List.of(LIVE, EMA)) {
                String file = at(VERSIONS, version, name);
                Files.deleteIfExists(dir.resolve(name));
                if (store.isFile(file)) {
                    Path copy = store.localCopy(file, dir);
                    Files.move(copy, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING,
                            StandardCopyOption.ATOMIC_MOVE);
                }
            }
            Files.writeString(complete, record.toString());
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy version " + version + " of " + root + " to " + dir, e);
        }
    }

    /**
     * What {@code version.json} of a version holds.
     *
     * @throws CorruptRegistryException when it is missing, not JSON or not a JSON object
     */
    @SuppressWarnings("unchecked")
    public Map<String, Object> info(String version) {
        String file = at(VERSIONS, checked(version), INFO);
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
        String file = at(PRODUCTION);
        String problem;
        String version = null;
        try {
            if (!store.exists(file)) {
                return Optional.empty();
            }
            if (!store.isFile(file)) {
                problem = "is not a file";
            } else if (store.size(file) > 64) {
                problem = "holds " + store.size(file) + " bytes, not a version name";
            } else {
                version = new String(store.read(file), StandardCharsets.UTF_8).strip();
                problem = version.isEmpty() ? "is empty"
                        : !VERSION.matcher(version).matches() ? "holds " + shown(version) + ", not a version name"
                        : !store.isDirectory(versionLocation(version)) ? "names " + version + ", which is not in "
                        + at(VERSIONS) : null;
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
        String dir = versionLocation(version);
        if (!store.isDirectory(dir)) {
            return Optional.of(dir + " is not a folder");
        }
        try {
            info(version);
            JsonNode metrics = json(store.child(dir, METRICS));
            if (!metrics.isObject()) {
                return Optional.of("registry file " + store.child(dir, METRICS) + " is not a JSON object");
            }
            if (!store.isFile(store.child(dir, LIVE))) {
                return Optional.of("model file " + store.child(dir, LIVE) + " is missing");
            }
            if (deep) {
                for (String name : List.of(LIVE, EMA)) {
                    String file = store.child(dir, name);
                    if (name.equals(LIVE) || store.exists(file)) {
                        load(file);
                    }
                }
            }
            return Optional.empty();
        } catch (IllegalArgumentException e) { // CorruptRegistryException, ConfigException (weights)
            return Optional.of(e.getMessage());
        } catch (IOException e) {
            return Optional.of(dir + " cannot be read (" + e + ")");
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
                        + at(PRODUCTION) + " at another version (" + listing() + ")");
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
        String dir = at(VERSIONS);
        String target = versionLocation(version);
        String tmp = null;
        try {
            store.createDirectories(dir);
            if (store.exists(target)) {
                throw new IllegalStateException("version " + target + " exists already; it is not overwritten");
            }
            tmp = store.createTempDirectory(dir, "." + version + "-");
            for (Path file : files) {
                store.copyIn(file, store.child(tmp, file.getFileName().toString()));
            }
            Map<String, Object> all = new LinkedHashMap<>(info);
            all.put("version", version);
            all.put("registered_at", Instant.now().toString());
            store.write(store.child(tmp, INFO), JSON.writeValueAsBytes(all));
            store.moveDirectory(tmp, target);
            tmp = null;
            return version;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot register a version in " + dir, e);
        } finally {
            if (tmp != null && store.remote()) {
                try {
                    store.deleteRecursively(tmp);
                } catch (IOException e) {
                    org.slf4j.LoggerFactory.getLogger(ModelRegistry.class).warn("cannot delete {}: {}", tmp, e
                            .toString());
                }
            }
        }
    }

    /** Points production at {@code version} (write a temporary file, then an atomic rename). */
    public void promote(String version) {
        Optional<String> damage = damage(version, false);
        if (damage.isPresent()) {
            throw new IllegalArgumentException("version " + version + " cannot be promoted: " + damage.get());
        }
        try {
            store.replace(at(PRODUCTION), (version + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot switch " + at(PRODUCTION), e);
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

    /** Reads a model file in full and checks it (a local copy of a remote one, deleted afterwards). */
    private void load(String file) throws IOException {
        Path local = store.localCopy(file, Path.of(System.getProperty("java.io.tmpdir")));
        try {
            ClassifierWeights.load(local);
        } catch (IllegalArgumentException e) { // the copy's name would mislead: name the registry's file
            throw store.remote() ? new CorruptRegistryException(e.getMessage().replace(local.toString(), file)) : e;
        } finally {
            if (store.remote()) {
                Files.deleteIfExists(local);
            }
        }
    }

    private JsonNode json(String file) {
        if (!store.isFile(file)) {
            throw new CorruptRegistryException("registry file " + file + " is missing");
        }
        try {
            if (store.size(file) > MAX_JSON_BYTES) {
                throw new CorruptRegistryException("registry file " + file + " holds " + store.size(file)
                        + " bytes, more than the " + MAX_JSON_BYTES + " a registry file may hold");
            }
            byte[] bytes = store.read(file);
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
