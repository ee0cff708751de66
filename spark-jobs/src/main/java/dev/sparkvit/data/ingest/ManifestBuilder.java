package dev.sparkvit.data.ingest;

import static org.apache.spark.sql.functions.col;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Recomputes the manifest from the dataset's tables, so it always describes everything stored so far. */
final class ManifestBuilder {
    private ManifestBuilder() {
    }

    static Manifest build(SparkSession spark, DatasetFiles dataset, IngestSettings settings, List<String> classes,
            Manifest.LastRun lastRun) throws IOException {
        Map<String, Map<String, Long>> counts = new TreeMap<>();
        long total = 0;
        if (!dataset.exists(StoredImageSchema.IMAGES_DIR)) {
            return new Manifest(settings.storedSize(), settings.labelled(), classes, 0, counts, new double[3],
                    new double[3], quarantined(spark, dataset), duplicates(spark, dataset), lastRun);
        }
        Dataset<Row> images = spark.read().parquet(dataset.resolve(StoredImageSchema.IMAGES_DIR).toString());
        for (Row r : images.groupBy("label", "split").count().collectAsList()) {
            String label = r.isNullAt(0) ? "(unlabelled)" : r.getString(0);
            counts.computeIfAbsent(label, k -> new TreeMap<>()).put(r.getString(1), r.getLong(2));
            total += r.getLong(2);
        }
        double[] sums = channelSums(images.filter(col("split").equalTo("train")));
        if (sums[0] == 0) { // no train images yet: use everything
            sums = channelSums(images);
        }
        double[] mean = new double[3];
        double[] std = new double[3];
        for (int c = 0; c < 3; c++) {
            mean[c] = sums[0] == 0 ? 0 : sums[1 + c] / sums[0];
            std[c] = sums[0] == 0 ? 0 : Math.sqrt(Math.max(0, sums[4 + c] / sums[0] - mean[c] * mean[c]));
        }
        return new Manifest(settings.storedSize(), settings.labelled(), classes, total, counts, mean, std,
                quarantined(spark, dataset), duplicates(spark, dataset), lastRun);
    }

    private static Map<String, Long> quarantined(SparkSession spark, DatasetFiles dataset) throws IOException {
        Map<String, Long> byReason = new TreeMap<>();
        if (dataset.exists(StoredImageSchema.QUARANTINE_DIR)) {
            for (Row r : spark.read().parquet(dataset.resolve(StoredImageSchema.QUARANTINE_DIR).toString())
                    .groupBy("reason").count().collectAsList()) {
                byReason.put(r.getString(0), r.getLong(1));
            }
        }
        return byReason;
    }

    private static long duplicates(SparkSession spark, DatasetFiles dataset) throws IOException {
        return !dataset.exists(StoredImageSchema.DUPLICATES_DIR) ? 0
                : spark.read().parquet(dataset.resolve(StoredImageSchema.DUPLICATES_DIR).toString()).count();
    }

    /** {pixel count, sum R, G, B, sum of squares R, G, B} over all pixels, values scaled to [0, 1]. */
    private static double[] channelSums(Dataset<Row> images) {
        List<double[]> partials = images.select("pixels").javaRDD()
                .mapPartitions((FlatMapFunction<Iterator<Row>, double[]>) rows -> {
                    double[] s = new double[7];
                    while (rows.hasNext()) {
                        byte[] p = (byte[]) rows.next().get(0);
                        for (int i = 0; i + 2 < p.length; i += 3) {
                            s[0]++;
                            for (int c = 0; c < 3; c++) {
                                double v = (p[i + c] & 0xff) / 255.0;
                                s[1 + c] += v;
                                s[4 + c] += v * v;
                            }
                        }
                    }
                    List<double[]> one = new ArrayList<>();
                    one.add(s);
                    return one.iterator();
                }).collect();
        double[] total = new double[7];
        for (double[] s : partials) {
            for (int i = 0; i < 7; i++) {
                total[i] += s[i];
            }
        }
        return total;
    }
}
