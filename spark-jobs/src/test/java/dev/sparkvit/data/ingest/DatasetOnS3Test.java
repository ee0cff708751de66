package dev.sparkvit.data.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.lock.FolderLock;
import dev.sparkvit.lock.LockHeldException;
import dev.sparkvit.lock.LockHolder;
import dev.sparkvit.lock.LockSubject;
import dev.sparkvit.storage.MotoS3;
import dev.sparkvit.testing.SharedSpark;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dataset on a real S3-compatible server (moto_server through Hadoop 3.2's S3A, {@link MotoS3}): the dataset lock
 * by write, settle, verify has exactly one winner among racing runs, an expired lock is taken over by exactly one,
 * classes.json replaced with one PUT is never missing for a reader, ingest (then an incremental run) into s3a://
 * commits the images and class index to the dataset table right (Hadoop catalog: under the lock, each commit is
 * one new metadata object) while a concurrent writer is refused with the lock line, and a lock write
 * slower than the settle delay (the protocol's assumption broken) leaves no two holders.
 */
@ExtendWith(SharedSpark.class)
class DatasetOnS3Test {
    private static final int RACERS = 5;
    private static MotoS3 s3;
    private static String bucket;
    private static Path dir;

    @BeforeAll
    static void startS3() throws Exception {
        dir = Files.createTempDirectory("moto");
        s3 = MotoS3.start(dir);
        bucket = "sparkvit-" + Long.toHexString(System.nanoTime());
        s3.createBucket(bucket);
    }

    @AfterAll
    static void stopS3() throws Exception {
        if (s3 == null) {
            return;
        }
        FileSystem.get(URI.create("s3a://" + bucket), conf(1)).close(); // out of Hadoop's cache before the server goes
        s3.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** S3A settings of the server and a settle delay of {@code settle} seconds. */
    private static Configuration conf(double settle) {
        Configuration conf = s3.conf();
        conf.set(LockSubject.DATASET.settleKey(), String.valueOf(settle));
        return conf;
    }

    private static String dataset(String name) {
        return "s3a://" + bucket + "/" + name;
    }

    /** Runs {@code RACERS} threads that take the lock at once; returns the locks taken and the refusals. */
    private static List<Object> race(String dataset, Configuration conf, List<String> said) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(RACERS);
        CyclicBarrier start = new CyclicBarrier(RACERS);
        try {
            List<Future<Object>> results = new ArrayList<>();
            for (int i = 0; i < RACERS; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    try {
                        return FolderLock.acquire(LockSubject.DATASET, dataset, "--output", conf, said::add);
                    } catch (LockHeldException e) {
                        return e;
                    }
                }));
            }
            List<Object> out = new ArrayList<>();
            for (Future<Object> f : results) {
                out.add(f.get(60, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static FolderLock theOneWinner(String dataset, List<Object> outcome) {
        List<FolderLock> won = outcome.stream().filter(o -> o instanceof FolderLock).map(o -> (FolderLock) o)
                .toList();
        assertEquals(1, won.size(), "exactly one winner: " + outcome);
        for (Object o : outcome) {
            if (o instanceof LockHeldException e) {
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
                assertTrue(e.getMessage().startsWith("dataset " + dataset + " is locked by another ingest or retrain "
                        + "run (pid " + ProcessHandle.current().pid() + " on "), e.getMessage());
                assertTrue(e.getMessage().contains("; this run changed nothing. If no ingest or retrain run is "
                        + "active, delete " + dataset + "/.lock"), e.getMessage());
            }
        }
        won.get(0).ensureHeld(); // no loser deleted or replaced the winner's lock file
        return won.get(0);
    }

    @Test
    void ofRunsRacingForTheLockExactlyOneWinsRoundAfterRound() throws Exception {
        Configuration conf = conf(1);
        FileSystem fs = FileSystem.get(URI.create("s3a://" + bucket), conf);
        long contested = 0;
        for (int round = 0; round < 3; round++) {
            String dataset = dataset("race" + round);
            List<String> said = Collections.synchronizedList(new ArrayList<>());
            try (FolderLock lock = theOneWinner(dataset, race(dataset, conf, said))) {
                assertEquals(dataset + "/.lock", lock.location());
                assertTrue(said.isEmpty(), said.toString());
            }
            assertFalse(fs.exists(new org.apache.hadoop.fs.Path(dataset + "/.lock")), "released");
            if (s3.requests("\"PUT /" + bucket + "/race" + round + "/\\.lock ") > 1) {
                contested++; // several racers passed the check and wrote: the settle-and-verify step chose
            }
        }
        assertTrue(contested > 0, "in no round did two racers write the lock file: the race was not exercised");
    }

    @Test
    void anExpiredLockIsTakenOverByExactlyOne() throws Exception {
        Configuration conf = conf(1);
        FileSystem fs = FileSystem.get(URI.create("s3a://" + bucket), conf);
        String dataset = dataset("expired");
        LockHolder self = LockHolder.current();
        String json = new LockHolder(4242, "elsewhere", self.bootId(), self.pidNamespace(), 5,
                Instant.now().minusSeconds(900)).toJson("sparkvit ingest").trim();
        org.apache.hadoop.fs.Path lock = new org.apache.hadoop.fs.Path(dataset + "/.lock");
        try (OutputStream out = fs.create(lock, false)) {
            out.write((json.substring(0, json.length() - 1) + ",\"lease_seconds\":2}\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        Thread.sleep(3_200); // S3 cannot set a modification time: let the 2 s lease expire (whole seconds)
        List<String> said = Collections.synchronizedList(new ArrayList<>());
        try (FolderLock won = theOneWinner(dataset, race(dataset, conf, said))) {
            assertEquals(1, said.size(), said.toString());
            assertTrue(said.get(0).startsWith("took over the dataset lock " + dataset + "/.lock of an ingest or "
                    + "retrain run that is no longer running (pid 4242 on elsewhere"), said.get(0));
            assertFalse(fs.exists(new org.apache.hadoop.fs.Path(dataset + "/.lock.takeover")));
        }
        assertFalse(fs.exists(lock), "released");
    }

    @Test
    void theClassIndexReplacedOnS3IsNeverMissing() throws Exception {
        Configuration conf = conf(1);
        String dataset = dataset("replace");
        DatasetFiles files = new DatasetFiles(dataset, conf);
        List<String> classes = new ArrayList<>(List.of("c0"));
        files.writeClasses(classes);
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger reads = new AtomicInteger();
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        Thread reader = new Thread(() -> {
            try {
                DatasetFiles mine = new DatasetFiles(dataset, conf);
                int last = 1;
                while (!done.get()) {
                    List<String> seen = mine.readClasses(); // empty when the file is missing
                    if (seen.size() < last) {
                        problems.add("read " + seen + " after " + last + " classes");
                    }
                    last = Math.max(last, seen.size());
                    reads.incrementAndGet();
                }
            } catch (Exception e) {
                problems.add(e.toString());
            }
        });
        reader.start();
        for (int i = 1; i < 25 || reads.get() < 30 && i < 300; i++) { // until the reader has read 30 times
            classes.add("c" + i);
            files.writeClasses(classes);
        }
        done.set(true);
        reader.join(30_000);
        assertTrue(problems.isEmpty(), problems.toString());
        assertTrue(reads.get() > 10, "the reader read " + reads.get() + " times");
        assertEquals(classes, files.readClasses());
        FileSystem fs = FileSystem.get(URI.create("s3a://" + bucket), conf);
        List<String> names = new ArrayList<>();
        for (FileStatus s : fs.listStatus(new org.apache.hadoop.fs.Path(dataset))) {
            names.add(s.getPath().getName());
        }
        assertEquals(List.of("classes.json"), names, "one PUT: no temporary file");
    }

    private static void images(Path root, String cls, int n, int seed) throws Exception {
        for (int i = 0; i < n; i++) {
            BadFiles.write(root.resolve(cls).resolve(cls + i + ".png"),
                    BadFiles.encode(BadFiles.noise(12, 12, seed * 1000L + i), "png"));
        }
    }

    private static IngestResult ingest(Path input, String dataset, boolean incremental, List<String> said) {
        // one shard: each file Spark commits on S3A is a copy and a delete
        return new IngestJob(new IngestSettings(input.toString(), dataset, true, 8, 8, 100_000_000L, 64L << 20, 1, 0.8,
                0.1, incremental), said::add).execute(SharedSpark.session());
    }

    @Test
    void ingestAndAnIncrementalRunIntoS3AndAConcurrentWriterIsRefused(@TempDir Path tmp) throws Exception {
        Configuration sparkConf = SharedSpark.session().sparkContext().hadoopConfiguration();
        s3.configure(sparkConf);
        sparkConf.set(LockSubject.DATASET.settleKey(), "1");
        try {
            String dataset = dataset("ds");
            Path base = tmp.resolve("base");
            images(base, "cat", 3, 1);
            images(base, "dog", 2, 2);
            List<String> said = new ArrayList<>();
            IngestResult first = ingest(base, dataset, false, said);
            assertEquals(5, first.stored());

            Path newA = tmp.resolve("newA");
            images(newA, "newA", 2, 3);
            images(newA, "cat", 1, 4);
            IngestSettings incremental = IngestSettings.defaults(newA.toString(), dataset).withIncremental(true);
            try (FolderLock held = IngestJob.lock(incremental, "--output", sparkConf, said::add)) {
                LockHeldException e = assertThrows(LockHeldException.class, () -> ingest(newA, dataset, true, said));
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
                assertTrue(e.getMessage().startsWith("dataset " + dataset + " is locked by another ingest or retrain "
                        + "run (pid " + ProcessHandle.current().pid() + " on "), e.getMessage());
                assertTrue(e.getMessage().contains("lease 300 s, last heartbeat "), e.getMessage());
                assertEquals(dataset + "/.lock", held.location());
            }
            IngestResult added = ingest(newA, dataset, true, said);
            assertEquals(3, added.stored());
            assertTrue(said.isEmpty(), said.toString());

            List<String> classes = StoredTables.table(dataset, sparkConf).classes();
            assertEquals(List.of("cat", "dog", "newA"), classes);
            assertEquals(classes, added.manifest().classes());
            Map<String, Long> counts = new TreeMap<>();
            for (Row r : StoredImages.read(SharedSpark.session(), dataset, null)
                    .select("label", "label_index").collectAsList()) {
                assertEquals(classes.indexOf(r.getString(0)), r.getInt(1), "label index of " + r);
                counts.merge(r.getString(0), 1L, Long::sum);
            }
            assertEquals(Map.of("cat", 4L, "dog", 2L, "newA", 2L), counts);
            FileSystem fs = FileSystem.get(URI.create("s3a://" + bucket), sparkConf);
            List<String> names = new ArrayList<>();
            for (FileStatus s : fs.listStatus(new org.apache.hadoop.fs.Path(dataset))) {
                names.add(s.getPath().getName());
            }
            assertEquals(List.of("data", "metadata"), names.stream().sorted().toList(),
                    "the lock released, no temporary file left");
        } finally {
            s3.settings().keySet().forEach(sparkConf::unset);
            sparkConf.unset(LockSubject.DATASET.settleKey());
        }
    }

    /**
     * S3A whose writes land {@code sparkvit.test.slow-close-millis} late (the PUT is sent on close): a stalled client,
     * against the same real server.
     */
    public static final class SlowS3A extends org.apache.hadoop.fs.s3a.S3AFileSystem {
        @Override
        public org.apache.hadoop.fs.FSDataOutputStream create(org.apache.hadoop.fs.Path f,
                org.apache.hadoop.fs.permission.FsPermission permission, boolean overwrite, int bufferSize,
                short replication, long blockSize, org.apache.hadoop.util.Progressable progress)
                throws java.io.IOException {
            OutputStream out = super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress);
            long delay = getConf().getLong("sparkvit.test.slow-close-millis", 0);
            return new org.apache.hadoop.fs.FSDataOutputStream(new java.io.FilterOutputStream(out) {
                @Override
                public void write(byte[] b, int off, int len) throws java.io.IOException {
                    out.write(b, off, len);
                }

                @Override
                public void close() throws java.io.IOException {
                    try {
                        Thread.sleep(delay);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    super.close();
                }
            }, null);
        }
    }

    /**
     * The settle assumption broken on purpose: a run whose write of the lock lands after another run has verified
     * its own. The late run measures its write as slower than the settle delay, deletes its lock and stops; the other
     * finds its lock gone before its next change. No two holders, only two refused runs.
     */
    @Test
    void aLockWriteSlowerThanTheSettleDelayLeavesNoTwoHolders() throws Exception {
        String dataset = dataset("slow");
        Configuration slow = conf(0.5);
        slow.set("fs.s3a.impl", SlowS3A.class.getName());
        slow.setBoolean("fs.s3a.impl.disable.cache", true);
        slow.setLong("sparkvit.test.slow-close-millis", 2_000);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Object> late = pool.submit(() -> {
                try {
                    return FolderLock.acquire(LockSubject.DATASET, dataset, "--output", slow, line -> { });
                } catch (LockHeldException e) {
                    return e;
                }
            });
            Thread.sleep(700); // the slow run has checked (no lock) and is writing
            try (FolderLock first = FolderLock.acquire(LockSubject.DATASET, dataset, "--output", conf(0.5),
                    line -> { })) {
                Object outcome = late.get(30, TimeUnit.SECONDS);
                assertTrue(outcome instanceof LockHeldException, "the late writer must not hold it: " + outcome);
                String m = ((LockHeldException) outcome).getMessage();
                assertTrue(m.startsWith("dataset " + dataset + " could not be locked safely: writing .lock took ")
                        && m.contains("not less than the settle delay sparkvit.dataset.s3-settle-seconds = 0.5 s")
                        && m.contains("this run deleted its .lock and changed nothing") && !m.contains("\n"), m);
                LockHeldException lost = assertThrows(LockHeldException.class, first::ensureHeld);
                assertTrue(lost.getMessage().startsWith("this run lost the dataset lock " + dataset + "/.lock: the "
                        + "lock file was deleted"), lost.getMessage());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
