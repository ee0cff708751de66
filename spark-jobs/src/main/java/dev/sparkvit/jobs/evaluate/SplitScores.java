package dev.sparkvit.jobs.evaluate;

import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.jobs.inference.BatchInference;
import dev.sparkvit.jobs.inference.ClassifierWeights;
import dev.sparkvit.jobs.inference.TtaViews;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import scala.Tuple3;

/**
 * The class probabilities a classifier gives every image of a labelled split, computed on the executors and
 * collected in id order (a split for evaluation is small next to the training set).
 *
 * @param ids image ids, sorted
 * @param labels 0-based true classes
 * @param probabilities per image, the class probabilities (mean over the test-time views)
 */
public record SplitScores(List<String> ids, int[] labels, float[][] probabilities) {
    /** Images per inference batch. */
    private static final int BATCH = 64;

    public static SplitScores of(SparkSession spark, ClassifierWeights model, Dataset<Row> images,
            Normalize normalize, TtaViews views) {
        Broadcast<ClassifierWeights> shipped = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .broadcast(model);
        try {
            BatchInference inference = new BatchInference(shipped, views, normalize, BATCH);
            int size = model.config().imgSize(); // stored images of another size are resized to the model's
            List<Tuple3<String, Integer, float[]>> scored = images
                    .selectExpr("id", "label_index", "height", "width", "pixels").javaRDD()
                    .mapPartitions(rows -> {
                        List<Tuple3<String, Integer, float[]>> out = new ArrayList<>();
                        inference.score(rows, (Row row) -> StoredImages.image(row, size))
                                .forEachRemaining(s -> out.add(new Tuple3<>(s.element().getString(0),
                                        s.element().getInt(1), s.probabilities())));
                        return out.iterator();
                    })
                    .sortBy(Tuple3::_1, true, 1)
                    .collect();
            List<String> ids = new ArrayList<>();
            int[] labels = new int[scored.size()];
            float[][] probabilities = new float[scored.size()][];
            for (int i = 0; i < scored.size(); i++) {
                ids.add(scored.get(i)._1());
                labels[i] = scored.get(i)._2();
                probabilities[i] = scored.get(i)._3();
            }
            return new SplitScores(ids, labels, probabilities);
        } finally {
            shipped.destroy();
        }
    }

    /** Accuracy, per-class scores and confusion of the arg-max predictions; the loss is the mean -log p(true). */
    public ClassificationMetrics metrics(List<String> classes) {
        int[] predictions = new int[labels.length];
        double loss = 0;
        for (int i = 0; i < labels.length; i++) {
            float[] p = probabilities[i];
            int best = 0;
            for (int c = 1; c < p.length; c++) {
                if (p[c] > p[best]) {
                    best = c;
                }
            }
            predictions[i] = best;
            loss -= Math.log(Math.max(p[labels[i]], 1e-12)) / labels.length;
        }
        return ClassificationMetrics.of(classes, labels, predictions, loss);
    }
}
