package dev.sparkvit.jobs.train;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.checkpoint.CorruptCheckpointException;
import dev.sparkvit.checkpoint.TrainingCheckpoint;
import dev.sparkvit.config.ConfigException;
import dev.sparkvit.data.ingest.DatasetSnapshot;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.engine.DecoupledWeightDecay;
import dev.sparkvit.engine.PartitionedOptimizerState;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.optim.LearningRateSchedule;
import dev.sparkvit.model.vit.ParameterGroup;
import dev.sparkvit.model.vit.VisionTransformer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.spark.sql.SparkSession;

/**
 * What a training job (pretraining, fine-tuning) saves in and restores from a checkpoint: the live weights by timm
 * name, the EMA and its update count, every group's optimiser history gathered from the partitions, the progress, the
 * steps skipped as non-finite, and the run's settings, which must not change on resume.
 */
public final class RunState {
    private RunState() {
    }

    /**
     * The checkpoint a run starts from: the newest valid one in {@code store} when resuming (an error when there is
     * none), else null, refusing a fresh run into a folder that holds a run's checkpoints. A resumed run must have
     * the settings it started with. A corrupt newest checkpoint stops the resume ({@code FAIL}, naming the file), or
     * is renamed {@code corrupt-iter-N} and skipped with a warning line through {@code warn} ({@code PREVIOUS}).
     */
    public static TrainingCheckpoint startingPoint(CheckpointStore store, boolean resume, String output,
            String source, Map<String, String> fingerprint, CheckpointStore.OnCorrupt onCorrupt,
            Consumer<String> warn) {
        if (!resume) {
            if (!store.list().isEmpty()) {
                throw new ConfigException(source + ": output_dir " + output + " already holds checkpoints of a run; "
                        + "continue it with --resume or choose another output_dir");
            }
            return null;
        }
        TrainingCheckpoint checkpoint;
        try {
            checkpoint = store.latest(onCorrupt, warn).orElseThrow(() -> new ConfigException(
                    "--resume: no checkpoint in " + output + "/checkpoints to resume from"));
        } catch (CorruptCheckpointException e) {
            throw new CorruptCheckpointException(e.getMessage() + (onCorrupt == CheckpointStore.OnCorrupt.FAIL
                    ? "; --resume stops here: set training.checkpoint.on_corrupt: previous (" + source + " or --set) "
                    + "to resume from the newest valid checkpoint (the corrupt one is kept, renamed corrupt-iter-N), "
                    + "or move that folder out of " + output + "/checkpoints"
                    : "; start again without --resume into another output_dir, or restore a checkpoint into "
                    + output + "/checkpoints"));
        }
        requireSameRun(source, fingerprint, checkpoint.run());
        return checkpoint;
    }

    /** Group name -> slice of the flat parameter buffer of the (compacted) training model. */
    public static Map<String, PartitionedOptimizerState.Slice> groupSlices(AbstractModule<?, ?, Float> model,
            VisionTransformer vit) {
        Map<String, AbstractModule<?, ?, Float>> modules = new LinkedHashMap<>();
        for (ParameterGroup group : vit.parameterGroups()) {
            modules.put(group.name(), group.module());
        }
        return PartitionedOptimizerState.slices(model, modules);
    }

    /**
     * The decoupled-decay ranges of a model's parameters outside its no-decay set, each following its group's
     * schedule. Call after the training model's parameters were compacted (storage offsets are positions in the flat
     * buffer).
     */
    public static List<DecoupledWeightDecay.Range> decayRanges(VisionTransformer vit,
            Map<String, LearningRateSchedule> schedules) {
        Set<String> excluded = vit.noWeightDecay();
        Map<String, Tensor<Float>> named = vit.namedParameters();
        List<DecoupledWeightDecay.Range> ranges = new ArrayList<>();
        for (ParameterGroup group : vit.parameterGroups()) {
            LearningRateSchedule schedule = schedules.get(group.name());
            for (String name : group.parameterNames()) {
                if (!excluded.contains(name)) {
                    ranges.add(DecoupledWeightDecay.rangeOf(named.get(name), schedule::rate));
                }
            }
        }
        return ranges;
    }

