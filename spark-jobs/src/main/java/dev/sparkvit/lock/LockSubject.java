package dev.sparkvit.lock;

/**
 * What a {@link FolderLock} guards, as its messages name it.
 *
 * @param noun the folder's kind ("registry", "dataset")
 * @param runs the runs that take the lock ("retrain run", "ingest or retrain run")
 * @param command the command recorded in the lock file ("sparkvit retrain")
 * @param leaseKey the Hadoop configuration key of the lease on HDFS, in seconds
 * @param needs why the folder needs atomic create-if-absent and rename (for the refusal of an object store)
 * @param tidy whether a lock that created its folder removes it on release when it is still empty (a dataset run
 *     refused before it wrote anything leaves no folder behind; a registry folder stays)
 */
public record LockSubject(String noun, String runs, String command, String leaseKey, String needs, boolean tidy) {
    /** The model registry's lock, taken by a retrain run. */
    public static final LockSubject REGISTRY = new LockSubject("registry", "retrain run", "sparkvit retrain",
            "sparkvit.registry.lease-seconds", "the model registry's lock and its all-or-nothing versions and "
            + "production pointer need both", false);
    /** A dataset's lock, taken by every run that writes it (ingest, incremental ingest, a retrain run's ingest). */
    public static final LockSubject DATASET = new LockSubject("dataset", "ingest or retrain run", "sparkvit ingest",
            "sparkvit.dataset.lease-seconds", "a dataset's lock and its atomically replaced class index and manifest "
            + "need both (a dataset on an object store can still be read for training: ingest into a local or HDFS "
            + "folder and copy it there)", true);

    /** "a retrain run", "an ingest or retrain run". */
    public String aRun() {
        return ("aeiou".indexOf(runs.charAt(0)) >= 0 ? "an " : "a ") + runs;
    }
}
