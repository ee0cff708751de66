package dev.sparkvit.data.pairs;

import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import dev.sparkvit.data.augment.AugmentRandom;
import dev.sparkvit.data.augment.Transform;
import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.data.image.RgbImage;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.engine.Samples;
import dev.sparkvit.engine.Tensors;
import java.io.Serializable;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Turns stored images into SimCLR positive pairs (Chen et al. 2020): two independently augmented views of the same
 * image. View v of image id in epoch e draws only from {@link AugmentRandom#of}(seed, e, id, v), so the pairs are the
 * same whatever the partitioning. On Spark the pairs are built on the executors and never collected: each becomes one
 * DLlib Sample holding both views, so the contrastive loss sees them in the same replica slice.
 */
public final class PairGenerator implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Transform view;
    private final long seed;

    public PairGenerator(Transform view, long seed) {
        this.view = view;
        this.seed = seed;
    }

    /** Views 0 and 1 of one image in one epoch. */
    public FloatImage[] pair(String id, RgbImage image, int epoch) {
        FloatImage source = FloatImage.of(image);
        return new FloatImage[] {view.apply(source, AugmentRandom.of(seed, epoch, id, 0)),
                view.apply(source, AugmentRandom.of(seed, epoch, id, 1))};
    }

    /**
     * One Sample per stored image: features (view0, view1), each (3, size, size); label {@code label_index + 1}
     * (DLlib labels are 1-based; 0 for unlabelled images).
     */
    public JavaRDD<Sample<Float>> samples(Dataset<Row> images, int epoch) {
        return images.selectExpr(COLUMNS).javaRDD().map(row -> sample(row, epoch));
    }

    /** The columns {@link #sample} reads, in order. */
    public static final String[] COLUMNS = {"id", "label_index", "height", "width", "pixels"};

    /** The pair sample of one stored-image row (columns {@link #COLUMNS}) for one epoch. */
    public Sample<Float> sample(Row row, int epoch) {
        FloatImage[] views = pair(row.getString(0), StoredImages.image(row), epoch);
        return Samples.of(List.of(tensor(views[0]), tensor(views[1])), Tensors.scalar(row.getInt(1) + 1));
    }

    private static com.intel.analytics.bigdl.dllib.tensor.Tensor<Float> tensor(FloatImage image) {
        return Tensors.of(image.data(), image.channels(), image.height(), image.width());
    }
}
