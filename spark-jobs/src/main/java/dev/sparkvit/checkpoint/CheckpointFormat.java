package dev.sparkvit.checkpoint;

import dev.sparkvit.engine.PartitionedOptimizerState;
import dev.sparkvit.engine.TrainingProgress;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.SafeTensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The checkpoint format {@code sparkvit-checkpoint-1}: a {@link TrainingCheckpoint} as one safetensors file's tensors
 * ({@code model/<name>}, {@code ema/<name>}, {@code optim/<group>/<buffer>}) and metadata ({@code format},
 * {@code iteration}, {@code epoch}, {@code records_in_epoch}, {@code ema_updates}, optional {@code ema_skip_next_fold}
 * and {@code skipped_iterations}, {@code optim/<group>/step}, {@code run/<setting>}), and back, checking on the way
 * back that metadata and tensors are complete and consistent. Where the files live, how they are written atomically,
 * checksummed and pruned is {@link CheckpointStore}'s.
 */
public final class CheckpointFormat {
    static final String FORMAT = "sparkvit-checkpoint-1";

    private CheckpointFormat() {
    }

    /** A checkpoint's tensors and metadata, as the safetensors file holds them. */
    public record Encoded(Map<String, NamedTensor> tensors, Map<String, String> metadata) {
    }

    /** The file's content of {@code checkpoint}. */
    public static Encoded encode(TrainingCheckpoint checkpoint) {
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
        return new Encoded(tensors, meta);
    }

    /**
     * The checkpoint a file holds ({@code data}: the file, for messages).
     *
     * @throws CorruptCheckpointException naming the file and what is wrong with it
     */
    public static TrainingCheckpoint decode(SafeTensors.Contents contents, Path data) {
        Map<String, String> meta = contents.metadata();
        if (!FORMAT.equals(meta.get("format"))) {
            throw new CorruptCheckpointException("checkpoint file " + data + " is not a " + FORMAT + " file: its "
                    + "metadata format is " + shown(meta.get("format")));
        }
        long iteration = number(meta, "iteration", data);
        Map<String, NamedTensor> weights = new LinkedHashMap<>();
        Map<String, NamedTensor> ema = new LinkedHashMap<>();
        Map<String, Map<String, float[]>> buffers = new LinkedHashMap<>();
        contents.tensors().forEach((tensor, value) -> {
            if (tensor.startsWith("model/")) {
                weights.put(tensor.substring(6), value);
            } else if (tensor.startsWith("ema/")) {
                ema.put(tensor.substring(4), value);
            } else if (tensor.startsWith("optim/") && tensor.lastIndexOf('/') > 6) {
                int slash = tensor.lastIndexOf('/');
                buffers.computeIfAbsent(tensor.substring(6, slash), k -> new LinkedHashMap<>())
                        .put(tensor.substring(slash + 1), value.values());
            }
        });
        requireMatching(weights, ema, data);
        Map<String, PartitionedOptimizerState.GroupState> optimizer = new LinkedHashMap<>();
        Map<String, String> run = new LinkedHashMap<>();
        for (Map.Entry<String, String> entry : meta.entrySet()) {
            String key = entry.getKey();
            if (key.startsWith("optim/") && key.endsWith("/step") && key.length() > 11) {
                String group = key.substring(6, key.length() - 5);
                optimizer.put(group, new PartitionedOptimizerState.GroupState(number(meta, key, data),
                        buffers.getOrDefault(group, Map.of())));
            } else if (key.startsWith("run/")) {
                run.put(key.substring(4), entry.getValue());
            }
        }
        for (String group : buffers.keySet()) {
            if (!optimizer.containsKey(group)) {
                throw new CorruptCheckpointException("checkpoint file " + data + " holds optimiser state of group "
                        + shown(group) + " but no optim/" + group + "/step");
            }
        }
        long epoch = number(meta, "epoch", data);
        if (epoch > Integer.MAX_VALUE) {
            throw new CorruptCheckpointException("checkpoint file " + data + " records epoch " + epoch);
        }
        TrainingProgress progress = new TrainingProgress(iteration, (int) epoch,
                number(meta, "records_in_epoch", data));
        List<Long> skipped = new ArrayList<>();
        String skippedText = meta.getOrDefault("skipped_iterations", "");
        for (String skippedIteration : skippedText.isEmpty() ? new String[0] : skippedText.split(",", -1)) {
            skipped.add(number(Map.of("skipped_iterations", skippedIteration), "skipped_iterations", data));
        }
        return new TrainingCheckpoint(progress, weights, ema, number(meta, "ema_updates", data), optimizer, run,
                Boolean.parseBoolean(meta.get("ema_skip_next_fold")), skipped);
    }

    /** The run settings ({@code run/} metadata) of a checkpoint file's metadata. */
    public static Map<String, String> runSettings(Map<String, String> metadata) {
        Map<String, String> run = new LinkedHashMap<>();
        metadata.forEach((key, value) -> {
            if (key.startsWith("run/")) {
                run.put(key.substring(4), value);
            }
        });
        return run;
    }

    private static void requireMatching(Map<String, NamedTensor> weights, Map<String, NamedTensor> ema, Path data) {
        if (weights.isEmpty()) {
            throw new CorruptCheckpointException("checkpoint file " + data + " holds no model weights (model/*)");
        }
        for (String name : weights.keySet()) {
            NamedTensor average = ema.get(name);
            if (average == null || !Arrays.equals(average.shape(), weights.get(name).shape())) {
                throw new CorruptCheckpointException("checkpoint file " + data + " has model/" + name + " but no ema/"
                        + name + " of the same shape");
            }
        }
        for (String name : ema.keySet()) {
            if (!weights.containsKey(name)) {
                throw new CorruptCheckpointException("checkpoint file " + data + " has ema/" + name + " but no model/"
                        + name);
            }
        }
    }

    private static long number(Map<String, String> meta, String key, Path data) {
        String text = meta.get(key);
        try {
            long value = Long.parseLong(String.valueOf(text));
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new CorruptCheckpointException("checkpoint file " + data + " has no valid metadata " + key
                + " (a count of 0 or more; found " + shown(text) + ")");
    }

    /** A value from a file as a message shows it: quoted, printable, at most 80 characters. */
    static String shown(String value) {
        if (value == null) {
            return "none";
        }
        String printable = value.replaceAll("[^\\x20-\\x7e]", "?");
        return "'" + (printable.length() <= 80 ? printable : printable.substring(0, 80) + "...") + "'";
    }
}
