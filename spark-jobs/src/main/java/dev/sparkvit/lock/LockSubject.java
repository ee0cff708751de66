package dev.sparkvit.lock;

/**
 * What a {@link FolderLock} guards, as its messages name it.
 *
 * @param noun the folder's kind ("registry", "dataset")
 * @param runs the runs that take the lock ("retrain run", "ingest or retrain run")
 * @param command the command recorded in the lock file ("sparkvit retrain")
 * @param leaseKey the Hadoop configuration key of the lease on HDFS, in seconds
 * @param needs what the folder's lock needs of a file system (for the refusal of a scheme that lacks it)
 * @param tidy whether a lock that created its folder removes it on release when it is still empty (a dataset run
 *     refused before it wrote anything leaves no folder behind; a registry folder stays)
 * @param settleKey the Hadoop configuration key of the settle delay of the lock on an object store (S3A: write,
 *     settle, verify; {@link LeasedLock#writeSettleVerify}), in seconds; null when the folder cannot live on an object
 *     store at all (the registry, whose versions need an atomic rename)
 */
public record LockSubject(String noun, String runs, String command, String leaseKey, String needs, boolean tidy,
        String settleKey) {
    /** The model registry's lock, taken by a retrain run. */
    public static final LockSubject REGISTRY = new LockSubject("registry", "retrain run", "sparkvit retrain",
            "sparkvit.registry.lease-seconds", "the model registry's lock and its all-or-nothing versions and "
            + "production pointer need both", false, null);
    /** A dataset's lock, taken by every run that writes it (ingest, incremental ingest, a retrain run's ingest). */
    public static final LockSubject DATASET = new LockSubject("dataset", "ingest or retrain run", "sparkvit ingest",
            "sparkvit.dataset.lease-seconds", "a dataset's lock needs an atomic create-if-absent (HDFS) or strong "
            + "read-after-write consistency with atomic replacement of an object (S3, through s3a://)", true,
            "sparkvit.dataset.s3-settle-seconds");

    /** Whether the folder may live on an object store ({@link dev.sparkvit.storage.Locations#OBJECT_STORE_SCHEMES}). */
    public boolean allowsObjectStore() {
        return settleKey != null;
    }

    /** "a retrain run", "an ingest or retrain run". */
    public String aRun() {
        return ("aeiou".indexOf(runs.charAt(0)) >= 0 ? "an " : "a ") + runs;
    }
}
