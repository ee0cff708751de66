package dev.sparkvit.checkpoint;

import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.NonFiniteValuesException;
import dev.sparkvit.model.io.SafeTensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A folder of training checkpoints, one sub-folder {@code iter-NNNNNNNNN} each, holding {@code checkpoint.safetensors}
 * (tensors and run metadata, no Java serialization: {@link CheckpointFormat}) and {@code checkpoint.sha256}. A checkpoint is written under a
 * temporary name ({@code .tmp-*}), forced to disk, and renamed into place, so a crash leaves either the whole
 * checkpoint or none; the checksum and the content are verified on every load. Nothing is ever deleted or replaced
 * to make room for a checkpoint:
 * <ul>
 *   <li>a second checkpoint of the same iteration gets the next free name {@code iter-N.1}, {@code iter-N.2}, ...,
 *       which sorts after the first (the old one is pruned like any older checkpoint, once the new one is in place);
 *   <li>the newest {@code keep} checkpoints are kept; an older one is deleted only after its checksum was verified,
 *       and one that fails is renamed {@code corrupt-iter-N} instead (kept for inspection, never pruned);
 *   <li>a resume that skips corrupt checkpoints ({@link OnCorrupt#PREVIOUS}) renames them the same way.
 * </ul>
 * Temporary folders of interrupted writes are never loaded; they are removed once the next checkpoint is in place.
 */
public final class CheckpointStore {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);
    private static final Pattern NAME = Pattern.compile("iter-(\\d{9,18})(?:\\.(\\d{1,9}))?");
    private static final String CORRUPT = "corrupt-";
    private static final String TMP = ".tmp-";
    private static final String DATA = "checkpoint.safetensors";
    private static final String SUM = "checkpoint.sha256";
    private static final Pattern SUM_LINE = Pattern.compile("([0-9a-f]{64})(?:[ \\t]+\\*?" + Pattern.quote(DATA)
            + ")?\\s*");

    /** What a resume does when the newest checkpoint is corrupt ({@code training.checkpoint.on_corrupt}). */
    public enum OnCorrupt {
        /** Stop with an error naming the file (nothing is renamed or deleted). */
        FAIL,
        /** Rename each corrupt one to {@code corrupt-iter-N}, warn, and resume from the newest valid one. */
        PREVIOUS
    }

    private final Path dir;
    private final int keep;

    public CheckpointStore(Path dir, int keep) {
        if (keep < 1) {
            throw new IllegalArgumentException("checkpoints to keep must be at least 1, got " + keep);
        }
        this.dir = dir;
        this.keep = keep;
    }

    public Path dir() {
        return dir;
    }

    /**
     * Checkpoint folders ({@code iter-N}, {@code iter-N.G}), newest first: by iteration, then by generation. Temporary
     * folders of interrupted writes and checkpoints renamed {@code corrupt-*} are not listed.
     */
    public List<Path> list() {
        return entries(p -> NAME.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p)).stream()
                .sorted(Comparator.comparingLong((Path p) -> orderKey(p)[0]).thenComparingLong(p -> orderKey(p)[1])
                        .reversed())
                .toList();
    }

    /** Temporary folders left by interrupted writes (never loaded). */
    public List<Path> interrupted() {
        return entries(p -> p.getFileName().toString().startsWith(TMP)).stream().sorted().toList();
    }

    /** Whether {@code folder} is meant to be one checkpoint (by its name or its files), intact or not. */
    public static boolean isCheckpoint(Path folder) {
        return NAME.matcher(String.valueOf(folder.getFileName())).matches() || Files.exists(folder.resolve(DATA))
                || Files.exists(folder.resolve(SUM));
    }

    /**
     * Writes a checkpoint atomically and prunes the oldest beyond {@code keep}; returns its folder.
     *
     * @throws NonFiniteValuesException before anything is written or pruned, when a weight, EMA or optimiser tensor
     *     holds NaN or infinity (a poisoned state must never replace good checkpoints)
     */
    public Path write(TrainingCheckpoint checkpoint) {
        CheckpointFormat.Encoded encoded = CheckpointFormat.encode(checkpoint);
        Map<String, NamedTensor> tensors = encoded.tensors();
        Map<String, String> meta = encoded.metadata();
        // before a name is chosen or anything is written: a poisoned state never reaches the folder
        NonFiniteValuesException.requireFinite(tensors, "checkpoint of iteration "
                + checkpoint.progress().iterations() + " in " + dir);
        Path target = freeName(checkpoint.progress().iterations());
        Path tmp = dir.resolve(TMP + target.getFileName() + "-" + System.nanoTime());
        try {
            Files.createDirectories(tmp);
            Path data = tmp.resolve(DATA);
            SafeTensors.write(data, tensors, meta);
            Path sum = tmp.resolve(SUM);
            Files.writeString(sum, sha256(data) + "  " + DATA + "\n", StandardCharsets.UTF_8);
            force(sum);
            // the target name is free: no existing checkpoint is deleted or replaced to make room
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            force(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + target, e);
        }
        for (Path stale : interrupted()) {
            deleteTree(stale); // a write that never completed; the checkpoint just written supersedes it
        }
        List<Path> all = list();
        for (int i = keep; i < all.size(); i++) {
            prune(all.get(i));
        }
        return target;
    }

    /** The newest checkpoint, verified; empty when there is none. A corrupt newest checkpoint is an error. */
    public Optional<TrainingCheckpoint> latest() {
        return latest(OnCorrupt.FAIL, line -> { });
    }

    /**
     * The newest valid checkpoint; empty when there is none. With {@link OnCorrupt#FAIL} a corrupt newest checkpoint
     * is an error and nothing is changed. With {@link OnCorrupt#PREVIOUS} each corrupt one newer than the first valid
     * one is renamed {@code corrupt-iter-N} (kept, never pruned) and reported through {@code warn}; when every
     * checkpoint is corrupt that is an error.
     */
    public Optional<TrainingCheckpoint> latest(OnCorrupt onCorrupt, Consumer<String> warn) {
        for (Path stale : interrupted()) {
            warn.accept("ignoring " + stale + ": the temporary folder of an interrupted checkpoint write (never "
                    + "loaded; removed once the next checkpoint is written)");
        }
        List<Path> all = list();
        List<Path> skipped = new ArrayList<>();
        for (Path folder : all) {
            try {
                return Optional.of(read(folder));
            } catch (CorruptCheckpointException e) {
                if (onCorrupt == OnCorrupt.FAIL) {
                    throw e;
                }
                Path kept = moveAside(folder);
                skipped.add(kept);
                warn.accept(e.getMessage() + "; skipped, kept as " + kept);
            }
        }
        if (!skipped.isEmpty()) {
            throw new CorruptCheckpointException("every checkpoint in " + dir + " is corrupt (kept as " + skipped
                    .stream().map(p -> p.getFileName().toString()).toList() + "): there is nothing to resume from");
        }
        return Optional.empty();
    }

    /**
     * The run settings ({@code run/} metadata) recorded by the newest checkpoint whose header reads, from the header
     * alone (no tensor read, nothing verified or renamed); empty when there is none. Every checkpoint of a run
     * records the same settings, so this is what the checkpoint a resume loads records.
     */
    public Optional<Map<String, String>> recordedRun() {
        for (Path folder : list()) {
            try {
                return Optional.of(CheckpointFormat.runSettings(SafeTensors.metadata(folder.resolve(DATA))));
            } catch (IOException e) {
                // a damaged header: the resume's own read names it; an older checkpoint may still tell
            }
        }
        return Optional.empty();
    }

    /**
     * Reads and verifies one checkpoint folder: both files present, the checksum file well formed and matching, the
     * content a valid safetensors file of this format whose metadata and tensors are complete and consistent.
     *
     * @throws CorruptCheckpointException naming the file and what is wrong with it
     */
    public static TrainingCheckpoint read(Path folder) {
        Path data = folder.resolve(DATA);
        verify(folder);
        SafeTensors.Contents contents;
        try {
            contents = SafeTensors.read(data);
        } catch (IOException e) {
            throw new CorruptCheckpointException("checkpoint file " + e.getMessage() + " (although its checksum "
                    + "matches: it was written so, not damaged later)");
        }
        TrainingCheckpoint checkpoint = CheckpointFormat.decode(contents, data);
        long iteration = checkpoint.progress().iterations();
        Matcher name = NAME.matcher(String.valueOf(folder.getFileName()));
        if (name.matches() && Long.parseLong(name.group(1)) != iteration) {
            throw new CorruptCheckpointException("checkpoint file " + data + " records iteration " + iteration
                    + " but its folder is named for iteration " + Long.parseLong(name.group(1)));
        }
        return checkpoint;
    }

    /**
     * Checks one checkpoint folder's files and checksum without parsing the content.
     *
     * @throws CorruptCheckpointException naming the missing, malformed or mismatching file
     */
    public static void verify(Path folder) {
        Path data = folder.resolve(DATA);
        Path sum = folder.resolve(SUM);
        if (!Files.isDirectory(folder)) {
            throw new CorruptCheckpointException("checkpoint " + folder + " is not a folder");
        }
        List<String> missing = new ArrayList<>();
        for (Path file : List.of(data, sum)) {
            if (!Files.isRegularFile(file)) {
                missing.add(file.getFileName().toString());
            }
        }
        if (!missing.isEmpty()) {
            throw new CorruptCheckpointException("checkpoint " + folder + " is incomplete: " + String.join(" and ",
                    missing) + (missing.size() > 1 ? " are" : " is") + " missing (a checkpoint holds " + DATA
                    + " and " + SUM + ")");
        }
        try {
            String recorded = recordedSum(sum);
            String actual = sha256(data);
            if (!recorded.equals(actual)) {
                throw new CorruptCheckpointException("checkpoint file " + data + " is corrupt: SHA-256 " + actual
                        + " does not match " + recorded + " recorded in " + sum + " (" + Files.size(data)
                        + " bytes: truncated or changed after it was written)");
            }
        } catch (IOException e) {
            throw new CorruptCheckpointException("checkpoint " + folder + " cannot be read: " + e);
        }
    }

    /** The SHA-256 a checksum file records, checked to be one line of 64 hex digits and the data file's name. */
    private static String recordedSum(Path sum) throws IOException {
        long size = Files.size(sum);
        if (size == 0) {
            throw new CorruptCheckpointException("checksum file " + sum + " is empty");
        }
        String text = size > 1024 ? "" : new String(Files.readAllBytes(sum), StandardCharsets.UTF_8);
        Matcher line = SUM_LINE.matcher(text);
        if (!line.matches()) {
            throw new CorruptCheckpointException("checksum file " + sum + " does not hold a SHA-256 of " + DATA
                    + " (it holds " + (size > 1024 ? size + " bytes" : CheckpointFormat.shown(text.strip())) + ")");
        }
        return line.group(1);
    }

    /** iteration, then generation: iter-N.1 is newer than iter-N. */
    private static long[] orderKey(Path folder) {
        Matcher m = NAME.matcher(folder.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalStateException("not a checkpoint name: " + folder);
        }
        return new long[] {Long.parseLong(m.group(1)), m.group(2) == null ? 0 : Long.parseLong(m.group(2)) + 1};
    }

    /** {@code iter-N}, or the first free {@code iter-N.G} when a checkpoint of that iteration exists. */
    private Path freeName(long iteration) {
        String base = String.format("iter-%09d", iteration);
        Path target = dir.resolve(base);
        for (int generation = 1; Files.exists(target); generation++) {
            target = dir.resolve(base + "." + generation);
        }
        return target;
    }

    /** Deletes a checkpoint beyond {@code keep} once its checksum is verified; a corrupt one is renamed instead. */
    private void prune(Path folder) {
        try {
            verify(folder);
        } catch (CorruptCheckpointException e) {
            Path kept = moveAside(folder);
            LOG.warn("{}; not pruned, kept as {}", e.getMessage(), kept);
            return;
        }
        deleteTree(folder);
    }

    /** Renames a corrupt checkpoint to {@code corrupt-<name>} (or {@code corrupt-<name>-K} when taken). */
    private Path moveAside(Path folder) {
        Path target = dir.resolve(CORRUPT + folder.getFileName());
        for (int k = 2; Files.exists(target); k++) {
            target = dir.resolve(CORRUPT + folder.getFileName() + "-" + k);
        }
        try {
            Files.move(folder, target, StandardCopyOption.ATOMIC_MOVE);
            force(dir);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rename corrupt checkpoint " + folder + " to " + target, e);
        }
    }

    private List<Path> entries(java.util.function.Predicate<Path> keep) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(keep).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir, e);
        }
    }

    private static String sha256(Path file) throws IOException {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (var in = Files.newInputStream(file)) {
                byte[] buffer = new byte[1 << 16];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    digest.update(buffer, 0, n);
                }
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    private static void force(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                channel.force(true);
            } catch (IOException ignored) {
                // some file systems cannot sync a directory; the rename is still atomic
            }
            return;
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            List<Path> paths = new ArrayList<>(walk.toList());
            java.util.Collections.reverse(paths);
            for (Path p : paths) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }
}
