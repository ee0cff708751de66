package dev.sparkvit.data;

import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.engine.Samples;
import dev.sparkvit.engine.Tensors;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Stored images as normalised (3, H, W) samples with 1-based class labels, built on the executors. */
public final class ClassificationSamples {
    private ClassificationSamples() {
    }

    /** The columns {@link #sample} reads. */
    public static final String[] COLUMNS = {"label_index", "height", "width", "pixels"};

    public static JavaRDD<Sample<Float>> of(Dataset<Row> images, Normalize normalize) {
        return images.selectExpr(COLUMNS).javaRDD().map(row -> sample(row, normalize));
    }

    /** The sample of one image-table row (columns {@link #COLUMNS}). */
    public static Sample<Float> sample(Row row, Normalize normalize) {
        int labelIndex = row.getInt(0);
        if (labelIndex < 0) {
            throw new IllegalArgumentException("classification needs labelled images; this dataset is unlabelled");
        }
        FloatImage image = normalize.apply(FloatImage.of(StoredImages.image(row)), new SplittableRandom(0));
        return Samples.labelled(Tensors.of(image.data(), 3, image.height(), image.width()), labelIndex + 1);
    }
}
