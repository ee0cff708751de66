package dev.sparkvit.data.ingest;

import static org.apache.spark.sql.functions.col;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every file under an input root, listed by a Spark job, never held on the driver. The driver lists folders only,
 * level by level from the root, until it has {@code spark.sql.sources.parallelPartitionDiscovery.threshold} (32)
 * folders to hand out or has read {@link #DRIVER_ENTRIES} entries; the executors then list the files of the folders
 * the driver expanded (not recursively) and walk the rest of the folders' subtrees. The result is a Dataset of
 * (path, length) range-partitioned by path and sorted within each partition: collected, it is in path order.
 *
 * <p>Local trees are walked with {@link java.nio.file} ({@code listFiles} builds located statuses whose permissions
 * the local file system loads by forking a {@code stat} process per file, 12 s for 5000 files here). A symbolic link
 * to a folder inside the input (back to an ancestor, a loop, across the tree) is not followed: that folder is listed
 * once, under its real path. A link to a folder outside the input is walked, once per handed-out subtree that
 * reaches it. An entry that is neither a folder nor resolvable (a dangling or self-referencing link) is still
 * listed, with length 0, so that ingest accounts for it (it is quarantined as unreadable). A name whose bytes are not
 * UTF-8 is listed with each such byte as {@code %XX} ({@link LocalNames}), and read back by those bytes. Hadoop's
 * {@code .name.crc} checksum files are hidden. Other file systems (HDFS, S3A) list each handed-out subtree with
 * {@code listFiles}, their efficient recursive listing.
 */
public final class FileListing implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(FileListing.class);

    /** Spark's own key for the number of paths above which it lists them with a Spark job. */
    public static final String THRESHOLD_KEY = "spark.sql.sources.parallelPartitionDiscovery.threshold";
    private static final int DEFAULT_THRESHOLD = 32;
    /** The most folder entries the driver reads while it looks for folders to hand out (folder paths it holds). */
    static final int DRIVER_ENTRIES = 100_000;
    private static final int MAX_LIST_TASKS = 1000;

    /** The listing's rows. */
    public static final StructType SCHEMA = new StructType()
            .add("path", DataTypes.StringType, false).add("length", DataTypes.LongType, false);

    /**
     * The listed files and how many there are. {@code files} reads the listing cached on the executors (Spark SQL's
     * columnar cache, spilled to disk when memory is short); {@link #release} frees it.
     *
     * @param tasks the number of partitions of {@code files}
     */
    public record Listing(Dataset<Row> files, long count, int tasks, Dataset<Row> cached) {
        public void release() {
            cached.unpersist(false);
        }
    }

    /** One folder the executors list: {@code deep} walks its subtree, otherwise only its own files. */
    record Folder(String path, boolean deep) implements Serializable {
    }

    /** What the driver hands out, and the real paths of the folders it covers (local trees only). */
    record Plan(List<Folder> folders, String rootReal, Set<String> expandedReal, Set<String> deepReal)
            implements Serializable {
        /**
         * Whether a folder is a symbolic link into the input's own tree: it is listed under its real path, never
         * under the link's, whichever of the two a walk reaches first.
         */
        boolean linkIntoTree(java.nio.file.Path folder, String real) {
            return rootReal != null && Files.isSymbolicLink(folder) && (real.equals(rootReal)
                    || real.startsWith(rootReal.endsWith("/") ? rootReal : rootReal + "/"));
        }
    }

    private final HadoopConf conf;
    private final Broadcast<Plan> plan;

    private FileListing(HadoopConf conf, Broadcast<Plan> plan) {
        this.conf = conf;
        this.plan = plan;
    }

    /**
     * Lists {@code root} with a Spark job into at least four partitions per core and at most {@code filesPerTask}
     * files per partition.
     *
     * @throws FileNotFoundException when the root does not exist
     */
    public static Listing list(SparkSession spark, String root, long filesPerTask) throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration hadoop = sc.hadoopConfiguration();
        int threshold = Math.max(1, Integer.parseInt(spark.conf().get(THRESHOLD_KEY,
                String.valueOf(DEFAULT_THRESHOLD))));
        Plan planned = plan(hadoop, root, threshold, DRIVER_ENTRIES);
        FileListing listing = new FileListing(new HadoopConf(hadoop), sc.broadcast(planned));
        List<Folder> folders = planned.folders();
        LOG.info("stage list: {} folders listed on the driver, {} subtrees walked by executors", folders.stream()
                .filter(f -> !f.deep()).count(), folders.stream().filter(Folder::deep).count());
        // cached: counted, sampled for the range partitioning, then read, and a walk is a stat per file
        Dataset<Row> walked = spark.createDataFrame(sc.parallelize(folders, Math.max(1, Math.min(folders.size(),
                MAX_LIST_TASKS))).flatMap(listing::files), SCHEMA).persist(StorageLevel.MEMORY_AND_DISK());
        long count = walked.count();
        int tasks = (int) Math.max(1, Math.min(count, Math.max(4L * sc.defaultParallelism(),
                count / filesPerTask + 1)));
        Dataset<Row> files = walked.repartitionByRange(tasks, col("path")).sortWithinPartitions("path");
        return new Listing(files, count, tasks, walked);
    }

    /** The listing's rows collected, in path order: for tests and small trees only. */
    static List<RawImages.Listed> collect(SparkSession spark, String root) throws IOException {
        Listing listed = list(spark, root, Long.MAX_VALUE);
        try {
            return listed.files().collectAsList().stream()
                    .map(r -> new RawImages.Listed(r.getString(0), r.getLong(1))).toList();
        } finally {
            listed.release();
        }
    }

    /**
     * Folders breadth-first from the root while fewer than {@code threshold} wait and the driver has read fewer
     * than {@code maxEntries} entries; the folders read become shallow listings, the waiting ones (and the one whose
     * entries ran past the limit) deep walks.
     */
    static Plan plan(Configuration hadoop, String root, int threshold, int maxEntries) throws IOException {
        Path top = new Path(root);
        FileSystem fs = top.getFileSystem(hadoop);
        top = fs.makeQualified(top);
        List<Folder> folders = new ArrayList<>();
        Set<String> expandedReal = new HashSet<>();
        Set<String> deepReal = new HashSet<>();
        LocalFileSystem local = fs instanceof LocalFileSystem l ? l : null;
        if (local != null) {
            java.nio.file.Path start = LocalNames.path(local.pathToFile(top).getPath());
            if (!Files.isDirectory(start) && !Files.exists(start, LinkOption.NOFOLLOW_LINKS)) {
                throw new FileNotFoundException("input " + top + " does not exist");
            }
        } else if (!fs.exists(top)) {
            throw new FileNotFoundException("input " + top + " does not exist");
        }
        if (local != null ? !Files.isDirectory(LocalNames.path(local.pathToFile(top).getPath()))
                : !fs.getFileStatus(top).isDirectory()) {
            folders.add(new Folder(top.toString(), false)); // a file as input: listed alone
            return new Plan(folders, null, expandedReal, deepReal);
        }
        Plan plan = new Plan(folders, local == null ? null : realKey(localPath(local, top)), expandedReal, deepReal);
        ArrayDeque<Path> waiting = new ArrayDeque<>(List.of(top));
        int entries = 0;
        while (!waiting.isEmpty() && waiting.size() < threshold && entries < maxEntries) {
            Path dir = waiting.poll();
            String real = local == null ? null : realKey(localPath(local, dir));
            if (real != null && (expandedReal.contains(real) || deepReal.contains(real)
                    || plan.linkIntoTree(localPath(local, dir), real))) {
                LOG.warn("not listing {} again: it is a symbolic link to a folder already listed", dir);
                continue;
            }
            List<Path> children = new ArrayList<>();
            entries += local != null ? localFolders(localPath(local, dir), dir, children, maxEntries - entries)
                    : remoteFolders(fs, dir, children, maxEntries - entries);
            if (entries >= maxEntries) { // too many entries to read here: the executors walk it
                waiting.addFirst(dir);
                break;
            }
            folders.add(new Folder(dir.toString(), false));
            if (real != null) {
                expandedReal.add(real);
            }
            waiting.addAll(children);
        }
        for (Path dir : waiting) {
            String real = local == null ? null : realKey(localPath(local, dir));
            if (real != null && (expandedReal.contains(real) || plan.linkIntoTree(localPath(local, dir), real)
                    || !deepReal.add(real))) {
                LOG.warn("not listing {} again: it is a symbolic link to a folder already listed", dir);
                continue;
            }
            folders.add(new Folder(dir.toString(), true));
        }
        return plan;
    }

    /** Adds the sub-folders of a local folder to {@code into}; returns the entries read (at most {@code limit}). */
    private static int localFolders(java.nio.file.Path dir, Path hadoopDir, List<Path> into, int limit)
            throws IOException {
        int read = 0;
        try (DirectoryStream<java.nio.file.Path> stream = Files.newDirectoryStream(dir)) {
            for (java.nio.file.Path entry : stream) {
                if (++read >= limit) {
                    return limit;
                }
                if (Files.isDirectory(entry)) {
                    into.add(child(hadoopDir, LocalNames.name(entry)));
                }
            }
        }
        return read;
    }

    private static int remoteFolders(FileSystem fs, Path dir, List<Path> into, int limit) throws IOException {
        int read = 0;
        RemoteIterator<FileStatus> it = fs.listStatusIterator(dir);
        while (it.hasNext()) {
            FileStatus status = it.next();
            if (++read >= limit) {
                return limit;
            }
            if (status.isDirectory()) {
                into.add(status.getPath());
            }
        }
        return read;
    }

    /** The files of one folder handed out by the driver, one at a time (runs on an executor). */
    private Iterator<Row> files(Folder folder) throws IOException {
        Path dir = new Path(folder.path());
        FileSystem fs = dir.getFileSystem(conf.get());
        if (fs instanceof LocalFileSystem local) {
            java.nio.file.Path localDir = localPath(local, dir);
            if (!Files.isDirectory(localDir)) {
                return List.of(RowFactory.create(dir.toString(), length(localDir))).iterator();
            }
            return new LocalWalk(dir, localDir, folder.deep());
        }
        if (!fs.getFileStatus(dir).isDirectory()) {
            return List.of(RowFactory.create(dir.toString(), fs.getFileStatus(dir).getLen())).iterator();
        }
        RemoteIterator<? extends FileStatus> it = folder.deep() ? fs.listFiles(dir, true) : fs.listStatusIterator(dir);
        return new Rows() {
            @Override
            Row fetch() throws IOException {
                while (it.hasNext()) {
                    FileStatus status = it.next();
                    if (!status.isDirectory()) {
                        return RowFactory.create(status.getPath().toString(), status.getLen());
                    }
                }
                return null;
            }
        };
    }

    /** Rows produced one at a time by {@link #fetch}, which reads as little as it can. */
    private abstract static class Rows implements Iterator<Row> {
        private Row next;
        private boolean done;

        /** The next row, or null when there is none. */
        abstract Row fetch() throws IOException;

        @Override
        public boolean hasNext() {
            if (next == null && !done) {
                try {
                    next = fetch();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                done = next == null;
            }
            return next != null;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Row row = next;
            next = null;
            return row;
        }
    }

    /**
     * The files of a local folder, one at a time; {@code deep}: of its whole subtree. A sub-folder is skipped when
     * its real path was already walked here, when it is a link into the input's tree ({@link Plan#linkIntoTree}),
     * a folder the driver expanded, or lies in another handed-out subtree (which lists it).
     */
    private final class LocalWalk extends Rows {
        private final boolean deep;
        private final java.nio.file.Path start;
        private final String own;
        private final Set<String> walked = new HashSet<>();
        // each folder as its Hadoop path (text) and its local path from the listing (the name's bytes): a name that
        // is not UTF-8 has no text that the JVM turns back into the same bytes (LocalNames)
        private final ArrayDeque<Path> pending = new ArrayDeque<>();
        private final ArrayDeque<java.nio.file.Path> pendingLocal = new ArrayDeque<>();
        private Path dir;
        private DirectoryStream<java.nio.file.Path> stream;
        private Iterator<java.nio.file.Path> entries;

        LocalWalk(Path top, java.nio.file.Path start, boolean deep) {
            this.deep = deep;
            this.start = start;
            this.own = realKey(start);
            pending.push(top);
            pendingLocal.push(start);
        }

        @Override
        Row fetch() throws IOException {
            while (true) {
                if (entries != null && entries.hasNext()) {
                    Row row = visit(entries.next());
                    if (row != null) {
                        return row;
                    }
                } else if (!open()) {
                    return null;
                }
            }
        }

        /** The row of a file; a folder is queued when walking deep; null for anything not listed. */
        private Row visit(java.nio.file.Path entry) {
            String name = LocalNames.name(entry);
            if (name.startsWith(".") && name.endsWith(".crc")) {
                return null; // Hadoop's checksum files, hidden as the local file system's own listing does
            }
            Path child = child(dir, name);
            if (!Files.isDirectory(entry)) {
                return RowFactory.create(child.toString(), length(entry));
            }
            if (deep) {
                pending.push(child);
                pendingLocal.push(entry);
            }
            return null;
        }

        /** Closes the folder being read and opens the next one to walk; false when none is left. */
        private boolean open() throws IOException {
            if (stream != null) {
                stream.close();
                stream = null;
                entries = null;
            }
            while (!pending.isEmpty()) {
                Path folder = pending.pop();
                java.nio.file.Path localDir = pendingLocal.pop();
                String real = realKey(localDir);
                if (!walked.add(real) || !localDir.equals(start) && (plan.value().linkIntoTree(localDir, real)
                        || listedElsewhere(localDir.toRealPath(), own))) {
                    LOG.warn("not listing {} again: it is a symbolic link to a folder already listed", folder);
                    continue;
                }
                dir = folder;
                stream = Files.newDirectoryStream(localDir);
                entries = stream.iterator();
                return true;
            }
            return false;
        }
    }

    /** Whether a folder's real path is one the driver expanded or lies in another handed-out subtree. */
    private boolean listedElsewhere(java.nio.file.Path real, String own) {
        Plan p = plan.value();
        if (p.expandedReal().contains(realKey(real))) {
            return true;
        }
        for (java.nio.file.Path up = real; up != null; up = up.getParent()) {
            String key = realKey(up);
            if (key.equals(own)) {
                return false;
            }
            if (p.deepReal().contains(key)) {
                return true;
            }
        }
        return false;
    }

    private static Path child(Path dir, String name) {
        return new Path(dir, new Path(null, null, name));
    }

    /** The local path of a listed path, by its name's bytes ({@link LocalNames}). */
    private static java.nio.file.Path localPath(LocalFileSystem fs, Path path) {
        return LocalNames.path(fs.pathToFile(path).getPath());
    }

    /** A real path as lossless text; a path that cannot be resolved stands for itself. */
    private static String realKey(java.nio.file.Path path) {
        try {
            return LocalNames.text(path.toRealPath());
        } catch (IOException e) {
            return LocalNames.text(path);
        }
    }

    /** The size of a regular file (links followed); 0 for anything else (pipes, sockets, broken links). */
    private static long length(java.nio.file.Path file) {
        try {
            return Files.isRegularFile(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }
}
