package dev.sparkvit.jobs.train;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import com.intel.analytics.bigdl.dllib.visualization.TrainSummary;
import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.checkpoint.CorruptCheckpointException;
import dev.sparkvit.checkpoint.TrainingCheckpoint;
import dev.sparkvit.engine.BarrierSegment;
import dev.sparkvit.engine.EventFileNames;
import dev.sparkvit.engine.ModuleParameters;
import dev.sparkvit.engine.TrainingProgress;
import dev.sparkvit.engine.NonFiniteStep;
import dev.sparkvit.engine.NonFiniteTrainingException;
import dev.sparkvit.engine.PartitionedOptimizerState;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.storage.RunFolder;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training loop, one for both jobs: a {@link TrainingMethod}
 * supplies what differs, the loop does the rest for one attempt of {@link TrainingRestarts}.
 * <ol>
 *   <li>the starting point: a fresh run, or the newest valid checkpoint ({@link RunState#startingPoint}) whose live
 *       weights, EMA, EMA fold count and optimiser state the first segment starts from;</li>
 *   <li>the layout: one barrier task per model replica (executors x cores), the global batch a multiple of them, a
 *       free slot for each, dynamic allocation off ({@link BarrierPreflight});</li>
 *   <li>segments as {@link Segments} cuts them (checkpoints, epoch ends), each one {@link BarrierSegment} stage with
 *       the method's parameter groups (one optimiser each, FreezeOut's schedules), clipping, the processor (decoupled
 *       weight decay or LARS) and the EMA; a non-finite loss or gradient stops the run
 *       ({@link NonFiniteSteps#stopped}) or, with {@code training.non_finite: skip}, is skipped and reported
 *       ({@link NonFiniteSteps#reporter}); a segment is checked against the attempt's executors before anything of
 *       it is written;</li>
 *   <li>TensorBoard's {@code Loss}, {@code gradient_norm} (per iteration) and {@code Throughput} (per segment), and
 *       the method's own scalars through {@link TrainingScalars};</li>
 *   <li>the method's epoch-end work, with the EMA's weights on demand; the EMA's final fold after the last
 *       iteration (as {@code EmaContainer.update()} defines it);</li>
 *   <li>checkpoints ({@link #snapshot}): the live weights and the EMA by name, the fold count, every group's optimiser
 *       state by name, the skipped iterations, the progress the iteration implies. A resumed run ends bit-identical to an
 *       uninterrupted one: a segment's data position and every number it starts from come from its start alone.</li>
 * </ol>
 */
public final class BarrierTraining {
    private static final Logger LOG = LoggerFactory.getLogger(BarrierTraining.class);

    private final PrintStream console;
    private final Consumer<String> warn;
    private long stopAfter = Long.MAX_VALUE;

    /**
     * @param console the run's console lines
     * @param warn a warning line (console and log)
     */
    public BarrierTraining(PrintStream console, Consumer<String> warn) {
        this.console = console;
        this.warn = warn;
    }

    /** Stops after the first segment that reaches {@code iteration} (to test resuming; not a user setting). */
    public BarrierTraining stopAfter(long iteration) {
        this.stopAfter = iteration;
        return this;
    }

    /** One attempt of {@code method}'s run (class comment). */
    public <R> R attempt(SparkSession spark, RunFolder folder, CheckpointStore store, TrainingRestarts.Start attempt,
            TrainingMethod<R> method) {
        TrainingMethod.Run run = method.run();
        TrainingCheckpoint checkpoint = RunState.startingPoint(store, attempt.resume(), folder.location(),
                run.source(), run.fingerprint(), run.onCorrupt(), warn);
        // one barrier task per core, one data partition each; barrier mode's constraints checked (one line, exit 2)
        int tasks = BarrierPreflight.tasks(run.source(), run.batchSize(), run.accumulationSteps(),
                spark.sparkContext());
        TrainingMethod.Model model = method.build(spark, attempt, tasks, checkpoint != null);
        AbstractModule<Activity, Activity, Float> trained = model.trained();
        Tensor<Float> flat = ModuleParameters.compact(trained); // the flat order of every segment's weights
        VisionTransformer vit = model.vit();
        if (checkpoint != null) {
            RunState.restoreLive(checkpoint, vit);
        }
        Path events = folder.local().resolve("tensorboard");
        if (checkpoint != null || attempt.restarted()) {
            EventFileNames.waitForAFreshName(events.resolve(run.name()).resolve("train"));
        }
        TrainSummary summary = new TrainSummary(events.toString(), run.name());
        List<Long> skipped = new ArrayList<>(); // the run's skipped iterations (epoch losses leave them out)
        TrainingScalars scalars = new TrainingScalars() {
            @Override
            public void scalar(String tag, double value, long step) {
                summary.addScalar(tag, (float) value, step);
            }

            @Override
            public List<Long> skippedIterations() {
                return skipped;
            }
        };
        Consumer<NonFiniteStep> reportSkip = NonFiniteSteps.reporter(run.name(),
                (tag, value, step) -> summary.addScalar(tag, (float) value, step), console, model.totalIterations(),
                run.nonFinite());
        // the method's parameter groups, schedules (FreezeOut's per block) and processor (decay or LARS)
        Map<String, PartitionedOptimizerState.Slice> slices = RunState.groupSlices(trained, vit);
        try (BarrierSegment segment = new BarrierSegment(trained, model.data(), run.iterationBatch(), model.loss(),
                model.methods(), slices).clipGradientNorm(run.clipGradNorm()).nonFinite(run.nonFinite())
                .parameterProcessor(model.processor()).ema(run.ema()).seed(run.seed())) {
            long perEpoch = model.iterationsPerEpoch();
            long total = model.totalIterations();
            if (segment.iterationsPerEpoch() != perEpoch) {
                throw new IllegalStateException("the method counts " + perEpoch + " iterations an epoch, the segment "
                        + segment.iterationsPerEpoch());
            }
            BarrierSegment.Start start;
            if (checkpoint != null) {
                if (!checkpoint.optimizer().keySet().equals(slices.keySet())) {
                    throw new CorruptCheckpointException("checkpoint of iteration "
                            + checkpoint.progress().iterations() + " holds the optimiser state of groups "
                            + checkpoint.optimizer().keySet() + ", this model has " + slices.keySet());
                }
                start = new BarrierSegment.Start(checkpoint.progress().iterations(), Tensors.toArray(flat),
                        checkpoint.optimizer(), flatEma(checkpoint, vit, flat), checkpoint.emaUpdates(),
                        checkpoint.emaSkipsNextFold(), checkpoint.skippedIterations());
                skipped.addAll(checkpoint.skippedIterations());
                console.printf("resuming from iteration %d of %d (epoch %d)%n", checkpoint.progress().iterations(),
                        total, checkpoint.progress().epoch() + 1);
            } else {
                start = BarrierSegment.Start.of(trained, model.methods(), 0);
            }
            method.started(start.iteration(), scalars, tasks);

            long done = start.iteration();
            long firstIteration = done;
            List<Float> losses = new ArrayList<>();
            long epochStartIteration = done - done % perEpoch;
            double epochSeconds = 0;
            long started = System.nanoTime();
            Segments segments = new Segments(perEpoch, total, run.checkpointEvery());
            while (done < total && done < stopAfter) {
                long next = segments.next(done);
                long t0 = System.nanoTime();
                BarrierSegment.Result result;
                try {
                    result = segment.run(start, (int) (next - done));
                } catch (NonFiniteTrainingException stop) { // the summary is closed below
                    throw NonFiniteSteps.stopped(run.name(), stop, total, run.nonFinite(), store);
                }
                attempt.executors().requireIntact("during iterations " + (done + 1) + " to " + next);
                start = result.next();
                for (long s : result.skippedHere()) { // each skipped step's line and scalar, as the guard reports it
                    skipped.add(s);
                    reportSkip.accept(new NonFiniteStep(s, (int) (s / perEpoch), result.losses()[(int) (s - done)],
                            result.norms()[(int) (s - done)], skipped.size()));
                }
                if (next == total) { // fold in the final weights (EmaContainer.update's rules)
                    start = start.withFinalFold(run.ema());
                }
                System.arraycopy(result.weights(), 0, Tensors.data(flat), Tensors.offset(flat),
                        result.weights().length);
                double seconds = (System.nanoTime() - t0) / 1e9;
                epochSeconds += seconds;
                for (int k = 0; k < result.iterations(); k++) {
                    long step = done + k + 1;
                    losses.add((float) result.losses()[k]);
                    summary.addScalar("Loss", (float) result.losses()[k], step);
                    summary.addScalar("gradient_norm", (float) result.norms()[k], step);
                }
                summary.addScalar("Throughput", (float) (result.iterations() * run.iterationBatch() / seconds), next);
                LOG.info("stage {}: iterations {} to {}: {}", run.name(), done + 1, next,
                        SegmentTimes.describe(seconds, result));
                method.segment(done, next, seconds, result);
                if (segments.epochEnd(next)) {
                    long from = Math.max(epochStartIteration, firstIteration);
                    float[] epochLosses = new float[(int) (next - from)];
                    for (int k = 0; k < epochLosses.length; k++) {
                        epochLosses[k] = losses.get(losses.size() - epochLosses.length + k);
                    }
                    float[] emaNow = start.ema();
                    method.epochEnd(new TrainingMethod.EpochEnd((int) (next / perEpoch) - 1, next == total,
                            epochLosses, epochSeconds, (next - from) * run.iterationBatch(), next,
                            () -> emaCopy(emaNow, vit, model.blank())));
                    epochStartIteration = next;
                    epochSeconds = 0;
                }
                if (segments.checkpointDue(next)) {
                    Path written = store.write(snapshot(start, vit, perEpoch, run));
                    folder.publish();
                    LOG.info("stage {}: checkpoint {}", run.name(), folder.describe(written));
                }
                done = next;
            }
            float[] history = new float[losses.size()];
            for (int k = 0; k < history.length; k++) {
                history[k] = losses.get(k);
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            if (done == total) {
                LOG.info("stage {}: {} iterations on the barrier engine ({} in this process, {} s)", run.name(), total,
                        total - firstIteration, String.format("%.1f", seconds));
            }
            float[] finalEma = start.ema();
            return method.finish(new TrainingMethod.Finish(done == total, history, firstIteration, seconds,
                    () -> emaCopy(finalEma, vit, model.blank())));
        } finally {
            summary.close();
        }
    }

    /**
     * A segment's end as a checkpoint: the start of the next segment, its weights (already in {@code vit}) as the live
     * weights, its EMA and fold count, its optimiser state, and the progress its iteration implies.
     */
    static TrainingCheckpoint snapshot(BarrierSegment.Start next, VisionTransformer vit, long perEpoch,
            TrainingMethod.Run run) {
        long iterations = next.iteration();
        Map<String, NamedTensor> weights = new LinkedHashMap<>();
        Map<String, NamedTensor> ema = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor<Float>> entry : vit.namedParameters().entrySet()) {
            Tensor<Float> tensor = entry.getValue();
            weights.put(entry.getKey(), new NamedTensor(Tensors.shape(tensor), Tensors.toArray(tensor)));
            int at = tensor.storageOffset() - 1; // its place in the flat buffer (compacted)
            ema.put(entry.getKey(), new NamedTensor(Tensors.shape(tensor),
                    Arrays.copyOfRange(next.ema(), at, at + tensor.nElement())));
        }
        TrainingProgress progress = new TrainingProgress(iterations,
                (int) (iterations / perEpoch), iterations % perEpoch * run.iterationBatch());
        return new TrainingCheckpoint(progress, weights, ema, next.emaUpdates(), next.optimizer(), run.fingerprint(),
                next.emaSkipsNextFold(), next.skipped());
    }

    /** A checkpoint's EMA in the flat order of {@code flat}, the compacted buffer {@code vit}'s tensors view. */
    private static float[] flatEma(TrainingCheckpoint checkpoint, VisionTransformer vit, Tensor<Float> flat) {
        float[] ema = new float[Tensors.size(flat)];
        int covered = 0;
        for (Map.Entry<String, Tensor<Float>> entry : vit.namedParameters().entrySet()) {
            Tensor<Float> tensor = entry.getValue();
            NamedTensor stored = checkpoint.ema().get(entry.getKey());
            if (stored == null || !Arrays.equals(stored.shape(), Tensors.shape(tensor))) {
                throw new CorruptCheckpointException("checkpoint of iteration " + checkpoint.progress().iterations()
                        + " lacks an EMA " + entry.getKey() + " of shape " + Arrays.toString(Tensors.shape(tensor)));
            }
            System.arraycopy(stored.values(), 0, ema, tensor.storageOffset() - 1, tensor.nElement());
            covered += tensor.nElement();
        }
        if (covered != ema.length) {
            throw new IllegalStateException("the named parameters cover " + covered + " of " + ema.length
                    + " flat weights");
        }
        return ema;
    }

    /** A fresh ViT ({@code blank}) carrying the flat EMA {@code ema} (the order of {@code vit}'s compacted buffer). */
    private static VisionTransformer emaCopy(float[] ema, VisionTransformer vit, Supplier<VisionTransformer> blank) {
        VisionTransformer copy = blank.get();
        Iterator<Tensor<Float>> live = vit.namedParameters().values().iterator();
        for (Tensor<Float> weight : copy.namedParameters().values()) {
            Tensor<Float> source = live.next();
            int at = source.storageOffset() - 1;
            weight.copy(Tensors.of(Arrays.copyOfRange(ema, at, at + source.nElement()), Tensors.shape(source)));
        }
        return copy;
    }
}
