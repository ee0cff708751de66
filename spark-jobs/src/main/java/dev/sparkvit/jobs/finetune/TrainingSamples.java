package dev.sparkvit.jobs.finetune;

import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import dev.sparkvit.data.augment.AugmentRandom;
import dev.sparkvit.data.augment.BatchMix;
import dev.sparkvit.data.augment.MixedSample;
import dev.sparkvit.data.augment.Transform;
import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.engine.EpochDataSet;
import dev.sparkvit.engine.Samples;
import dev.sparkvit.engine.Tensors;
import java.util.SplittableRandom;
import java.util.function.LongFunction;
import org.apache.spark.sql.Row;

/**
 * The fine-tuning samples of one partition's stream, built on the executors: each image augmented at the run's
 * severity (a pure function of seed, epoch and image id), then, when mixing is on, mixed within its micro-batch as
 * timm's batch-mode Mixup: the stream is cut into chunks of the per-partition micro-batch, element j of a chunk is
 * mixed with element {@code size - 1 - j} (the flipped batch), and lambda (and the cutmix box, and which of mixup or
 * cutmix) is drawn once per chunk from (seed, epoch, partition, chunk). Mixed samples carry soft targets (class
 * probabilities); unmixed ones a 1-based class label.
 */
final class TrainingSamples implements EpochDataSet.SequenceFunction<Row> {
    private static final long serialVersionUID = 1L;

    /** The columns {@link #apply} reads, in order. */
    static final String[] COLUMNS = {"id", "label_index", "height", "width", "pixels"};

    private final Transform augment;
    private final int classes;
    private final FinetuneSettings.Mixing mixing;
    private final int chunk;
    private final long seed;

    /**
     * @param chunk images per partition per micro-batch (the micro-batch over the partitions), the mixing group
     */
    TrainingSamples(Transform augment, int classes, FinetuneSettings.Mixing mixing, int chunk, long seed) {
        if (chunk < 1) {
            throw new IllegalArgumentException("a mixing chunk needs at least one image, got " + chunk);
        }
        this.augment = augment;
        this.classes = classes;
        this.mixing = mixing;
        this.chunk = chunk;
        this.seed = seed;
    }

    @Override
    public Sample<Float> apply(int epoch, int partition, long position, LongFunction<Row> elementAt) {
        Row row = elementAt.apply(position);
        FloatImage image = augmented(row, epoch);
        int label = label(row);
        if (!mixing.enabled()) {
            return Samples.labelled(tensor(image), label + 1);
        }
        long chunkIndex = position / chunk;
        long first = chunkIndex * chunk;
        Row partner = elementAt.apply(first + chunk - 1 - (position - first));
        SplittableRandom random = new SplittableRandom(mix(seed, epoch, partition, chunkIndex));
        boolean cutmix = mixing.mixup() && mixing.cutmix() ? random.nextBoolean() : mixing.cutmix();
        double lambda = BatchMix.beta(cutmix ? mixing.cutmixAlpha() : mixing.mixupAlpha(), random);
        FloatImage other = augmented(partner, epoch);
        MixedSample mixed = cutmix
                ? BatchMix.cutmix(image, oneHot(label), other, oneHot(label(partner)), lambda, random)
                : BatchMix.mixup(image, oneHot(label), other, oneHot(label(partner)), lambda);
        return Samples.of(tensor(mixed.image()), Tensors.of(mixed.target(), classes));
    }

    private FloatImage augmented(Row row, int epoch) {
        return augment.apply(FloatImage.of(StoredImages.image(row)), AugmentRandom.of(seed, epoch, row.getString(0),
                0));
    }

    private int label(Row row) {
        int label = row.getInt(1);
        if (label < 0 || label >= classes) {
            throw new IllegalArgumentException("image " + row.getString(0) + " has class index " + label
                    + ", outside the " + classes + " classes (fine-tuning needs a labelled dataset)");
        }
        return label;
    }

    private float[] oneHot(int label) {
        float[] target = new float[classes];
        target[label] = 1;
        return target;
    }

    private static com.intel.analytics.bigdl.dllib.tensor.Tensor<Float> tensor(FloatImage image) {
        return Tensors.of(image.data(), image.channels(), image.height(), image.width());
    }

    private static long mix(long seed, int epoch, int partition, long chunk) {
        long z = seed ^ 0x6a09e667f3bcc909L;
        for (long v : new long[] {epoch, partition, chunk}) {
            z = (z ^ (v + 0x9e3779b97f4a7c15L)) * 0xbf58476d1ce4e5b9L;
            z ^= z >>> 31;
        }
        return z;
    }
}
