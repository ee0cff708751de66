package dev.sparkvit.jobs.probe;

import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.checkpoint.TrainingCheckpoint;
import dev.sparkvit.config.ConfigException;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.NonFiniteValuesException;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitPresets;
import dev.sparkvit.model.vit.VitVariant;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The encoder a probe runs on, from any of: a safetensors weights file with timm names (what pretraining saves, or
 * a timm export), one checkpoint folder ({@code iter-N}, its EMA weights), or a checkpoints folder (its newest
 * checkpoint). The preset comes from the file's metadata unless given, LayerScale and pooling from its tensors
 * ({@link VitVariant#ofTensors}); heads in the file are ignored.
 */
public final class ProbeEncoder {
    private ProbeEncoder() {
    }

    /** The tensors of a source and the preset it records (null when none). */
    private record Source(Map<String, NamedTensor> tensors, String preset, Map<String, String> metadata) {
    }

    /**
     * Reads and verifies {@code source} without building a model: a check before Spark starts.
     *
     * @throws IllegalArgumentException (a ConfigException or CorruptCheckpointException) naming the missing or
     *     damaged file and what is wrong with it
     */
    public static void check(Path source) {
        read(source);
    }

    /**
     * The encoder at the image size it was trained for, read from its position embedding ({@code pos_embed}: one
     * token per patch plus the class token), or the preset's size when the file does not tell.
     *
     * @param source weights file, checkpoint folder or checkpoints folder
     * @param preset the model preset, or null to take the one recorded in the source
     */
    public static VisionTransformer load(Path source, String preset) {
        Source read = read(source);
        String name = preset != null ? preset : read.preset();
        if (name == null) {
            return load(source, read, preset, 0); // refused: no preset
        }
        VitConfig named = VitPresets.get(name);
        int size = trainedSize(read, named);
        return load(source, read, preset, size > 0 ? size : named.imgSize());
    }

    /** The image size a {@code pos_embed} of the file fits for {@code preset}'s patch size, or 0. */
    private static int trainedSize(Source read, VitConfig preset) {
        NamedTensor pos = read.tensors().get("pos_embed");
        if (pos == null || pos.shape().length != 3) {
            return 0;
        }
        int prefix = read.tensors().containsKey("cls_token") ? 1 : 0;
        long grid = (long) pos.shape()[1] - prefix;
        int side = (int) Math.round(Math.sqrt(grid));
        if (grid < 1 || (long) side * side != grid || (long) side * preset.patchSize() > 4096) {
            return 0;
        }
        return side * preset.patchSize();
    }

    /**
     * @param source weights file, checkpoint folder or checkpoints folder
     * @param preset the model preset, or null to take the one recorded in the source
     * @param imgSize the image size of the encoder
     */
    public static VisionTransformer load(Path source, String preset, int imgSize) {
        return load(source, read(source), preset, imgSize);
    }

    private static VisionTransformer load(Path source, Source read, String preset, int imgSize) {
        String recorded = read.preset();
        if (preset != null && recorded != null && !preset.equals(recorded)) {
            throw new ConfigException(source + " holds a " + recorded + " encoder, not the " + preset + " asked for");
        }
        String name = preset != null ? preset : recorded;
        if (name == null) {
            throw new ConfigException(source + " records no model preset: give --preset");
        }
        VitConfig named = VitPresets.get(name).withImgSize(imgSize);
        VitConfig config = VitVariant.ofTensors(read.tensors().keySet(), read.metadata(), named.layerScaleInit())
                .applyTo(named);
        VisionTransformer vit = VisionTransformer.encoderOnly(config, 0);
        Map<String, NamedTensor> used = new java.util.LinkedHashMap<>();
        vit.namedParameters().forEach((param, tensor) -> {
            NamedTensor value = read.tensors().get(param);
            if (value == null) {
                throw new ConfigException(source + " has no " + param + " of " + tensor.nElement() + " values for "
                        + "preset " + name + " at " + imgSize + " px");
            }
            // the same count in another shape (a transposed matrix) would load and compute garbage
            int[] shape = Tensors.shape(tensor);
            if (!java.util.Arrays.equals(value.shape(), shape)) {
                throw new ConfigException(source + ": " + param + " has shape "
                        + java.util.Arrays.toString(value.shape()) + " in the file, " + java.util.Arrays.toString(shape)
                        + " in a " + name + " encoder at " + imgSize + " px");
            }
            used.put(param, value);
        });
        // NaN weights would poison every probe and fine-tuning step (and DLlib's own set-up check fails on them with
        // a misleading message): name the tensor instead
        String problem = NonFiniteValuesException.firstNonFinite(used);
        if (problem != null) {
            throw new ConfigException(source + ": " + problem + "; an encoder cannot be probed or fine-tuned from "
                    + "NaN or infinite weights");
        }
        vit.namedParameters().forEach((param, tensor) -> tensor.copy(Tensors.of(used.get(param).values(),
                Tensors.shape(tensor))));
        return vit;
    }

    private static Source read(Path source) {
        if (Files.isDirectory(source)) {
            // a folder meant as one checkpoint (by name or files) is read as one, so its damage is reported as such
            TrainingCheckpoint checkpoint = CheckpointStore.isCheckpoint(source)
                    ? CheckpointStore.read(source)
                    : new CheckpointStore(source, 1).latest().orElseThrow(() -> new ConfigException(
                            source + " holds neither a checkpoint nor checkpoint folders (iter-N)"));
            return new Source(checkpoint.ema(), checkpoint.run().get("preset"), checkpoint.run());
        }
        String notAFile = dev.sparkvit.config.PathChecks.notAFile(source);
        if (notAFile != null) {
            throw new ConfigException("weights " + source + " " + notAFile);
        }
        try {
            SafeTensors.Contents contents = SafeTensors.read(source);
            return new Source(contents.tensors(), contents.metadata().get("preset"), contents.metadata());
        } catch (SafeTensors.InvalidFileException e) {
            throw new ConfigException("weights file " + e.getMessage());
        } catch (IOException e) {
            throw new ConfigException("cannot read weights file " + source + ": " + e);
        }
    }
}
