package dev.sparkvit.data.ingest;

/**
 * One snapshot of a dataset's table: what a run reads, exactly, however many ingests commit after it started
 * ({@link StoredImages#snapshot} resolves one; {@link StoredImages#read(org.apache.spark.sql.SparkSession,
 * DatasetSnapshot, String)} reads it).
 *
 * @param dataset the dataset folder as given (local path or Hadoop URI)
 * @param id the Iceberg snapshot id
 */
public record DatasetSnapshot(String dataset, long id) {
    public DatasetSnapshot {
        java.util.Objects.requireNonNull(dataset, "dataset");
    }

    @Override
    public String toString() {
        return dataset + " at snapshot " + id;
    }
}
