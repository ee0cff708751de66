package dev.sparkvit.checkpoint;

import dev.sparkvit.engine.DistributedTraining;
import dev.sparkvit.engine.PartitionedOptimizerState;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A folder of training checkpoints, one sub-folder {@code iter-NNNNNNNNN} each, holding {@code checkpoint.safetensors}
 * (tensors and run metadata, no Java serialization) and {@code checkpoint.sha256}. A checkpoint is written under a
 * temporary name, forced to disk, and renamed into place, so a crash leaves either the whole checkpoint or none;
 * the checksum is verified on every load. The newest {@code keep} checkpoints are kept.
 */
public final class CheckpointStore {
    private static final String PREFIX = "iter-";
    private static final String DATA = "checkpoint.safetensors";
    private static final String SUM = "checkpoint.sha256";
    private static final String FORMAT = "sparkvit-checkpoint-1";

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

    /** Complete checkpoint folders, newest first (temporary folders of interrupted writes are not listed). */
    public List<Path> list() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(p -> p.getFileName().toString().startsWith(PREFIX) && Files.isDirectory(p))
                    .sorted(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed())
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir, e);
        }
    }

    /**
     * Writes a checkpoint atomically and prunes the oldest beyond {@code keep}; returns its folder.
     *
     * @throws NonFiniteValuesException before anything is written or pruned, when a weight, EMA or optimiser tensor
     *     holds NaN or infinity (a poisoned state must never replace good checkpoints)
     */
    public Path write(TrainingCheckpoint checkpoint) {
        String name = String.format("%s%09d", PREFIX, checkpoint.progress().iterations());
        Path target = dir.resolve(name);
        Map<String, NamedTensor> tensors = new LinkedHashMap<>();
        checkpoint.weights().forEach((k, v) -> tensors.put("model/" + k, v));
        checkpoint.ema().forEach((k, v) -> tensors.put("ema/" + k, v));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("iteration", String.valueOf(checkpoint.progress().iterations()));
        meta.put("epoch", String.valueOf(checkpoint.progress().epoch()));
        meta.put("records_in_epoch", String.valueOf(checkpoint.progress().recordsInEpoch()));
        meta.put("ema_updates", String.valueOf(checkpoint.emaUpdates()));
        if (checkpoint.emaSkipsNextFold()) {
            meta.put("ema_skip_next_fold", "true");
        }
        if (!checkpoint.skippedIterations().isEmpty()) { // absent when none: such checkpoints keep their bytes
            meta.put("skipped_iterations", checkpoint.skippedIterations().stream().map(String::valueOf)
                    .collect(java.util.stream.Collectors.joining(",")));
        }
        checkpoint.optimizer().forEach((group, state) -> {
            meta.put("optim/" + group + "/step", String.valueOf(state.step()));
            state.buffers().forEach((buffer, values) -> tensors.put("optim/" + group + "/" + buffer,
                    new NamedTensor(new int[] {values.length}, values)));
        });
        checkpoint.run().forEach((k, v) -> meta.put("run/" + k, v));
        NonFiniteValuesException.requireFinite(tensors, "checkpoint " + target);
        Path tmp = dir.resolve(".tmp-" + name + "-" + System.nanoTime());
        try {
            Files.createDirectories(tmp);
            Path data = tmp.resolve(DATA);
            SafeTensors.write(data, tensors, meta);
            Path sum = tmp.resolve(SUM);
            Files.writeString(sum, sha256(data) + "  " + DATA + "\n", StandardCharsets.UTF_8);
            force(sum);
            if (Files.exists(target)) {
                deleteTree(target); // a rewrite of the same iteration (a resumed run passing it again)
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            force(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + target, e);
        }
        List<Path> all = list();
        for (int i = keep; i < all.size(); i++) {
            deleteTree(all.get(i));
        }
        return target;
    }

    /** The newest checkpoint, verified; empty when there is none. A corrupt newest checkpoint is an error. */
    public Optional<TrainingCheckpoint> latest() {
        List<Path> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(read(all.get(0)));
    }

    /**
     * Reads and verifies one checkpoint folder.
     *
     * @throws CorruptCheckpointException when a file is missing, its checksum does not match or its content is
     *     malformed (the message names the file)
     */
    public static TrainingCheckpoint read(Path folder) {
        Path data = folder.resolve(DATA);
        Path sum = folder.resolve(SUM);
        try {
            if (!Files.isRegularFile(data) || !Files.isRegularFile(sum)) {
                throw new CorruptCheckpointException("checkpoint " + folder + " is incomplete: it needs " + DATA
                        + " and " + SUM);
            }
            String expected = Files.readString(sum, StandardCharsets.UTF_8).trim().split("\\s+")[0];
            String actual = sha256(data);
            if (!expected.equals(actual)) {
                throw new CorruptCheckpointException("checkpoint file " + data + " is corrupt: SHA-256 " + actual
                        + " does not match " + expected + " recorded in " + sum);
            }
            SafeTensors.Contents contents = SafeTensors.read(data);
            Map<String, String> meta = contents.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new CorruptCheckpointException("checkpoint file " + data + " is not a " + FORMAT + " file");
            }
            Map<String, NamedTensor> weights = new LinkedHashMap<>();
            Map<String, NamedTensor> ema = new LinkedHashMap<>();
            Map<String, Map<String, float[]>> buffers = new LinkedHashMap<>();
            contents.tensors().forEach((name, tensor) -> {
                if (name.startsWith("model/")) {
                    weights.put(name.substring(6), tensor);
                } else if (name.startsWith("ema/")) {
                    ema.put(name.substring(4), tensor);
                } else if (name.startsWith("optim/")) {
                    int slash = name.lastIndexOf('/');
                    buffers.computeIfAbsent(name.substring(6, slash), k -> new LinkedHashMap<>())
                            .put(name.substring(slash + 1), tensor.values());
                }
            });
            Map<String, PartitionedOptimizerState.GroupState> optimizer = new LinkedHashMap<>();
            Map<String, String> run = new LinkedHashMap<>();
            for (Map.Entry<String, String> entry : meta.entrySet()) {
                String key = entry.getKey();
                if (key.startsWith("optim/") && key.endsWith("/step")) {
                    String group = key.substring(6, key.length() - 5);
                    optimizer.put(group, new PartitionedOptimizerState.GroupState(Long.parseLong(entry.getValue()),
                            buffers.getOrDefault(group, Map.of())));
                } else if (key.startsWith("run/")) {
                    run.put(key.substring(4), entry.getValue());
                }
            }
            DistributedTraining.Progress progress = new DistributedTraining.Progress(
                    Long.parseLong(meta.get("iteration")), Integer.parseInt(meta.get("epoch")),
                    Long.parseLong(meta.get("records_in_epoch")));
            List<Long> skipped = new ArrayList<>();
            String skippedText = meta.getOrDefault("skipped_iterations", "");
            for (String iteration : skippedText.isEmpty() ? new String[0] : skippedText.split(",")) {
                skipped.add(Long.parseLong(iteration));
            }
            return new TrainingCheckpoint(progress, weights, ema, Long.parseLong(meta.get("ema_updates")), optimizer,
                    run, Boolean.parseBoolean(meta.get("ema_skip_next_fold")), skipped);
        } catch (IOException | RuntimeException e) {
            if (e instanceof CorruptCheckpointException corrupt) {
                throw corrupt;
            }
            throw new CorruptCheckpointException("checkpoint file " + data + " cannot be read: " + e.getMessage());
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
