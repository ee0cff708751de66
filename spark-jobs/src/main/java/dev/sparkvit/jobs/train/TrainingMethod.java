package dev.sparkvit.jobs.train;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.engine.BarrierSegment;
import dev.sparkvit.engine.GradientProcessor;
import dev.sparkvit.engine.EpochDataSet;
import dev.sparkvit.engine.NonFinitePolicy;
import dev.sparkvit.model.vit.VisionTransformer;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;

/**
 * One kind of training on the barrier loop ({@link BarrierTraining}): SimCLR pretraining or supervised fine-tuning.
 * The method supplies what differs (the model and its head, the data, the loss, the optimiser, the console lines and
 * the work at an epoch's end: the probe, or validation) and the result; the loop owns what is the same (segments,
 * checkpoints, resume, the EMA, the non-finite stop, TensorBoard's per-iteration scalars).
 *
 * @param <R> the job's result
 */
public interface TrainingMethod<R> {

    /**
     * The run's settings the loop uses.
     *
     * @param name the job's name (TensorBoard run, log lines)
     * @param batchSize the global batch B of an optimiser step, {@code training.batch_size}
     * @param accumulationSteps the micro-batches of a step (fine-tuning's
     *     {@code training.gradient_accumulation_steps}; 1: an iteration is a step); an iteration trains on
     *     {@link #iterationBatch()} images
     * @param ema the EMA of the weights the loop keeps and checkpoints
     * @param seed {@code training.seed}: with the iteration and the row, the key of drop-path's draws in a step
     */
    record Run(String name, String source, Map<String, String> fingerprint, CheckpointStore.OnCorrupt onCorrupt,
            int batchSize, int accumulationSteps, int checkpointEvery, double clipGradNorm,
            NonFinitePolicy nonFinite, BarrierSegment.Ema ema, long seed) {
        /** The images of one iteration, the segment's global batch: B / accumulation steps. */
        public int iterationBatch() {
            return batchSize / accumulationSteps;
        }
    }

    /**
     * What the method built for one attempt.
     *
     * @param vit the ViT whose named parameters are trained (its weights are the live ones after each segment)
     * @param trained the module the segment trains ({@code vit}'s, or one around it), its parameters compacted
     * @param blank a fresh ViT of the same architecture, to carry the EMA ({@code VisionTransformer.blank(config,
     *     head)})
     * @param data the training samples, one partition per barrier task
     * @param iterationsPerEpoch ceil(images / {@link Run#iterationBatch()})
     * @param totalIterations the run's iterations
     * @param methods a fresh optimiser for every parameter group of {@code vit}, by group name (FreezeOut's and layer decay's schedules, gradient accumulation behind {@code GradientAccumulation})
     * @param processor what runs on the exchanged gradient before the methods: decoupled weight decay of the
     *     decayed ranges, or LARS (null: none)
     */
    record Model(VisionTransformer vit, AbstractModule<Activity, Activity, Float> trained,
            Supplier<VisionTransformer> blank, EpochDataSet<?> data, long iterationsPerEpoch, long totalIterations,
            BarrierSegment.Loss loss, Map<String, OptimMethod<Float>> methods, GradientProcessor processor) {
    }

    /**
     * An epoch's end: its 0-based number, whether it is the run's last, the losses of its iterations this process
     * trained, their seconds and images, the iterations done, and the EMA's weights in a fresh ViT (made on demand).
     */
    record EpochEnd(int epoch, boolean last, float[] losses, double seconds, long images, long iteration,
            Supplier<VisionTransformer> ema) {
    }

    /**
     * The attempt's end: {@code complete} when the run trained to its last iteration (else it stopped early, on
     * request), every iteration's loss this process trained, and the final EMA (its last fold done) in a fresh ViT.
     */
    record Finish(boolean complete, float[] losses, long firstIteration, double seconds,
            Supplier<VisionTransformer> ema) {
    }

    /** The settings the loop needs. */
    Run run();

    /**
     * Builds the attempt's model, data, loss and optimiser for {@code tasks} barrier tasks (one data partition each);
     * {@code resuming}: the loop then puts a checkpoint's weights into {@code vit} (a method skips what only a fresh
     * run does, such as fitting the head).
     */
    Model build(SparkSession spark, TrainingRestarts.Start attempt, int tasks, boolean resuming);

    /** Training starts at {@code iteration} (after a resume, not 0): the monitor and the console's first lines. */
    void started(long iteration, TrainingScalars scalars, int tasks);

    /** A segment [from, to) trained in {@code seconds}: per-iteration monitoring beyond the loss and norm. */
    void segment(long from, long to, double seconds, BarrierSegment.Result result);

    /** The work at an epoch's end (probe or validation, the epoch line and scalars). */
    void epochEnd(EpochEnd end);

    /** The result: the weights written, or a partial result when the run stopped early. */
    R finish(Finish finish);
}
