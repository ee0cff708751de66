package dev.sparkvit.data.ingest;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Recomputes the manifest from the dataset's tables, so it always describes everything stored so far. The image
 * table is read once (one Spark job: counts by class and split, and the channel sums of the train split and of all
 * images together), and every table with its schema given, so no job is spent inferring it from the files.
 */
final class ManifestBuilder {
    /** How the manifest's counts name the images of an unlabelled dataset. */
    static final String UNLABELLED = "(unlabelled)";

    private ManifestBuilder() {
    }

    /**
     * The manifest of a dataset whose stored images, quarantine and duplicate records are the given tables (the
     * committed snapshot's plus this run's new rows).
     */
    static Manifest build(IngestSettings settings, List<String> classes, Manifest.LastRun lastRun,
            Dataset<Row> images, Dataset<Row> quarantine, Dataset<Row> duplicates) {
        Map<String, Map<String, Long>> counts = new TreeMap<>();
        long total = 0;
        Summary summary = summarise(images);
        for (Map.Entry<List<String>, Long> e : summary.counts().entrySet()) {
            String label = e.getKey().get(0) == null ? UNLABELLED : e.getKey().get(0);
            counts.computeIfAbsent(label, k -> new TreeMap<>()).merge(e.getKey().get(1), e.getValue(), Long::sum);
            total += e.getValue();
        }
        double[] sums = summary.train()[0] == 0 ? summary.all() : summary.train(); // no train images yet: everything
        double[] mean = new double[3];
        double[] std = new double[3];
        for (int c = 0; c < 3; c++) {
            mean[c] = sums[0] == 0 ? 0 : sums[1 + c] / sums[0];
            std[c] = sums[0] == 0 ? 0 : Math.sqrt(Math.max(0, sums[4 + c] / sums[0] - mean[c] * mean[c]));
        }
        return new Manifest(settings.storedSize(), settings.labelled(), classes, total, counts, mean, std,
                quarantined(quarantine), duplicates.count(), lastRun);
    }

    /** Quarantined files by reason. */
    static Map<String, Long> quarantined(Dataset<Row> quarantine) {
        Map<String, Long> byReason = new TreeMap<>();
        for (Row r : quarantine.groupBy("reason").count().collectAsList()) {
            byReason.put(r.getString(0), r.getLong(1));
        }
        return byReason;
    }

    /**
     * Image counts by (label, split), and {pixel count, sum R, G, B, sum of squares R, G, B} over the train split and
     * over all images, values scaled to [0, 1]: summed per partition in row order, then over partitions in order.
     */
    record Summary(Map<List<String>, Long> counts, double[] train, double[] all) implements java.io.Serializable {
    }

    static Summary summarise(Dataset<Row> images) {
        List<Summary> partials = images.select("label", "split", "pixels").javaRDD()
                .mapPartitions((FlatMapFunction<Iterator<Row>, Summary>) rows -> {
                    Summary s = new Summary(new HashMap<>(), new double[7], new double[7]);
                    while (rows.hasNext()) {
                        Row row = rows.next();
                        String split = row.getString(1);
                        s.counts().merge(Arrays.asList(row.getString(0), split), 1L, Long::sum);
                        byte[] p = (byte[]) row.get(2);
                        add(s.all(), p);
                        if ("train".equals(split)) {
                            add(s.train(), p);
                        }
                    }
                    return List.of(s).iterator();
                }).collect();
        Summary total = new Summary(new HashMap<>(), new double[7], new double[7]);
        for (Summary s : partials) {
            s.counts().forEach((k, v) -> total.counts().merge(k, v, Long::sum));
            for (int i = 0; i < 7; i++) {
                total.train()[i] += s.train()[i];
                total.all()[i] += s.all()[i];
            }
        }
        return total;
    }

    private static void add(double[] s, byte[] p) {
        for (int i = 0; i + 2 < p.length; i += 3) {
            s[0]++;
            for (int c = 0; c < 3; c++) {
                double v = (p[i + c] & 0xff) / 255.0;
                s[1 + c] += v;
                s[4 + c] += v * v;
            }
        }
    }
}
