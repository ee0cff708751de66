package dev.sparkvit.jobs.inference;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.engine.FloatTypes;
import dev.sparkvit.engine.Tensors;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.apache.spark.broadcast.Broadcast;

/**
 * Class probabilities of images on the executors: the broadcast classifier, in batches, averaged over the
 * test-time views (softmax of each view, then the mean). Used inside {@code mapPartitions} by evaluation and
 * prediction; elements whose image cannot be made are the caller's to filter out first.
 */
public final class BatchInference implements Serializable {
    private static final long serialVersionUID = 1L;

    /** An element and its class probabilities. */
    public record Scored<E>(E element, float[] probabilities) {
    }

    private final Broadcast<ClassifierWeights> model;
    private final TtaViews views;
    private final Normalize normalize;
    private final int batchSize;

    public BatchInference(Broadcast<ClassifierWeights> model, TtaViews views, Normalize normalize, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("inference batch size must be at least 1, got " + batchSize);
        }
        this.model = model;
        this.views = views;
        this.normalize = normalize;
        this.batchSize = batchSize;
    }

    /**
     * Scores the elements lazily, a batch at a time; {@code image} gives each element's RGB image in [0, 1]. Once they
     * are all scored, this thread's model is released ({@link ClassifierWeights#releaseModel}).
     */
    public <E> Iterator<Scored<E>> score(Iterator<E> elements, Function<E, FloatImage> image) {
        return new Iterator<>() {
            private final List<Scored<E>> ready = new ArrayList<>();
            private int next;

            @Override
            public boolean hasNext() {
                if (next < ready.size()) {
                    return true;
                }
                ready.clear();
                next = 0;
                List<E> batch = new ArrayList<>();
                List<FloatImage> images = new ArrayList<>();
                while (batch.size() < batchSize && elements.hasNext()) {
                    E element = elements.next();
                    batch.add(element);
                    images.add(normalize.apply(image.apply(element), new SplittableRandom(0)));
                }
                if (batch.isEmpty()) {
                    model.value().releaseModel(); // the partition is scored: keep no activations
                    return false;
                }
                float[][] probabilities = probabilities(images);
                for (int i = 0; i < batch.size(); i++) {
                    ready.add(new Scored<>(batch.get(i), probabilities[i]));
                }
                return true;
            }

            @Override
            public Scored<E> next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.get(next++);
            }
        };
    }

    /** Mean over the views of the softmax of the logits, per image (normalised images). */
    float[][] probabilities(List<FloatImage> images) {
        ClassifierWeights weights = model.value();
        int classes = weights.classes().size();
        int n = images.size();
        List<List<FloatImage>> perImage = new ArrayList<>();
        for (FloatImage image : images) {
            perImage.add(views.apply(image));
        }
        int viewCount = perImage.get(0).size();
        float[][] mean = new float[n][classes];
        FloatImage first = images.get(0);
        int pixels = first.channels() * first.height() * first.width();
        for (int v = 0; v < viewCount; v++) {
            float[] batch = new float[n * pixels];
            for (int i = 0; i < n; i++) {
                System.arraycopy(perImage.get(i).get(v).data(), 0, batch, i * pixels, pixels);
            }
            Activity out = weights.model().module().forward(Tensors.of(batch, n, first.channels(), first.height(),
                    first.width()));
            float[] logits = Tensors.toArray(out.toTensor(FloatTypes.NUMERIC));
            for (int i = 0; i < n; i++) {
                float[] p = softmax(logits, i * classes, classes);
                for (int c = 0; c < classes; c++) {
                    mean[i][c] += p[c] / viewCount;
                }
            }
        }
        return mean;
    }

    static float[] softmax(float[] logits, int offset, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < n; c++) {
            max = Math.max(max, logits[offset + c]);
        }
        double sum = 0;
        double[] e = new double[n];
        for (int c = 0; c < n; c++) {
            e[c] = Math.exp(logits[offset + c] - max);
            sum += e[c];
        }
        float[] p = new float[n];
        for (int c = 0; c < n; c++) {
            p[c] = (float) (e[c] / sum);
        }
        return p;
    }
}
