package dev.sparkvit.jobs.inference;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitPresets;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A trained classifier as plain data (architecture, class names, weights by timm name), small enough to ship to
 * the executors; each executor JVM builds the model once per instance ({@link #model()}) and reuses it across tasks.
 *
 * @param preset the model preset
 * @param config the architecture (image size of the dataset)
 * @param classes class names in label-index order
 * @param weights every parameter of the classifier by timm name
 * @param metadata what the weights file records (run settings, kind)
 * @param id identifies the instance's models in each JVM's cache
 */
public record ClassifierWeights(String preset, VitConfig config, List<String> classes, Map<String, float[]> weights,
        Map<String, String> metadata, String id) implements Serializable {

    /** Larger images would overflow the token count ((img_size / patch)^2 is an int); presets use 32 and 224. */
    private static final int MAX_IMG_SIZE = 8192;

    /** Models of the most recent instances in this JVM (per-epoch evaluations ship a new instance each time). */
    private static final Map<String, ThreadLocal<VisionTransformer>> MODELS = java.util.Collections.synchronizedMap(
            new LinkedHashMap<>(8, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, ThreadLocal<VisionTransformer>> eldest) {
                    return size() > 4;
                }
            });

    public ClassifierWeights {
        classes = List.copyOf(classes);
        metadata = Map.copyOf(metadata);
    }

    /** The weights of a live model, with the metadata a weights file records. */
    public static ClassifierWeights of(String preset, VisionTransformer vit, List<String> classes,
            Map<String, String> metadata) {
        Map<String, float[]> weights = new LinkedHashMap<>();
        vit.namedParameters().forEach((name, tensor) -> weights.put(name, Tensors.toArray(tensor)));
        return new ClassifierWeights(preset, vit.config(), classes, weights, metadata, UUID.randomUUID().toString());
    }

    /**
     * What the user gives for a classifier file that does not record it (a plain timm checkpoint): the preset
     * ({@code --preset}) and the class names ({@code --classes FILE}, one a line); null for what is not given.
     */
    public record Given(String preset, Path classesFile) implements Serializable {
        public static final Given NONE = new Given(null, null);
    }

    /** Reads a classifier weights file written by {@link #save} (fine-tuning's finetuned*.safetensors). */
    public static ClassifierWeights load(Path file) {
        return load(file, Given.NONE);
    }

    /**
     * Reads a classifier weights file: one written by {@link #save}, or a plain timm checkpoint (no {@code preset},
     * {@code classes} or {@code img_size} metadata) with the preset and class names {@code given}, its image size
     * read from its position embedding. A value given for what the file records must agree with it.
     */
    public static ClassifierWeights load(Path file, Given given) {
        String notAFile = dev.sparkvit.config.PathChecks.notAFile(file);
        if (notAFile != null) {
            throw new ConfigException("model weights " + file + " " + notAFile);
        }
        SafeTensors.Contents contents;
        try {
            contents = SafeTensors.read(file);
        } catch (SafeTensors.InvalidFileException e) {
            throw new ConfigException("model weights " + e.getMessage());
        } catch (IOException e) {
            throw new ConfigException("cannot read model weights " + file + ": " + e);
        }
        Map<String, String> meta = contents.metadata();
        String recordedPreset = meta.get("preset");
        String classText = meta.get("classes");
        String recordedSize = meta.get("img_size");
        String preset = recordedPreset;
        if (given.preset() != null) {
            if (preset != null && !preset.equals(given.preset())) {
                throw new ConfigException("--preset " + given.preset() + ": " + file + " records preset " + preset);
            }
            preset = given.preset();
        }
        List<String> recordedClasses = classText != null ? ClassNames.parse(classText, file) : null;
        List<String> classList = recordedClasses;
        if (given.classesFile() != null) {
            List<String> listed = ClassNames.read(given.classesFile());
            if (recordedClasses != null && !recordedClasses.equals(listed)) {
                throw new ConfigException("--classes " + given.classesFile() + ": " + file + " records other "
                        + "classes (" + recordedClasses.size() + ", the first " + recordedClasses.get(0) + ")");
            }
            classList = listed;
        }
        if (preset == null || classList == null) {
            List<String> missing = new java.util.ArrayList<>();
            if (preset == null) {
                missing.add("preset (give --preset)");
            }
            if (classList == null) {
                missing.add("classes (give --classes FILE, one name a line)");
            }
            throw new ConfigException(file + " does not record its " + String.join(" or ", missing) + "; sparkvit "
                    + "finetune writes them, a timm checkpoint needs them given");
        }
        String size = recordedSize != null ? recordedSize : String.valueOf(trainedSize(file, contents, preset));
        return build(file, contents, meta, preset, classList, size);
    }

    private static ClassifierWeights build(Path file, SafeTensors.Contents contents, Map<String, String> meta,
            String preset, List<String> classes, String size) {
        VitConfig config = architecture(file, preset, size);
        config = dev.sparkvit.model.vit.VitVariant.ofTensors(contents.tensors().keySet(), meta,
                config.layerScaleInit()).applyTo(config);
        requireHeldByFile(file, contents, config, preset, classes.size());
        VisionTransformer vit = VisionTransformer.blank(config, Head.classifier(classes.size()));
        Map<String, float[]> weights = new LinkedHashMap<>();
        vit.namedParameters().forEach((name, tensor) -> {
            NamedTensor value = contents.tensors().get(name);
            if (value == null) {
                throw new ConfigException(file + " has no " + name + " of " + tensor.nElement() + " values for a "
                        + preset + " classifier of " + classes.size() + " classes");
            }
            // the same count in another shape (a transposed head) would load and answer wrongly
            int[] shape = Tensors.shape(tensor);
            if (!java.util.Arrays.equals(value.shape(), shape)) {
                throw new ConfigException(file + ": " + name + " has shape " + java.util.Arrays.toString(value.shape())
                        + " in the file, " + java.util.Arrays.toString(shape) + " in a " + preset + " classifier of "
                        + classes.size() + " classes");
            }
            weights.put(name, value.values());
        });
        return new ClassifierWeights(preset, config, classes, weights, meta, UUID.randomUUID().toString());
    }

    /**
     * The image size of a file that does not record it: from its {@code pos_embed} (one token per patch of the
     * preset, plus the class token when the file has one), else the preset's.
     */
    private static int trainedSize(Path file, SafeTensors.Contents contents, String preset) {
        VitConfig named;
        try {
            named = VitPresets.get(preset);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--preset " + preset + ": " + shorten(e.getMessage()));
        }
        NamedTensor pos = contents.tensors().get("pos_embed");
        if (pos == null || pos.shape().length != 3) {
            return named.imgSize();
        }
        long grid = (long) pos.shape()[1] - (contents.tensors().containsKey("cls_token") ? 1 : 0);
        long side = Math.round(Math.sqrt(grid));
        if (grid < 1 || side * side != grid || side * named.patchSize() > MAX_IMG_SIZE) {
            throw new ConfigException(file + ": pos_embed has shape " + java.util.Arrays.toString(pos.shape())
                    + ", which is no square grid of " + preset + "'s " + named.patchSize() + "-px patches");
        }
        return (int) side * named.patchSize();
    }

    /** The architecture the metadata names; a file from elsewhere may say anything, so every value is checked. */
    private static VitConfig architecture(Path file, String preset, String size) {
        int imgSize;
        try {
            imgSize = Integer.parseInt(size);
        } catch (NumberFormatException e) {
            imgSize = -1;
        }
        if (imgSize < 1 || imgSize > MAX_IMG_SIZE) {
            throw new ConfigException(file + ": metadata img_size = " + shorten(size) + " is invalid: expected a "
                    + "whole number in [1, " + MAX_IMG_SIZE + "]");
        }
        try {
            return VitPresets.get(preset).withImgSize(imgSize);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(file + ": metadata preset = " + shorten(preset) + ", img_size = " + imgSize
                    + ": " + shorten(e.getMessage()));
        }
    }

    /**
     * The model the metadata describes is allocated before its weights are copied in: its parameter count must not
     * exceed the values the file holds, so that a lying class list or image size costs no more memory than the file.
     */
    private static void requireHeldByFile(Path file, SafeTensors.Contents contents, VitConfig config, String preset,
            int classes) {
        long needed = dev.sparkvit.model.vit.ModelSummary.of(config, dev.sparkvit.model.vit.Head.classifier(classes))
                .parameters();
        long held = 0;
        for (NamedTensor tensor : contents.tensors().values()) {
            held += tensor.values().length;
        }
        if (needed > held) {
            throw new ConfigException(file + ": metadata describes a " + preset + " classifier of " + classes
                    + " classes at img_size " + config.imgSize() + " (" + needed + " parameters), but the file holds "
                    + held + " values");
        }
    }

    private static String shorten(String text) {
        return text == null || text.length() <= 200 ? text : text.substring(0, 200) + "... (" + text.length()
                + " characters)";
    }

    /** Writes the weights with their metadata (preset, img_size, classes and {@code extra}). */
    public void save(Path file) {
        VisionTransformer vit = model();
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put("preset", preset);
        meta.put("img_size", String.valueOf(config.imgSize()));
        meta.put("classes", ClassNames.format(classes));
        try {
            dev.sparkvit.model.io.VitWeights.save(vit, file, meta);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /**
     * The classifier with these weights in evaluation mode, built once per JVM and thread (a DLlib module holds its
     * activations, so concurrent tasks need their own).
     */
    public VisionTransformer model() {
        return MODELS.computeIfAbsent(id, k -> ThreadLocal.withInitial(this::build)).get();
    }

    /**
     * Forgets this thread's model of this instance, with its weights, activations and every layer's caches: a module
     * keeps its last batch's activations (gigabytes for a 224-px ViT at the inference batch) and this JVM keeps the
     * models of several instances. The next {@link #model()} on this thread builds it again.
     */
    public void releaseModel() {
        ThreadLocal<VisionTransformer> models = MODELS.get(id);
        if (models != null) {
            models.remove();
        }
    }

    private VisionTransformer build() {
        VisionTransformer vit = VisionTransformer.blank(config, Head.classifier(classes.size()));
        vit.namedParameters().forEach((name, tensor) -> {
            float[] value = weights.get(name);
            tensor.copy(Tensors.of(value, Tensors.shape(tensor)));
        });
        vit.module().evaluate();
        return vit;
    }

}
