package dev.sparkvit.bench;

import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatTypes;
import dev.sparkvit.model.losses.CrossEntropyLoss;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import scala.Tuple2;

/**
 * One ViT training step in the calling thread, the arithmetic each replica of the training jobs runs but without
 * Spark or data: zero the gradients, forward, cross-entropy, backward, then AdamW on the flat parameter buffer DLlib's
 * {@code getParameters()} builds (the layout the jobs train). Timed per block of steps after warm-up.
 */
public final class VitStepBenchmark {
    private final VitBenchSettings settings;
    private final Sequential<Float> model;
    private final CrossEntropyLoss loss = new CrossEntropyLoss(0, null);
    private final AdamW adamw = AdamW.of(iteration -> 1e-3, 0.05);
    private final Tensor<Float> weights;
    private final Tensor<Float> gradients;
    private final SyntheticBatch batch;
    private final long parameters;
    private float lastLoss = Float.NaN;
    private double[] cpuSeconds = new double[0];

    public VitStepBenchmark(VitBenchSettings settings) {
        this.settings = settings;
        VitConfig config = settings.config();
        VisionTransformer vit = VisionTransformer.classifier(config, settings.classes(), settings.seed());
        this.parameters = vit.parameterCount();
        this.model = vit.module();
        model.training();
        Tuple2<Tensor<Float>, Tensor<Float>> flat = model.getParameters();
        this.weights = flat._1();
        this.gradients = flat._2();
        this.batch = SyntheticBatch.of(settings.batch(), config.inChans(), config.imgSize(), settings.classes(),
                settings.seed() + 1);
    }

    public long parameterCount() {
        return parameters;
    }

    /**
     * Images per second of this thread's CPU time, per timed block of the last {@link #run()}: a check on the wall
     * clock rates when other processes share the cores (MKL runs single-threaded in this thread).
     */
    public double[] imagesPerCpuSecond() {
        double[] rates = new double[cpuSeconds.length];
        for (int r = 0; r < rates.length; r++) {
            rates[r] = (double) settings.batch() * settings.steps() / cpuSeconds[r];
        }
        return rates;
    }

    /** Per-layer-kind forward and backward milliseconds per timed step of the last {@link #run()} (LayerTimes). */
    public java.util.Map<String, double[]> layerTimes() {
        return LayerTimes.perStep(model, settings.steps() * settings.repeats());
    }

    /** One training step; returns its loss. */
    public float step() {
        model.zeroGradParameters();
        Tensor<Float> logits = model.forward(batch.images()).toTensor(FloatTypes.NUMERIC);
        float value = loss.forward(logits, batch.labels());
        Tensor<Float> gradLogits = loss.backward(logits, batch.labels());
        model.backward(batch.images(), gradLogits);
        adamw.optimize(w -> new Tuple2<>(value, gradients), weights);
        lastLoss = value;
        return value;
    }

    /** Warm-up, then one images/s sample per block of timed steps. */
    public double[] run() {
        for (int i = 0; i < settings.warmup(); i++) {
            step();
        }
        model.resetTimes();
        double[] seconds = new double[settings.repeats()];
        java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
        cpuSeconds = new double[settings.repeats()];
        for (int r = 0; r < settings.repeats(); r++) {
            long start = System.nanoTime();
            long cpuStart = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < settings.steps(); i++) {
                step();
            }
            seconds[r] = (System.nanoTime() - start) / 1e9;
            cpuSeconds[r] = (cpu.getCurrentThreadCpuTime() - cpuStart) / 1e9;
        }
        if (!Float.isFinite(lastLoss)) {
            throw new IllegalStateException("the benchmark's training loss is not finite: " + lastLoss);
        }
        double[] rates = new double[seconds.length];
        for (int r = 0; r < seconds.length; r++) {
            rates[r] = (double) settings.batch() * settings.steps() / seconds[r];
        }
        return rates;
    }
}
