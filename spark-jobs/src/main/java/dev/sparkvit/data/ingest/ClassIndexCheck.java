package dev.sparkvit.data.ingest;

import static org.apache.spark.sql.functions.col;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Whether every stored image's {@code label_index} names its own class in the class index. Two ingests into one
 * dataset at once, or one killed after its shards were committed, could (before the dataset lock, and the class
 * index written before the rows) leave rows whose index names no class, or another class: fine-tuning then ended in
 * an ArrayIndexOutOfBoundsException, or trained on wrong labels. Such a dataset cannot be repaired from its rows
 * alone with certainty; it is refused with one line saying so.
 */
public final class ClassIndexCheck {
    private ClassIndexCheck() {
    }

    /** One (label, label_index) pair of the stored rows and how many rows carry it. */
    record Pair(String label, int index, long rows) {
    }

    /** The (label, label_index) pairs of all stored images with their row counts: one Spark job on two columns. */
    static List<Pair> pairs(Dataset<Row> images) {
        return images.groupBy(col("label"), col("label_index")).count().collectAsList().stream()
                .map(r -> new Pair(r.isNullAt(0) ? null : r.getString(0), r.getInt(1), r.getLong(2)))
                .sorted(java.util.Comparator.comparingInt(Pair::index))
                .toList();
    }

    /**
     * What is wrong with the rows' class indexes, as the end of a sentence, or null when every labelled row's index
     * names its own label.
     */
    static String problem(List<String> classes, List<Pair> pairs) {
        Map<Integer, Long> missing = new TreeMap<>();
        for (Pair p : pairs) {
            if (p.label() == null || p.index() == StoredImageSchema.NO_LABEL) {
                continue;
            }
            if (p.index() < 0 || p.index() >= classes.size()) {
                missing.merge(p.index(), p.rows(), Long::sum);
            } else if (!classes.get(p.index()).equals(p.label())) {
                return p.rows() + " stored images of class '" + p.label() + "' have label_index " + p.index()
                        + ", which the class index gives to '" + classes.get(p.index()) + "'";
            }
        }
        if (missing.isEmpty()) {
            return null;
        }
        long rows = missing.values().stream().mapToLong(Long::longValue).sum();
        return rows + " stored images have label_index " + missing.keySet() + ", which the class index ("
                + classes.size() + " classes) does not name";
    }

    /** The one-line refusal of a dataset whose rows name a missing or wrong class. */
    static IllegalArgumentException damaged(String dataset, String problem) {
        return new IllegalArgumentException("dataset " + dataset + " is damaged: " + problem + " (left by an "
                + "ingest that was killed, or ran at the same time as another, in a sparkvit without the dataset "
                + "lock, or written by another program); its labels cannot be trusted: ingest its images again into "
                + "a new folder (sparkvit ingest --input ROOT --output NEW_FOLDER)");
    }

    /**
     * Throws unless every stored image's label index names its own class in {@code classes} (the dataset's class
     * index of {@code snapshot}, as training reads it).
     *
     * @throws IllegalArgumentException one line naming the dataset, the damage and what to do
     */
    public static void require(SparkSession spark, DatasetSnapshot snapshot, List<String> classes) {
        String problem = problem(classes, pairs(StoredImages.read(spark, snapshot, null)));
        if (problem != null) {
            throw damaged(snapshot.dataset(), problem);
        }
    }
}
