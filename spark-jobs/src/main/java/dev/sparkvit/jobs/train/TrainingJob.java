package dev.sparkvit.jobs.train;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.data.ingest.DatasetSnapshot;
import dev.sparkvit.engine.EpochDataSet;
import dev.sparkvit.storage.RunFolder;
import java.io.PrintStream;
import java.util.function.UnaryOperator;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a training job (pretraining, fine-tuning) holds besides its method: resume or not, the console, the dataset
 * snapshot the run reads, the attempt's cached data (released before a restart), and the test hooks (stop after an
 * iteration, wrap the trained module). The jobs keep only what differs between them.
 *
 * @param <J> the job, for the fluent setters
 */
public abstract class TrainingJob<J extends TrainingJob<J>> {
    private static final Logger LOG = LoggerFactory.getLogger(TrainingJob.class);

    protected final boolean resume;
    protected final PrintStream console;
    private long stopAfter = Long.MAX_VALUE;
    /** {@code --snapshot}: the dataset snapshot to read (null: the current one, or on resume the recorded one). */
    private Long requestedSnapshot;
    /** The snapshot the run reads, resolved once by {@link #open}. */
    private DatasetSnapshot data;
    private UnaryOperator<AbstractModule<?, ?, Float>> wrapModel = UnaryOperator.identity();
    /** The current attempt's data, released when it fails. */
    private EpochDataSet<?> attemptData;

    protected TrainingJob(boolean resume, PrintStream console) {
        this.resume = resume;
        this.console = console;
    }

    /** This job, typed for the fluent setters. */
    protected abstract J self();

    /** Stops after the first segment that reaches {@code iteration} (to test resuming; not a user setting). */
    public J stopAfter(long iteration) {
        this.stopAfter = iteration;
        return self();
    }

    /** Reads the dataset's snapshot {@code id} instead of its current one ({@code --snapshot}). */
    public J snapshot(Long id) {
        this.requestedSnapshot = id;
        return self();
    }

    /** Wraps the trained model inside the EMA (to inject faults in tests; not a user setting). */
    public J wrapModel(UnaryOperator<AbstractModule<?, ?, Float>> wrap) {
        this.wrapModel = wrap;
        return self();
    }

    /** The dataset snapshot the run reads (resolved at the start of the job's {@code execute}). */
    public DatasetSnapshot data() {
        return data;
    }

    /** Where a run works and what it reads: its output folder, its checkpoints, its dataset snapshot. */
    protected record Opened(RunFolder folder, CheckpointStore store) {
    }

    /**
     * Opens the run's output folder (a remote {@code output_dir}, hdfs:// or s3a://, is worked on in a local copy,
     * published after every checkpoint) and its checkpoint store, and resolves the dataset snapshot every epoch,
     * probe, validation and the weights' metadata read, whatever ingests commit meanwhile.
     */
    protected Opened open(SparkSession spark, String outputDir, int keepCheckpoints, String source, String dataset) {
        RunFolder folder = RunFolder.open(outputDir, spark.sparkContext().hadoopConfiguration());
        CheckpointStore store = new CheckpointStore(folder.local().resolve("checkpoints"), keepCheckpoints);
        data = RunState.datasetSnapshot(spark, store, resume, source, dataset, requestedSnapshot);
        return new Opened(folder, store);
    }

    /** The shared training loop, with this job's console, warnings and stop. */
    protected BarrierTraining training() {
        return new BarrierTraining(console, this::warn).stopAfter(stopAfter);
    }

    /** The attempt's epoch data, released if the attempt fails. */
    public <E> EpochDataSet<E> attemptData(EpochDataSet<E> epochData) {
        attemptData = epochData;
        return epochData;
    }

    /** Frees what a failed attempt cached (the epoch data), before a restart. */
    protected void abandonAttempt() {
        if (attemptData != null) {
            attemptData.originRDD().unpersist(false);
            attemptData = null;
        }
    }

    /** The trained module as tests wrap it (fault injection). */
    @SuppressWarnings("unchecked")
    public AbstractModule<Activity, Activity, Float> wrapped(AbstractModule<?, ?, Float> module) {
        return (AbstractModule<Activity, Activity, Float>) (AbstractModule<?, ?, ?>) wrapModel.apply(module);
    }

    /** Says once per run (not again after a restart) how the stored images' size relates to the model's. */
    protected void sayImageSize(TrainingConfig.SizeNote note, TrainingRestarts.Start attempt) {
        if (note != null && !attempt.restarted()) {
            if (note.warning()) {
                warn(note.line());
            } else {
                console.println(note.line());
            }
        }
    }

    /** A warning line on the console and in the log. */
    public void warn(String line) {
        LOG.warn(line);
        console.println("warning: " + line);
    }
}
