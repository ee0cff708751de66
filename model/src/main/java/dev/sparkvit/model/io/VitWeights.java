package dev.sparkvit.model.io;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.vit.VisionTransformer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Moves ViT weights between sparkvit and PyTorch/timm through safetensors files keyed by timm's state-dict names
 * ({@code patch_embed.proj.weight}, {@code blocks.0.attn.qkv.weight}, {@code blocks.0.ls1.gamma}, ...).
 */
public final class VitWeights {
    private VitWeights() {
    }

    /** How an import treats names present on only one side. */
    public enum Match {
        /** Every model parameter must be in the file and every file tensor in the model. */
        STRICT,
        /**
         * Load the tensors whose names the model has; report the rest. For moving an encoder between heads (the
         * SimCLR projection head is dropped, a new classifier keeps its initial weights).
         */
        SHARED
    }

    /** What an import did. */
    public record ImportReport(List<String> loaded, List<String> missingFromFile, List<String> unusedFromFile) {
    }

    /**
     * Writes every parameter of {@code vit} under its timm name, with {@code metadata} in the header.
     *
     * @throws NonFiniteValuesException (before touching the file) when a parameter holds NaN or infinity
     */
    public static void save(VisionTransformer vit, Path file, Map<String, String> metadata) throws IOException {
        Map<String, NamedTensor> tensors = new LinkedHashMap<>();
        vit.namedParameters().forEach((name, tensor) ->
                tensors.put(name, new NamedTensor(Tensors.shape(tensor), Tensors.toArray(tensor))));
        NonFiniteValuesException.requireFinite(tensors, "weights file " + file);
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.putIfAbsent("format", "pt"); // what timm/safetensors' torch loader expects
        meta.putAll(dev.sparkvit.model.vit.VitVariant.of(vit.config()).metadata());
        SafeTensors.write(file, tensors, meta);
    }

    /**
     * Loads weights from a safetensors file into {@code vit}. Shapes must match exactly; with {@link Match#STRICT}
     * names must match exactly too. Nothing is changed when the file is rejected.
     *
     * @throws IllegalArgumentException naming the file and every mismatching tensor
     */
    public static ImportReport load(VisionTransformer vit, Path file, Match match) throws IOException {
        Map<String, NamedTensor> tensors = SafeTensors.read(file).tensors();
        Map<String, Tensor<Float>> params = vit.namedParameters();
        List<String> problems = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        List<String> unused = new ArrayList<>();
        List<String> loaded = new ArrayList<>();
        for (Map.Entry<String, Tensor<Float>> param : params.entrySet()) {
            NamedTensor source = tensors.get(param.getKey());
            if (source == null) {
                missing.add(param.getKey());
            } else if (!Arrays.equals(source.shape(), Tensors.shape(param.getValue()))) {
                problems.add(param.getKey() + " has shape " + Arrays.toString(source.shape()) + " in the file but "
                        + Arrays.toString(Tensors.shape(param.getValue())) + " in the model");
            } else {
                loaded.add(param.getKey());
            }
        }
        for (String name : tensors.keySet()) {
            if (!params.containsKey(name)) {
                unused.add(name);
            }
        }
        if (match == Match.STRICT) {
            missing.forEach(name -> problems.add(name + " is missing from the file"));
            unused.forEach(name -> problems.add(name + " is in the file but not in the model"));
        }
        if (loaded.isEmpty() && problems.isEmpty()) {
            problems.add("no tensor name matches the model's");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("cannot load weights from " + file + " into " + vit.config()
                    + ":\n  " + String.join("\n  ", problems));
        }
        for (String name : loaded) {
            Tensor<Float> target = params.get(name);
            float[] values = tensors.get(name).values();
            System.arraycopy(values, 0, Tensors.data(target), Tensors.offset(target), values.length);
        }
        return new ImportReport(loaded, missing, unused);
    }
}
