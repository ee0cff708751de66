package dev.sparkvit.data.pairs;

import dev.sparkvit.data.augment.Augmentations;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.data.image.RgbImage;
import dev.sparkvit.data.ingest.Manifest;
import dev.sparkvit.data.ingest.StoredImages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** A contact sheet of SimCLR pairs from the first train images of a dataset (by id), for people to look at. */
public final class PairPreview {
    private PairPreview() {
    }

    /** Writes {@code count} pairs of epoch {@code epoch} to {@code png} and returns how many were written. */
    public static int write(SparkSession spark, String dataset, Manifest manifest, long seed, int count, int epoch,
            Path png) {
        Normalize normalize = StoredImages.normalization(manifest);
        PairGenerator generator = new PairGenerator(Augmentations.simclr(manifest.storedSize(), normalize), seed);
        List<ContactSheet.Row> rows = new ArrayList<>();
        for (Row row : StoredImages.read(spark, dataset, "train").orderBy("id").limit(count).collectAsList()) {
            RgbImage image = StoredImages.image(row);
            FloatImage[] views = generator.pair(row.getString(row.fieldIndex("id")), image, epoch);
            rows.add(new ContactSheet.Row(image, views[0], views[1]));
        }
        try {
            ContactSheet.write(png, rows, normalize, Math.max(96, manifest.storedSize()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png, e);
        }
        return rows.size();
    }
}
