package dev.sparkvit.model.vit;

import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatModule;
import dev.sparkvit.engine.Layers;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.layers.BatchNorm;
import dev.sparkvit.model.layers.SyncBatchNorm;
import dev.sparkvit.model.layers.ClassToken;
import dev.sparkvit.model.layers.DropPath;
import dev.sparkvit.model.layers.Gelu;
import dev.sparkvit.model.layers.LayerNorm;
import dev.sparkvit.model.layers.LayerScale;
import dev.sparkvit.model.layers.PatchEmbed;
import dev.sparkvit.model.layers.PositionEmbedding;
import dev.sparkvit.model.layers.SelfAttention;
import dev.sparkvit.model.layers.TokenLinear;
import dev.sparkvit.model.layers.TokenPooling;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Assembles a Vision Transformer (Dosovitskiy et al. 2021) with optional LayerScale (Touvron et al. 2021) as one
 * DLlib module, laid out and named like timm's {@code VisionTransformer} so parameters map one-to-one onto timm's
 * state-dict keys:
 * <pre>
 * vit
 *   encoder     (an {@link Encoder}: with FreezeOut its backward stops at the frozen prefix)
 *     stem       patch_embed, cls_token, pos_embed
 *     blocks.i   (i = 0 .. depth-1) norm1, attn.{qkv, core, proj}, ls1, drop_path1, norm2, mlp.{fc1, act, fc2}, ls2, drop_path2
 *     neck       norm, pool  (mean pooling: pool, fc_norm)
 *   head         Linear (classifier) or projection.{fc1, bn1, act, fc2} (SimCLR); absent for the encoder alone
 * </pre>
 * Each of {@code stem}, {@code blocks.i}, {@code neck} and the head owns a contiguous slice of the parameters: the
 * {@linkplain #parameterGroups() parameter groups} for per-layer learning rates.
 */
public final class VisionTransformer {
    private final VitConfig config;
    private final Head head;
    private final Sequential<Float> root;
    private final Encoder encoder;
    private final List<LayerScale[]> layerScales = new ArrayList<>();
    private final List<AbstractModule<?, ?, Float>> groupModules = new ArrayList<>();

    private VisionTransformer(VitConfig config, Head head, long seed, FreezeOutSchedule freezeOut) {
        this(config, head, freezeOut);
        WeightInit.timm(this, seed);
    }

    /** The architecture with the weights its layers' constructors leave (no initialisation drawn). */
    private VisionTransformer(VitConfig config, Head head, FreezeOutSchedule freezeOut) {
        this.config = config;
        this.head = head;
        List<AbstractModule<?, ?, Float>> parts = new ArrayList<>();
        parts.add(stem());
        for (int i = 0; i < config.depth(); i++) {
            parts.add(block(i));
        }
        parts.add(neck());
        if (freezeOut != null && freezeOut.depth() != config.depth()) {
            throw new IllegalArgumentException("FreezeOut schedule for " + freezeOut.depth() + " blocks does not fit a "
                    + config.depth() + "-block model");
        }
        this.encoder = new Encoder(parts, freezeOut);
        encoder.setName("encoder");
        this.root = Layers.sequential("vit");
        root.add(encoder);
        AbstractModule<?, ?, Float> headModule = headModule();
        if (headModule != null) {
            root.add(headModule);
            groupModules.add(headModule);
        }
    }

    /** The encoder alone: images (B, C, H, W) to features (B, embedDim). */
    public static VisionTransformer encoderOnly(VitConfig config, long seed) {
        return new VisionTransformer(config, Head.none(), seed, null);
    }

    /** Encoder plus a linear classifier: images to class logits (B, numClasses). */
    public static VisionTransformer classifier(VitConfig config, int numClasses, long seed) {
        return new VisionTransformer(config, Head.classifier(numClasses), seed, null);
    }

    /** Encoder plus the SimCLR projection head: images to projections (B, projectionDim). */
    public static VisionTransformer simclr(VitConfig config, int projectionDim, long seed) {
        return new VisionTransformer(config, Head.projection(projectionDim), seed, null);
    }

    public static VisionTransformer of(VitConfig config, Head head, long seed) {
        return new VisionTransformer(config, head, seed, null);
    }

    /**
     * The architecture of {@link #of} without drawing an initialisation, for a model whose every parameter is copied
     * in next (loaded weights, an EMA): drawing timm's initialisation costs a Gaussian per weight (86 M for ViT-B).
     */
    public static VisionTransformer blank(VitConfig config, Head head) {
        return new VisionTransformer(config, head, null);
    }

    /**
     * A model whose encoder skips backward through the blocks FreezeOut has frozen (the optimisers must follow the
     * same schedule: {@link FreezeOutSchedule#forBlock}).
     */
    public static VisionTransformer withFreezeOut(VitConfig config, Head head, long seed,
            FreezeOutSchedule freezeOut) {
        return new VisionTransformer(config, head, seed, java.util.Objects.requireNonNull(freezeOut, "freezeOut"));
    }

    private Sequential<Float> stem() {
        Sequential<Float> stem = Layers.sequential("stem");
        stem.add(named(new PatchEmbed(config.imgSize(), config.patchSize(), config.inChans(), config.embedDim()),
                "patch_embed"));
        stem.add(named(new ClassToken(config.embedDim()), "cls_token"));
        stem.add(named(new PositionEmbedding(config.numTokens(), config.embedDim()), "pos_embed"));
        groupModules.add(stem);
        return stem;
    }

    private Block block(int index) {
        String p = "blocks." + index + ".";
        int dim = config.embedDim();
        double dropPath = config.dropPathRate(index);

        Sequential<Float> attention = Layers.sequential(p + "attn");
        attention.add(named(new TokenLinear(dim, 3 * dim), p + "attn.qkv"));
        attention.add(named(new SelfAttention(dim, config.numHeads()), p + "attn.core"));
        attention.add(named(new TokenLinear(dim, dim), p + "attn.proj"));

        Sequential<Float> mlp = Layers.sequential(p + "mlp");
        mlp.add(named(new TokenLinear(dim, config.mlpHiddenDim()), p + "mlp.fc1"));
        mlp.add(named(new Gelu(), p + "mlp.act"));
        mlp.add(named(new TokenLinear(config.mlpHiddenDim(), dim), p + "mlp.fc2"));

        LayerScale[] scales = new LayerScale[2];
        Sequential<Float> attentionBranch = branch(p, 1, attention, dropPath, scales);
        Sequential<Float> mlpBranch = branch(p, 2, mlp, dropPath, scales);
        if (config.useLayerScale()) {
            layerScales.add(scales);
        }
        Block block = new Block(attentionBranch, mlpBranch);
        block.setName("blocks." + index);
        groupModules.add(block);
        return block;
    }

    /** norm{n}, the sublayer, then LayerScale ls{n} and DropPath drop_path{n} only when configured. */
    private Sequential<Float> branch(String prefix, int n, Sequential<Float> sublayer, double dropPath,
            LayerScale[] scales) {
        Sequential<Float> branch = Layers.sequential(prefix + (n == 1 ? "attn_branch" : "mlp_branch"));
        branch.add(named(new LayerNorm(config.embedDim()), prefix + "norm" + n));
        branch.add(sublayer);
        if (config.useLayerScale()) {
            scales[n - 1] = named(new LayerScale(config.embedDim(), config.layerScaleInit()), prefix + "ls" + n);
            branch.add(scales[n - 1]);
        }
        if (dropPath > 0) {
            branch.add(named(new DropPath(dropPath, (prefix + "drop_path" + n).hashCode()), prefix + "drop_path" + n));
        }
        return branch;
    }

    private Sequential<Float> neck() {
        Sequential<Float> neck = Layers.sequential("neck");
        TokenPooling pool = named(new TokenPooling(config.pooling(), 1), "pool");
        if (config.pooling() == TokenPooling.Mode.CLASS_TOKEN) {
            neck.add(named(new LayerNorm(config.embedDim()), "norm"));
            neck.add(pool);
        } else {
            neck.add(pool);
            neck.add(named(new LayerNorm(config.embedDim()), "fc_norm"));
        }
        groupModules.add(neck);
        return neck;
    }

    private AbstractModule<?, ?, Float> headModule() {
        switch (head.kind()) {
            case CLASSIFIER:
                return named(new TokenLinear(config.embedDim(), head.outputs()), "head");
            case PROJECTION:
                Sequential<Float> projection = Layers.sequential("projection");
                projection.add(named(new TokenLinear(config.embedDim(), config.embedDim()), "projection.fc1"));
                if (head.batchNorm()) {
                    projection.add(named(head.synchronised() ? new SyncBatchNorm(config.embedDim())
                            : new BatchNorm(config.embedDim()), "projection.bn1"));
                }
                projection.add(Layers.relu().setName("projection.act"));
                projection.add(named(new TokenLinear(config.embedDim(), head.outputs()), "projection.fc2"));
                return projection;
            default:
                return null;
        }
    }

    private static <M extends AbstractModule<?, ?, Float>> M named(M module, String name) {
        module.setName(name);
        return module;
    }

    public VitConfig config() {
        return config;
    }

    public Head head() {
        return head;
    }

    /** The whole trainable DLlib module (encoder and head). */
    public Sequential<Float> module() {
        return root;
    }

    /** The encoder alone, sharing weights with {@link #module()}: usable for features. */
    public Encoder encoder() {
        return encoder;
    }

    /**
     * Features of a batch of images from an encoder built by this class, in evaluation mode: the encoder's own output
     * (class token or mean pooling, after its final norm) and the mean of the patch tokens leaving the last block.
     * Static so executors can call it on a broadcast copy of {@link #encoder()}.
     *
     * @return {pooled (B, C), mean of patch tokens (B, C)}
     */
    public static Tensor<Float>[] features(Encoder encoder, Tensor<Float> images) {
        encoder.evaluate();
        int last = encoder.childCount() - 1;
        Tensor<Float> tokens = images;
        for (int i = 0; i < last; i++) {
            tokens = encoder.child(i).forward(tokens).toTensor(dev.sparkvit.engine.FloatTypes.NUMERIC);
        }
        Tensor<Float> pooled = encoder.child(last).forward(tokens).toTensor(dev.sparkvit.engine.FloatTypes.NUMERIC)
                .clone();
        TokenPooling mean = new TokenPooling(TokenPooling.Mode.MEAN, 1);
        @SuppressWarnings("unchecked")
        Tensor<Float>[] both = new Tensor[] {pooled, mean.forward(tokens).clone()};
        return both;
    }

    /** Every parameter under its timm-style name, in DLlib's flat-buffer order. */
    public Map<String, Tensor<Float>> namedParameters() {
        Map<String, Tensor<Float>> named = new LinkedHashMap<>();
        forEachLeaf(root, (leaf, index, name) -> named.put(name, leafWeight(leaf, index)));
        return named;
    }

    /** Every parameter's gradient tensor under the parameter's timm-style name, in the same order. */
    public Map<String, Tensor<Float>> namedGradients() {
        Map<String, Tensor<Float>> named = new LinkedHashMap<>();
        forEachLeaf(root, (leaf, index, name) -> named.put(name, leaf.gradient(index)));
        return named;
    }

    /** Names of the parameters excluded from weight decay: biases, norm weights, LayerScale gammas, embeddings. */
    public Set<String> noWeightDecay() {
        Set<String> names = new LinkedHashSet<>();
        forEachLeaf(root, (leaf, index, name) -> {
            if (leaf.excludedFromWeightDecay(index)) {
                names.add(name);
            }
        });
        return names;
    }

    /** stem, blocks.0 .. blocks.{depth-1}, neck, then the head when present, each a contiguous parameter slice. */
    public List<ParameterGroup> parameterGroups() {
        List<ParameterGroup> groups = new ArrayList<>();
        for (AbstractModule<?, ?, Float> module : groupModules) {
            List<String> names = new ArrayList<>();
            forEachLeaf(module, (leaf, index, name) -> names.add(name));
            groups.add(new ParameterGroup(module.getName(), module, Collections.unmodifiableList(names)));
        }
        return groups;
    }

    /** Total number of trainable scalars. */
    public long parameterCount() {
        long count = 0;
        for (Tensor<Float> t : namedParameters().values()) {
            count += t.nElement();
        }
        return count;
    }

    /** Per-block LayerScale statistics; empty when LayerScale is off. */
    public List<LayerScaleStats> layerScaleStats() {
        List<LayerScaleStats> stats = new ArrayList<>();
        for (int i = 0; i < layerScales.size(); i++) {
            float[] attention = Tensors.toArray(layerScales.get(i)[0].gamma());
            float[] mlp = Tensors.toArray(layerScales.get(i)[1].gamma());
            stats.add(new LayerScaleStats(i, mean(attention, false), mean(attention, true), mean(mlp, false),
                    mean(mlp, true)));
        }
        return stats;
    }

    private static double mean(float[] values, boolean absolute) {
        double sum = 0;
        for (float v : values) {
            sum += absolute ? Math.abs(v) : v;
        }
        return sum / values.length;
    }

    /** Receives each parameter of each sparkvit layer under a module subtree. */
    interface LeafVisitor {
        void visit(FloatModule leaf, int index, String name);
    }

    static void forEachLeaf(AbstractModule<?, ?, Float> module, LeafVisitor visitor) {
        if (module instanceof FloatModule leaf) {
            List<String> names = leaf.parameterNames();
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i).isEmpty() ? leaf.getName() : leaf.getName() + "." + names.get(i);
                visitor.visit(leaf, i, name);
            }
        } else if (module instanceof com.intel.analytics.bigdl.dllib.nn.Container<?, ?, Float>) {
            for (AbstractModule<?, ?, Float> child : dev.sparkvit.engine.Layers.children(module)) {
                forEachLeaf(child, visitor);
            }
        } else if (module.parameters() != null) {
            throw new IllegalStateException("module " + module.getName() + " (" + module.getClass().getSimpleName()
                    + ") has parameters but no names; only sparkvit layers may hold parameters");
        }
    }

    private static Tensor<Float> leafWeight(FloatModule leaf, int index) {
        return leaf.weight(index);
    }

    @Override
    public String toString() {
        return "VisionTransformer(" + config + ", " + head + ", " + parameterCount() + " parameters)";
    }
}