    /** Puts a checkpoint's live weights into the model; a missing or differently shaped tensor is corrupt. */
    public static void restoreLive(TrainingCheckpoint checkpoint, VisionTransformer vit) {
        for (Map.Entry<String, Tensor<Float>> entry : vit.namedParameters().entrySet()) {
            NamedTensor live = checkpoint.weights().get(entry.getKey());
            int[] shape = Tensors.shape(entry.getValue());
            if (live == null) {
                throw new CorruptCheckpointException("checkpoint of iteration " + checkpoint.progress().iterations()
                        + " lacks a " + entry.getKey() + " of shape " + java.util.Arrays.toString(shape));
            }
            if (!java.util.Arrays.equals(live.shape(), shape)) {
                throw new CorruptCheckpointException("checkpoint of iteration " + checkpoint.progress().iterations()
                        + ": " + entry.getKey() + " has shape " + java.util.Arrays.toString(live.shape())
                        + ", this model's is " + java.util.Arrays.toString(shape));
            }
            entry.getValue().copy(Tensors.of(live.values(), shape));
        }
    }

    /**
     * The epochs of {@code epochs} (each numbered by {@code number}, 0-based) that end at or before iteration
     * {@code done}: what an earlier attempt of this process finished that a restart from iteration {@code done} keeps.
     */
    public static <E> List<E> epochsUpTo(List<E> epochs, java.util.function.ToIntFunction<E> number, long perEpoch,
            long done) {
        return epochs.stream().filter(e -> (number.applyAsInt(e) + 1L) * perEpoch <= done).toList();
    }

    /**
     * The engine every run's fingerprint names. A fingerprint without the key is a checkpoint of DLlib's
     * DistriOptimizer, the engine before this one, which cannot continue here (its EMA and optimiser state are laid
     * out per partition).
     */
    public static final String ENGINE = "barrier";

    /** The key of the dataset snapshot a run reads, in its fingerprint (and so in every checkpoint it writes). */
    public static final String DATASET_SNAPSHOT = "dataset_snapshot";

    /**
     * The dataset snapshot a run reads from its start to its end, resolved once per run (restarts keep it): on
     * {@code --resume} the snapshot its checkpoints record, else {@code requested} ({@code --snapshot}), else the
     * table's current one. A resume given a {@code --snapshot} other than the recorded one is refused by
     * {@link #requireSameRun} ({@value #DATASET_SNAPSHOT} changed); checkpoints of a sparkvit that recorded no
     * snapshot resume on the current one.
     *
     * @throws ConfigException one line when the snapshot a resume needs is no longer in the table (expired)
     * @throws IllegalArgumentException one line when {@code requested} is not a snapshot of the dataset
     */
    public static DatasetSnapshot datasetSnapshot(SparkSession spark, CheckpointStore store, boolean resume,
            String source, String dataset, Long requested) {
        String recorded = resume && requested == null ? store.recordedRun().map(run -> run.get(DATASET_SNAPSHOT))
                .orElse(null) : null;
        if (recorded == null) {
            return StoredImages.snapshot(spark, dataset, requested);
        }
        long id = Long.parseLong(recorded);
        try {
            return StoredImages.snapshot(spark, dataset, id);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(source + ": --resume: the run's checkpoints read dataset " + dataset
                    + " at snapshot " + id + ", which its table no longer has (expired); the run cannot continue on "
                    + "the same data: start it again without --resume into another output_dir");
        }
    }

    /** {@code fingerprint} and the snapshot the run reads ({@value #DATASET_SNAPSHOT}). */
    public static Map<String, String> withSnapshot(Map<String, String> fingerprint, DatasetSnapshot data) {
        Map<String, String> run = new LinkedHashMap<>(fingerprint);
        run.put(DATASET_SNAPSHOT, String.valueOf(data.id()));
        return run;
    }

    /** Refuses a resume whose settings differ from the checkpoint's, listing what changed. */
    public static void requireSameRun(String source, Map<String, String> now, Map<String, String> saved) {
        if (!saved.containsKey("engine")) {
            throw new ConfigException(source + ": --resume: the checkpoint was written by the DistriOptimizer engine, "
                    + "which sparkvit no longer has; start the run again without --resume");
        }
        List<String> changed = new ArrayList<>();
        now.forEach((key, value) -> {
            if (key.equals(DATASET_SNAPSHOT) && !saved.containsKey(key)) {
                return; // written before runs recorded their snapshot: it resumes on the current one
            }
            String before = saved.get(key);
            if (!value.equals(before)) {
                changed.add(key + " " + before + " -> " + value);
            }
        });
        if (saved.containsKey(TrainingInput.KEY) && !now.containsKey(TrainingInput.KEY)) {
            changed.add(TrainingInput.KEY + " " + saved.get(TrainingInput.KEY) + " -> " + TrainingInput.MEMORY);
        }
        if (!changed.isEmpty()) {
            throw new ConfigException(source + ": --resume needs the settings the run started with; changed: "
                    + String.join(", ", changed));
        }
    }

    private static NamedTensor named(Tensor<Float> tensor) {
        return new NamedTensor(Tensors.shape(tensor), Tensors.toArray(tensor));
    }
}
