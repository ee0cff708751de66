package dev.sparkvit.jobs.pretrain;

import dev.sparkvit.jobs.train.TrainingScalars;
import dev.sparkvit.jobs.probe.LinearProbe;
import dev.sparkvit.jobs.train.NonFiniteSteps;
import dev.sparkvit.model.optim.LearningRateSchedule;
import dev.sparkvit.model.vit.LayerScaleStats;
import dev.sparkvit.report.LineChart;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a user watches during pretraining: TensorBoard scalars beside DLlib's Loss, Throughput and LearningRate
 * (the learning rate of every group per iteration, LayerScale statistics per block, images/s and probe accuracy per
 * epoch), one console line per epoch with loss, images/s and ETA, and at the end a PNG of the loss and probe curves.
 */
final class PretrainMonitor {
    /** One finished epoch: mean loss, images/s, and the probe when one ran. */
    record Epoch(int epoch, double meanLoss, double imagesPerSecond, double seconds, LinearProbe.Result probe,
            double projectionCosine) {
    }

    private final TrainingScalars training;
    private final PrintStream console;
    private final int epochs;
    private final long totalIterations;
    private final List<Epoch> history = new ArrayList<>();
    private double trainedSeconds;
    private long trainedIterations;

    /** With the epochs an earlier attempt of this process finished (a restart continues its history). */
    PretrainMonitor(TrainingScalars training, PrintStream console, int epochs, long totalIterations, List<Epoch> earlier) {
        history.addAll(earlier);
        this.training = training;
        this.console = console;
        this.epochs = epochs;
        this.totalIterations = totalIterations;
    }

    /** Records a segment [from, to) that took {@code seconds}: learning rates per group. */
    void segment(long from, long to, double seconds, Map<String, LearningRateSchedule> schedules) {
        trainedSeconds += seconds;
        trainedIterations += to - from;
        for (long i = from; i < to; i++) {
            for (Map.Entry<String, LearningRateSchedule> group : schedules.entrySet()) {
                training.scalar("LearningRate/" + group.getKey(), group.getValue().rate(i), i + 1);
            }
        }
    }

    /** Records a finished epoch (0-based) and prints its line. */
    void epoch(int epoch, float[] losses, double seconds, long images, long iterationsDone,
            List<LayerScaleStats> layerScale, LinearProbe.Result probe, double projectionCosine, double chance) {
        NonFiniteSteps.EpochLoss epochLoss = NonFiniteSteps.epochLoss(losses, iterationsDone - losses.length,
                training.skippedIterations());
        double mean = epochLoss.mean();
        double throughput = images / seconds;
        long step = iterationsDone;
        training.scalar("epoch/loss", mean, step);
        training.scalar("epoch/images_per_second", throughput, step);
        training.scalar("collapse/projection_cosine", projectionCosine, step);
        training.scalar("collapse/chance_minus_loss", chance - mean, step);
        for (LayerScaleStats stats : layerScale) {
            training.scalar("LayerScale/block" + stats.block() + "/attention_mean_abs", stats.attentionMeanAbs(), step);
            training.scalar("LayerScale/block" + stats.block() + "/mlp_mean_abs", stats.mlpMeanAbs(), step);
        }
        if (probe != null) {
            training.scalar("probe_accuracy/pooled", probe.pooledAccuracy(), step);
            training.scalar("probe_accuracy/mean_tokens", probe.meanAccuracy(), step);
        }
        history.add(new Epoch(epoch, mean, throughput, seconds, probe, projectionCosine));
        double perIteration = trainedIterations == 0 ? 0 : trainedSeconds / trainedIterations;
        long eta = Math.round(perIteration * (totalIterations - iterationsDone));
        console.printf("epoch %d/%d  loss %.4f  %.0f img/s  %.1f s  ETA %s  cos %.3f%s%s%n", epoch + 1, epochs, mean,
                throughput, seconds, clock(eta), projectionCosine, probe == null ? "" : String.format(
                        "  probe pooled %.3f, mean tokens %.3f%s", probe.pooledAccuracy(), probe.meanAccuracy(),
                        probe.converged() ? "" : " (probe solver not converged)"),
                epochLoss.note());
    }

    List<Epoch> history() {
        return List.copyOf(history);
    }

    /**
     * Loss per epoch against NT-Xent's chance value, the projections' mean cosine, and probe accuracy (with the
     * random-encoder baseline) as a PNG.
     */
    void writeCurves(Path file, LinearProbe.Result random, double chance) {
        int n = history.size();
        double[] x = new double[n];
        double[] loss = new double[n];
        double[] cosine = new double[n];
        List<Double> probeX = new ArrayList<>();
        List<Double> pooled = new ArrayList<>();
        List<Double> meanTokens = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Epoch e = history.get(i);
            x[i] = e.epoch() + 1;
            loss[i] = e.meanLoss();
            cosine[i] = e.projectionCosine();
            if (e.probe() != null) {
                probeX.add(x[i]);
                pooled.add(e.probe().pooledAccuracy());
                meanTokens.add(e.probe().meanAccuracy());
            }
        }
        double[] px = probeX.stream().mapToDouble(Double::doubleValue).toArray();
        List<LineChart.Series> probes = new ArrayList<>(List.of(
                new LineChart.Series("pooled", px, pooled.stream().mapToDouble(Double::doubleValue).toArray()),
                new LineChart.Series("mean tokens", px,
                        meanTokens.stream().mapToDouble(Double::doubleValue).toArray())));
        if (random != null && px.length > 0) {
            double[] ends = {px[0], px[px.length - 1]};
            probes.add(new LineChart.Series("random encoder (pooled)", ends,
                    new double[] {random.pooledAccuracy(), random.pooledAccuracy()}));
        }
        double[] span = n == 0 ? new double[0] : new double[] {x[0], x[n - 1]};
        new LineChart()
                .panel("NT-Xent loss (epoch mean)", "epoch", "loss",
                        List.of(new LineChart.Series("loss", x, loss), new LineChart.Series("chance ln(2n - 1)", span,
                                n == 0 ? new double[0] : new double[] {chance, chance})))
                .panel("Projections' mean cosine (collapse near 1)", "epoch", "cosine",
                        List.of(new LineChart.Series("cosine", x, cosine)))
                .panel("Linear-probe val accuracy (EMA encoder)", "epoch", "accuracy", probes, 0, 1)
                .write(file);
    }

    private static String clock(long seconds) {
        return seconds >= 3600 ? String.format("%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
                : String.format("%d:%02d", seconds / 60, seconds % 60);
    }
}
