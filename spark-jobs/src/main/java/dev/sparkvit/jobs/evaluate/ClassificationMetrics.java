package dev.sparkvit.jobs.evaluate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sparkvit.storage.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Classification scores of one evaluated model over a labelled set: accuracy, per-class precision, recall and F1,
 * their macro mean, the confusion matrix and the mean loss.
 *
 * <p>Zero denominators follow scikit-learn with {@code zero_division=0}: a class never predicted has precision 0, a
 * class with no examples has recall 0, and F1 is 0 when precision and recall are both 0 (in particular for a class
 * that is neither present nor predicted). The macro F1 is the unweighted mean over <em>all</em> classes, including
 * absent ones, as scikit-learn's {@code f1_score(average="macro", labels=range(k))}.
 */
public final class ClassificationMetrics {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The scores of one class; {@code support} is its number of examples (true labels). */
    public record ClassScore(String name, double precision, double recall, double f1, long support) {
    }

    private final List<String> classNames;
    private final long[][] confusion;
    private final double meanLoss;
    private final long count;
    private final double accuracy;
    private final List<ClassScore> perClass;
    private final double macroF1;

    private ClassificationMetrics(List<String> classNames, long[][] confusion, long count, double meanLoss) {
        this.classNames = classNames;
        this.confusion = confusion;
        this.count = count;
        this.meanLoss = meanLoss;
        int k = classNames.size();
        long correct = 0;
        long[] predicted = new long[k];
        long[] support = new long[k];
        for (int t = 0; t < k; t++) {
            correct += confusion[t][t];
            for (int p = 0; p < k; p++) {
                support[t] += confusion[t][p];
                predicted[p] += confusion[t][p];
            }
        }
        List<ClassScore> scores = new ArrayList<>(k);
        double f1Sum = 0;
        for (int c = 0; c < k; c++) {
            long tp = confusion[c][c];
            long fp = predicted[c] - tp;
            long fn = support[c] - tp;
            // 2tp / (2tp + fp + fn) equals 2PR / (P + R) whenever the latter is defined, and is 0 when tp is.
            double f1 = ratio(2 * tp, 2 * tp + fp + fn);
            scores.add(new ClassScore(classNames.get(c), ratio(tp, predicted[c]), ratio(tp, support[c]), f1,
                    support[c]));
            f1Sum += f1;
        }
        this.perClass = List.copyOf(scores);
        this.accuracy = (double) correct / count;
        this.macroF1 = f1Sum / k;
    }

    /**
     * The scores of {@code predictions} against {@code labels}, both 0-based indices into {@code classNames}, one
     * entry per example; {@code meanLoss} may be NaN when no loss was computed.
     *
     * @throws IllegalArgumentException when there are no classes or no examples, a class name is repeated, the
     *     arrays differ in length, or an index is outside {@code [0, classNames.size())}
     */
    public static ClassificationMetrics of(List<String> classNames, int[] labels, int[] predictions,
            double meanLoss) {
        List<String> names = List.copyOf(classNames);
        if (names.isEmpty()) {
            throw new IllegalArgumentException("metrics need at least one class");
        }
        Set<String> seen = new HashSet<>();
        for (String name : names) {
            if (!seen.add(name)) {
                throw new IllegalArgumentException("class name \"" + name + "\" is repeated in " + names);
            }
        }
        if (labels.length != predictions.length) {
            throw new IllegalArgumentException("there are " + labels.length + " labels but " + predictions.length
                    + " predictions");
        }
        if (labels.length == 0) {
            throw new IllegalArgumentException("metrics need at least one example");
        }
        int k = names.size();
        long[][] confusion = new long[k][k];
        for (int i = 0; i < labels.length; i++) {
            confusion[checkIndex("labels", labels, i, k)][checkIndex("predictions", predictions, i, k)]++;
        }
        return new ClassificationMetrics(names, confusion, labels.length, meanLoss);
    }

    private static int checkIndex(String what, int[] values, int i, int classes) {
        int v = values[i];
        if (v < 0 || v >= classes) {
            throw new IllegalArgumentException(what + "[" + i + "] = " + v + " is not a class index in [0, "
                    + classes + ")");
        }
        return v;
    }

    private static double ratio(long numerator, long denominator) {
        return denominator == 0 ? 0.0 : (double) numerator / denominator;
    }

    public List<String> classNames() {
        return classNames;
    }

    /** The number of examples. */
    public long count() {
        return count;
    }

    /** The fraction of examples predicted correctly. */
    public double accuracy() {
        return accuracy;
    }

    /** The mean of the per-class F1 over all classes (see the class comment for zero denominators). */
    public double macroF1() {
        return macroF1;
    }

    /** One score per class, in class index order. */
    public List<ClassScore> perClass() {
        return perClass;
    }

    /** A copy of the confusion matrix: {@code confusion()[t][p]} examples of class t were predicted as class p. */
    public long[][] confusion() {
        long[][] copy = new long[confusion.length][];
        for (int t = 0; t < confusion.length; t++) {
            copy[t] = confusion[t].clone();
        }
        return copy;
    }

    /** The mean loss over the examples, as given (NaN when none was computed). */
    public double meanLoss() {
        return meanLoss;
    }

    /**
     * The metrics as a JSON object of maps, lists and numbers, in a fixed key order: {@code count}, {@code accuracy},
     * {@code macro_f1}, {@code mean_loss} (null when not finite), {@code classes}, {@code per_class} (one object per
     * class: name, precision, recall, f1, support) and {@code confusion} (rows are true classes).
     */
    public Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("count", count);
        json.put("accuracy", accuracy);
        json.put("macro_f1", macroF1);
        json.put("mean_loss", Double.isFinite(meanLoss) ? meanLoss : null);
        json.put("classes", classNames);
        List<Map<String, Object>> scores = new ArrayList<>();
        for (ClassScore s : perClass) {
            Map<String, Object> score = new LinkedHashMap<>();
            score.put("name", s.name());
            score.put("precision", s.precision());
            score.put("recall", s.recall());
            score.put("f1", s.f1());
            score.put("support", s.support());
            scores.add(score);
        }
        json.put("per_class", scores);
        json.put("confusion", confusion());
        return json;
    }

    /**
     * Writes {@code {"variants": {name: metrics, ...}, ...extra}} as indented JSON to {@code file} (atomically),
     * variants in the map's iteration order. {@code extra} values are written as Jackson serialises them (maps,
     * lists, strings, numbers, booleans).
     *
     * @throws IllegalArgumentException when {@code extra} has a {@code "variants"} key
     */
    public static void writeJson(Map<String, ClassificationMetrics> byVariant, Map<String, ?> extra, Path file) {
        if (extra.containsKey("variants")) {
            throw new IllegalArgumentException("extra entries cannot use the reserved key \"variants\"");
        }
        Map<String, Object> variants = new LinkedHashMap<>();
        byVariant.forEach((name, metrics) -> variants.put(name, metrics.toJson()));
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("variants", variants);
        root.putAll(extra);
        try {
            AtomicFiles.write(file, tmp -> JSON.writeValue(tmp.toFile(), root));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metrics " + file, e);
        }
    }
}
