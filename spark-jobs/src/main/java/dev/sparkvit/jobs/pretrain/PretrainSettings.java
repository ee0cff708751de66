package dev.sparkvit.jobs.pretrain;

import dev.sparkvit.jobs.train.RunState;
import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.config.ConfigException;
import dev.sparkvit.engine.NonFinitePolicy;
import dev.sparkvit.jobs.train.ModelChoice;
import dev.sparkvit.jobs.train.RestartPolicy;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A SimCLR pretraining run (the training guide's phase 1), validated; read from YAML by {@link PretrainConfig}.
 *
 * @param dataset ingested dataset folder
 * @param outputDir checkpoints, TensorBoard events, curves and weights: an absolute local path or a Hadoop URI
 * @param model model preset and architecture choices
 * @param epochs passes over the train split
 * @param batchSize images per global batch (each gives two views), a multiple of the replica count
 * @param optimizer "adamw", "sgd" (with momentum) or "lars" (SGD with momentum behind LARS trust ratios)
 * @param learningRate base learning rate (peak after warmup)
 * @param weightDecay decoupled weight decay, skipping biases, norms, embeddings and LayerScale gammas
 * @param momentum SGD and LARS momentum
 * @param larsEta LARS trust coefficient
 * @param warmupEpochs linear warmup, in epochs
 * @param clipGradNorm global L2 norm the gradient is clipped to; 0 = off
 * @param nonFinite stop at, or skip, an iteration whose loss or gradient is not finite (may change on resume)
 * @param restarts restarts from the newest checkpoint after a lost executor (may change on resume)
 * @param temperature NT-Xent temperature
 * @param projectionDim SimCLR projection size
 * @param projectionBatchNorm whether the projection head has a BatchNorm after its hidden layer (SimCLR's)
 * @param freezeOut FreezeOut knobs
 * @param emaDecay decay of the weight EMA (evaluated and saved)
 * @param emaWarmup timm's EMA warmup of the decay
 * @param checkpointEvery iterations between checkpoints; 0 = at the end of every epoch
 * @param keepCheckpoints newest checkpoints kept
 * @param onCorrupt what {@code --resume} does when the newest checkpoint is corrupt
 * @param probeEvery epochs between linear probes; 0 = only at the end
 * @param seed the one seed of weights, views and order
 * @param source where the settings came from, for messages
 * @param input where the epochs read the train split from ({@code data.input}, {@code data.shuffle_buffer})
 */
public record PretrainSettings(String dataset, String outputDir, ModelChoice model, int epochs, int batchSize,
        String optimizer, double learningRate, double weightDecay, double momentum, double larsEta, int warmupEpochs,
        double clipGradNorm, NonFinitePolicy nonFinite, RestartPolicy restarts, double temperature, int projectionDim,
        boolean projectionBatchNorm, FreezeOut freezeOut,
        double emaDecay, boolean emaWarmup, int checkpointEvery, int keepCheckpoints,
        CheckpointStore.OnCorrupt onCorrupt, int probeEvery, long seed, String source,
        dev.sparkvit.jobs.train.TrainingInput input) {

    /** FreezeOut's knobs (Brock et al. 2017): on/off, t0, the scaling of t_i and lr / t_i scaling. */
    public record FreezeOut(boolean enabled, double t0, FreezeOutSchedule.Scaling scaling, boolean scaleLr) {
        public static final FreezeOut OFF = new FreezeOut(false, 0.8, FreezeOutSchedule.Scaling.CUBIC, false);
    }

    public PretrainSettings {
        Objects.requireNonNull(dataset, "dataset");
        Objects.requireNonNull(outputDir, "outputDir");
        Objects.requireNonNull(freezeOut, "freezeOut");
        Objects.requireNonNull(onCorrupt, "onCorrupt");
        Objects.requireNonNull(nonFinite, "nonFinite");
        Objects.requireNonNull(restarts, "restarts");
        require(epochs >= 1, "training.epochs", epochs, "at least 1", source);
        require(batchSize >= 2, "training.batch_size", batchSize, "at least 2", source);
        require(optimizer.equals("adamw") || optimizer.equals("sgd") || optimizer.equals("lars"),
                "training.optimizer", optimizer, "adamw, sgd or lars", source);
        require(larsEta > 0, "training.lars_eta", larsEta, "positive", source);
        require(learningRate > 0, "training.learning_rate", learningRate, "positive", source);
        require(weightDecay >= 0, "training.weight_decay", weightDecay, "non-negative", source);
        require(momentum >= 0 && momentum < 1, "training.momentum", momentum, "in [0, 1)", source);
        require(warmupEpochs >= 0 && warmupEpochs < epochs, "training.warmup_epochs", warmupEpochs,
                "0 to training.epochs - 1 = " + (epochs - 1), source);
        require(clipGradNorm >= 0, "training.clip_grad_norm", clipGradNorm, "0 (off) or positive", source);
        require(temperature > 0, "temperature", temperature, "positive", source);
        require(projectionDim >= 1, "projection_dim", projectionDim, "at least 1", source);
        require(freezeOut.t0() > 0 && freezeOut.t0() <= 1, "training.freezeout.t0", freezeOut.t0(), "in (0, 1]",
                source);
        require(emaDecay >= 0 && emaDecay < 1, "training.ema.decay", emaDecay, "in [0, 1)", source);
        require(checkpointEvery >= 0, "training.checkpoint.every_iterations", checkpointEvery, "0 or more", source);
        require(keepCheckpoints >= 1, "training.checkpoint.keep", keepCheckpoints, "at least 1", source);
        require(probeEvery >= 0, "training.probe_every_epochs", probeEvery, "0 or more", source);
    }

    private static void require(boolean ok, String key, Object value, String expected, String source) {
        ConfigException.require(ok, key, value, expected, source);
    }

    /** The settings that must not change on resume, as text (stored in checkpoints and compared). */
    public Map<String, String> fingerprint() {
        Map<String, String> run = new LinkedHashMap<>();
        run.put("dataset", dataset);
        run.putAll(model.fingerprint());
        run.put("epochs", String.valueOf(epochs));
        run.put("batch_size", String.valueOf(batchSize));
        run.put("optimizer", optimizer);
        run.put("learning_rate", String.valueOf(learningRate));
        run.put("weight_decay", String.valueOf(weightDecay));
        run.put("momentum", String.valueOf(momentum));
        run.put("lars_eta", String.valueOf(larsEta));
        run.put("warmup_epochs", String.valueOf(warmupEpochs));
        run.put("clip_grad_norm", String.valueOf(clipGradNorm));
        run.put("temperature", String.valueOf(temperature));
        run.put("projection_dim", String.valueOf(projectionDim));
        run.put("projection_norm", projectionBatchNorm ? "batch" : "none");
        run.put("freezeout", freezeOut.toString());
        run.put("ema", emaDecay + (emaWarmup ? " warmup" : ""));
        run.put("seed", String.valueOf(seed));
        run.put("engine", RunState.ENGINE);
        run.putAll(input.fingerprint());
        return run;
    }

    /** The model preset's name. */
    public String preset() {
        return model.preset();
    }
}
