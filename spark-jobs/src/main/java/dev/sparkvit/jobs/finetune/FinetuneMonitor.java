package dev.sparkvit.jobs.finetune;

import dev.sparkvit.jobs.train.TrainingScalars;
import dev.sparkvit.jobs.evaluate.ClassificationMetrics;
import dev.sparkvit.jobs.train.NonFiniteSteps;
import dev.sparkvit.model.optim.LearningRateSchedule;
import dev.sparkvit.report.LineChart;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a user watches during fine-tuning: one console line per epoch (train loss, validation accuracy and loss of
 * the live and the EMA weights, images/s, ETA), TensorBoard scalars beside DLlib's Loss (learning rate of every
 * group per iteration, validation metrics per epoch), and at the end a PNG of the curves.
 */
final class FinetuneMonitor {
    /** One finished epoch. {@code ema} is null when the EMA is off. */
    record Epoch(int epoch, double trainLoss, double imagesPerSecond, double seconds, ClassificationMetrics live,
            ClassificationMetrics ema) {
    }

    private final TrainingScalars training;
    private final PrintStream console;
    private final int epochs;
    private final long totalIterations;
    private final List<Epoch> history = new ArrayList<>();
    private double trainedSeconds;
    private long trainedIterations;

    /** With the epochs an earlier attempt of this process finished (a restart continues its history). */
    FinetuneMonitor(TrainingScalars training, PrintStream console, int epochs, long totalIterations,
            List<Epoch> earlier) {
        history.addAll(earlier);
        this.training = training;
        this.console = console;
        this.epochs = epochs;
        this.totalIterations = totalIterations;
    }

    /** Records a segment of iterations [from, to): the learning rate of every group at each (in optimiser steps). */
    void segment(long from, long to, double seconds, Map<String, LearningRateSchedule> schedules, int accumulation) {
        trainedSeconds += seconds;
        trainedIterations += to - from;
        for (long i = from; i < to; i++) {
            for (Map.Entry<String, LearningRateSchedule> group : schedules.entrySet()) {
                training.scalar("LearningRate/" + group.getKey(), group.getValue().rate(i / accumulation), i + 1);
            }
        }
    }

    void epoch(int epoch, float[] losses, double seconds, long images, long iterationsDone, ClassificationMetrics live,
            ClassificationMetrics ema) {
        NonFiniteSteps.EpochLoss epochLoss = NonFiniteSteps.epochLoss(losses, iterationsDone - losses.length,
                training.skippedIterations());
        double mean = epochLoss.mean();
        double throughput = images / seconds;
        training.scalar("epoch/train_loss", mean, iterationsDone);
        training.scalar("epoch/images_per_second", throughput, iterationsDone);
        training.scalar("val/accuracy", live.accuracy(), iterationsDone);
        training.scalar("val/macro_f1", live.macroF1(), iterationsDone);
        training.scalar("val/loss", live.meanLoss(), iterationsDone);
        if (ema != null) {
            training.scalar("val_ema/accuracy", ema.accuracy(), iterationsDone);
            training.scalar("val_ema/macro_f1", ema.macroF1(), iterationsDone);
            training.scalar("val_ema/loss", ema.meanLoss(), iterationsDone);
        }
        history.add(new Epoch(epoch, mean, throughput, seconds, live, ema));
        double perIteration = trainedIterations == 0 ? 0 : trainedSeconds / trainedIterations;
        long eta = Math.round(perIteration * (totalIterations - iterationsDone));
        console.printf("epoch %d/%d  loss %.4f  val acc %.3f loss %.3f%s  %.0f img/s  %.1f s  ETA %d:%02d%s%n",
                epoch + 1, epochs, mean, live.accuracy(), live.meanLoss(), ema == null ? ""
                        : String.format("  (EMA acc %.3f loss %.3f)", ema.accuracy(), ema.meanLoss()),
                throughput, seconds, eta / 60, eta % 60, epochLoss.note());
    }

    List<Epoch> history() {
        return List.copyOf(history);
    }

    /** Train loss, validation loss and validation accuracy (live and EMA) per epoch, as a PNG. */
    void writeCurves(Path file) {
        int n = history.size();
        double[] x = new double[n];
        double[] train = new double[n];
        double[] valLoss = new double[n];
        double[] valAcc = new double[n];
        double[] emaLoss = new double[n];
        double[] emaAcc = new double[n];
        boolean withEma = n > 0 && history.get(0).ema() != null;
        for (int i = 0; i < n; i++) {
            Epoch e = history.get(i);
            x[i] = e.epoch() + 1;
            train[i] = e.trainLoss();
            valLoss[i] = e.live().meanLoss();
            valAcc[i] = e.live().accuracy();
            if (withEma) {
                emaLoss[i] = e.ema().meanLoss();
                emaAcc[i] = e.ema().accuracy();
            }
        }
        List<LineChart.Series> losses = new ArrayList<>(List.of(new LineChart.Series("train (mixed targets)", x, train),
                new LineChart.Series("val, live", x, valLoss)));
        List<LineChart.Series> accuracies = new ArrayList<>(List.of(new LineChart.Series("live", x, valAcc)));
        if (withEma) {
            losses.add(new LineChart.Series("val, EMA", x, emaLoss));
            accuracies.add(new LineChart.Series("EMA", x, emaAcc));
        }
        new LineChart()
                .panel("Loss (epoch mean)", "epoch", "loss", losses)
                .panel("Validation accuracy", "epoch", "accuracy", accuracies, 0, 1)
                .write(file);
    }
}
