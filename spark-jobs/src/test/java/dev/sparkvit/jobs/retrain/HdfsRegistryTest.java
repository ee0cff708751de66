package dev.sparkvit.jobs.retrain;


import dev.sparkvit.jobs.inference.ClassifierWeights;
import dev.sparkvit.lock.FolderLock;
import dev.sparkvit.lock.LockHeldException;
import dev.sparkvit.lock.LockHolder;
import dev.sparkvit.lock.LockSubject;
import dev.sparkvit.storage.MiniHdfs;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The model registry on a real HDFS (MiniDFSCluster, {@link MiniHdfs}), not java.nio: versions and the production
 * pointer appear whole (a reader polling while versions are registered never sees a partial one), the lock is
 * created atomically (of several HDFS clients racing, exactly one takes it), the holder's heartbeat keeps its lease,
 * a lock whose lease expired is taken over with a warning, a live lock of another host and a lock sparkvit did not
 * write are never taken over, and a run that lost its lock is stopped before it changes anything.
 */
class HdfsRegistryTest {
    @TempDir
    static java.nio.file.Path cluster;
    private static MiniHdfs hdfs;

    @TempDir
    java.nio.file.Path tmp;

    @BeforeAll
    static void start() throws Exception {
        hdfs = MiniHdfs.start(cluster);
    }

    @AfterAll
    static void stop() throws Exception {
        if (hdfs != null) {
            hdfs.close();
        }
    }

    /** A client configuration; {@code lease} sets the lock's lease, {@code separate} gives its own HDFS client. */
    private static Configuration conf(long lease, boolean separate) {
        Configuration conf = hdfs.conf();
        conf.setLong(LockSubject.REGISTRY.leaseKey(), lease);
        conf.setBoolean("fs.hdfs.impl.disable.cache", separate);
        return conf;
    }

    private static FileSystem fs() throws Exception {
        return FileSystem.get(URI.create(hdfs.uri()), hdfs.conf());
    }

    private static String location(String name) {
        return hdfs.uri() + "/registries/" + name;
    }

    private static List<String> names(String dir) throws Exception {
        List<String> names = new ArrayList<>();
        for (FileStatus s : fs().listStatus(new Path(dir))) {
            names.add(s.getPath().getName());
        }
        Collections.sort(names);
        return names;
    }

    private static void writeLock(String registry, String text, long modified) throws Exception {
        Path lock = new Path(registry + "/.lock");
        fs().mkdirs(lock.getParent());
        try (OutputStream out = fs().create(lock, true)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
        fs().setTimes(lock, modified, -1);
    }

    private static byte[] bytes(String file) throws Exception {
        try (var in = fs().open(new Path(file))) {
            return in.readAllBytes();
        }
    }

    private static String read(String file) throws Exception {
        return new String(bytes(file), StandardCharsets.UTF_8);
    }

    private static String holder(long pid, String host, long lease) {
        LockHolder self = LockHolder.current();
        String json = new LockHolder(pid, host, self.bootId(), self.pidNamespace(), 5, Instant.now()
                .minusSeconds(600)).toJson("sparkvit retrain").trim();
        return json.substring(0, json.length() - 1) + ",\"lease_seconds\":" + lease + "}\n";
    }

    @Test
    void versionsAndThePointerAreWrittenWholeAndReadBack() throws Exception {
        String root = location("whole");
        ModelRegistry registry = ModelRegistry.open(root, conf(300, false));
        assertTrue(registry.remote());
        assertEquals(root, registry.location());
        RegistryFixture.fill(registry, tmp.resolve("staging"), 2);
        assertEquals(List.of("v0001", "v0002"), registry.versions());
        assertEquals("v0002", registry.production().orElseThrow());
        assertEquals("v0002\n", read(root + "/production"));
        List<String> warnings = new ArrayList<>();
        registry.check(warnings::add); // the production model is read in full (from a local copy)
        assertEquals(List.of(), warnings);
        assertEquals("key-2", registry.info("v0002").get("key"));
        assertEquals(registry.versionLocation("v0002"), root + "/versions/v0002");
        assertEquals(List.of("production", "versions"), names(root), "no lock and no temporary file left");
        assertEquals(List.of("v0001", "v0002"), names(root + "/versions"), "no temporary version folder left");
        assertEquals(List.of("finetuned-ema.safetensors", "finetuned.safetensors", "metrics.json", "version.json"),
                names(root + "/versions/v0002"));
        List<String> lines = registry.describe();
        assertTrue(lines.get(1).startsWith("v0002 (production)  promoted"), lines.toString());

        // the model files are read through a local copy, made once
        java.nio.file.Path copy = registry.localModelDir("v0002", tmp.resolve("cache"));
        assertEquals(tmp.resolve("cache").resolve("v0002"), copy);
        assertEquals(List.of("a", "b", "c"), ClassifierWeights.load(copy.resolve("finetuned-ema.safetensors"))
                .classes());
        assertTrue(Files.isRegularFile(copy.resolve("finetuned.safetensors")));
        // reused while the registry's file is the same; copied again once it is not (a registry recreated there)
        java.nio.file.attribute.FileTime copied = Files.getLastModifiedTime(copy.resolve("finetuned.safetensors"));
        Thread.sleep(20);
        registry.localModelDir("v0002", tmp.resolve("cache"));
        assertEquals(copied, Files.getLastModifiedTime(copy.resolve("finetuned.safetensors")), "reused");
        byte[] other = bytes(root + "/versions/v0001/finetuned-ema.safetensors");
        try (OutputStream out = fs().create(new Path(root + "/versions/v0002/finetuned-ema.safetensors"), true)) {
            out.write(other);
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(other, Files.readAllBytes(registry.localModelDir("v0002",
                tmp.resolve("cache")).resolve("finetuned-ema.safetensors")), "copied again");

        // a damaged pointer or production model names the file on HDFS, and nothing is changed
        try (OutputStream out = fs().create(new Path(root + "/production"), true)) {
            out.write("../../x".getBytes(StandardCharsets.UTF_8));
        }
        CorruptRegistryException pointer = assertThrows(CorruptRegistryException.class, registry::production);
        assertTrue(pointer.getMessage().contains("registry pointer " + root + "/production holds '../../x'"),
                pointer.getMessage());
        registry.promote("v0002");
        byte[] model = bytes(root + "/versions/v0002/finetuned-ema.safetensors");
        try (OutputStream out = fs().create(new Path(root + "/versions/v0002/finetuned-ema.safetensors"), true)) {
            out.write(model, 0, model.length / 2);
        }
        CorruptRegistryException damaged = assertThrows(CorruptRegistryException.class,
                () -> registry.check(line -> { }));
        assertTrue(damaged.getMessage().contains("production version v0002 is damaged")
                && damaged.getMessage().contains(root + "/versions/v0002/finetuned-ema.safetensors"),
                damaged.getMessage());
        assertTrue(!damaged.getMessage().contains(System.getProperty("java.io.tmpdir") + "/registry-"),
                "the message names the file on HDFS, not the local copy: " + damaged.getMessage());
    }

    @Test
    void aReaderPollingWhileVersionsAreRegisteredNeverSeesAPartialOne() throws Exception {
        String root = location("readers");
        ModelRegistry writer = ModelRegistry.open(root, conf(300, true));
        ModelRegistry reader = ModelRegistry.open(root, conf(300, true));
        AtomicBoolean done = new AtomicBoolean();
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        List<Throwable> problems = Collections.synchronizedList(new ArrayList<>());
        Thread poller = new Thread(() -> {
            boolean last = false;
            while (!last) {
                last = done.get(); // the final poll starts after the writer has finished
                try {
                    for (String version : reader.versions()) {
                        reader.damage(version, false).ifPresent(d -> problems.add(new AssertionError(d)));
                    }
                    reader.production().ifPresent(seen::add);
                } catch (Throwable t) {
                    problems.add(t);
                }
            }
        });
        poller.start();
        RegistryFixture.fill(writer, tmp.resolve("staging"), 4);
        done.set(true);
        poller.join();
        assertEquals(List.of(), problems);
        assertTrue(!seen.isEmpty() && seen.get(seen.size() - 1).equals("v0004"), seen.toString());
        assertEquals(List.of("v0001", "v0002", "v0003", "v0004"), names(root + "/versions"));
    }

    /**
     * {@code n} threads, each with its own HDFS client, taking the registry's lock at the same moment; returns what
     * each got (in the order they got it): "acquired", "held: MESSAGE" or "warning: LINE" lines, once all have
     * answered, the winner still holding the lock. {@code release} ends the winner's hold.
     */
    private static List<String> race(String root, int n, CountDownLatch release, List<Thread> threads)
            throws Exception {
        CountDownLatch ready = new CountDownLatch(n);
        CountDownLatch go = new CountDownLatch(1);
        List<String> outcomes = Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(() -> {
                ModelRegistry registry = ModelRegistry.open(root, conf(300, true)); // its own DFS client
                ready.countDown();
                try {
                    go.await();
                    try (FolderLock lock = registry.lock(line -> outcomes.add("warning: " + line))) {
                        outcomes.add("acquired");
                        answered.incrementAndGet();
                        release.await();
                    }
                } catch (LockHeldException e) {
                    outcomes.add("held: " + e.getMessage());
                    answered.incrementAndGet();
                } catch (InterruptedException e) {
                    outcomes.add("interrupted");
                    answered.incrementAndGet();
                }
            });
            t.start();
            threads.add(t);
        }
        ready.await();
        go.countDown();
        for (int waited = 0; answered.get() < n && waited < 3000; waited++) {
            Thread.sleep(10);
        }
        return new ArrayList<>(outcomes);
    }

    @Test
    void ofSeveralHdfsClientsRacingExactlyOneTakesTheLock() throws Exception {
        String root = location("race");
        int n = 4;
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<String> outcomes = race(root, n, release, threads);
        assertEquals(1, outcomes.stream().filter("acquired"::equals).count(), outcomes.toString());
        assertEquals(n - 1, outcomes.stream().filter(o -> o.startsWith("held: registry " + root + " is locked by "
                + "another retrain run (pid " + ProcessHandle.current().pid())).count(), outcomes.toString());
        assertTrue(outcomes.stream().filter(o -> o.startsWith("held")).allMatch(o -> o.contains("lease 300 s, last "
                + "heartbeat") && o.contains("delete " + root + "/.lock")), outcomes.toString());
        assertEquals(n, outcomes.size(), "no warning: " + outcomes);
        release.countDown();
        for (Thread t : threads) {
            t.join(30_000);
        }
        assertEquals(List.of(), names(root), "released; no take-over file or temporary file left");
    }

    @Test
    void ofSeveralHdfsClientsFindingOneExpiredLockExactlyOneTakesItOver() throws Exception {
        String root = location("race-expired");
        writeLock(root, holder(4242, "build-7.example.org", 2), System.currentTimeMillis() - 60_000);
        int n = 4;
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<String> outcomes = race(root, n, release, threads);
        assertEquals(1, outcomes.stream().filter("acquired"::equals).count(), outcomes.toString());
        assertEquals(1, outcomes.stream().filter(o -> o.startsWith("warning: took over the registry lock " + root
                + "/.lock of a retrain run that is no longer running (pid 4242 on build-7.example.org")).count(),
                "only the run that took it over says so: " + outcomes);
        assertEquals(n - 1, outcomes.stream().filter(o -> o.startsWith("held: registry " + root + " is locked by "
                + "another retrain run (pid " + ProcessHandle.current().pid())).count(), outcomes.toString());
        assertEquals(ProcessHandle.current().pid(), LockHolder.parse(read(root + "/.lock")).orElseThrow().pid());
        release.countDown();
        for (Thread t : threads) {
            t.join(30_000);
        }
        assertEquals(List.of(), names(root), "released; no take-over file left");
    }

    @Test
    void theHeartbeatKeepsALiveLockAndALostLockStopsTheRun() throws Exception {
        String root = location("heartbeat");
        ModelRegistry registry = ModelRegistry.open(root, conf(3, false));
        try (FolderLock lock = registry.lock(line -> { })) {
            Path file = new Path(root + "/.lock");
            long created = fs().getFileStatus(file).getModificationTime();
            Thread.sleep(7000); // over two leases: without the heartbeat the lock would have expired
            assertTrue(fs().getFileStatus(file).getModificationTime() > created, "the heartbeat refreshed it");
            LockHeldException held = assertThrows(LockHeldException.class,
                    () -> ModelRegistry.open(root, conf(3, true)).lock(line -> { }));
            assertTrue(held.getMessage().contains("is locked by another retrain run"), held.getMessage());
            assertTrue(registry.lockState().startsWith("locked by a retrain run (pid "), registry.lockState());
            lock.ensureHeld();

            // someone deletes the lock by hand and another run takes the registry: this run must stop
            fs().delete(file, false);
            writeLock(root, holder(4242, "build-7.example.org", 300), System.currentTimeMillis());
            LockHeldException lost = assertThrows(LockHeldException.class, lock::ensureHeld);
            assertTrue(lost.getMessage().contains("this run lost the registry lock " + file), lost.getMessage());
        }
        assertTrue(read(root + "/.lock").contains("build-7.example.org"), "the other run's lock is left alone");
    }

    @Test
    void aHolderCutOffFromTheNameNodeForLongerThanItsLeaseHasLostItsLock(@TempDir java.nio.file.Path own)
            throws Exception {
        MiniHdfs lone = MiniHdfs.start(own); // its own cluster: this test stops it
        Configuration conf = lone.conf();
        conf.setLong(LockSubject.REGISTRY.leaseKey(), 1);
        conf.setBoolean("fs.hdfs.impl.disable.cache", true);
        conf.setInt("ipc.client.connect.max.retries", 0); // fail fast once the NameNode is gone
        conf.setInt("ipc.client.connect.max.retries.on.timeouts", 0);
        String root = lone.uri() + "/registry";
        FolderLock lock = ModelRegistry.open(root, conf).lock(line -> { });
        lock.ensureHeld();
        lone.close(); // the NameNode goes away: the heartbeat cannot refresh the lease
        Thread.sleep(2500);
        LockHeldException lost = assertThrows(LockHeldException.class, lock::ensureHeld);
        assertTrue(lost.getMessage().contains("this run lost the registry lock " + root + "/.lock: its lease was "
                + "last refreshed") && lost.getMessage().contains("more than the lease of 1 s"), lost.getMessage());
        assertThrows(RuntimeException.class, lock::close, "the release cannot reach the NameNode either");
    }

    @Test
    void aLockWhoseLeaseExpiredOrWhoseHolderDiedHereIsTakenOverWithAWarning() throws Exception {
        String root = location("expired");
        ModelRegistry registry = ModelRegistry.open(root, conf(300, false));
        writeLock(root, holder(4242, "build-7.example.org", 2), System.currentTimeMillis() - 10_000);
        assertTrue(registry.lockState().contains("no longer running") && registry.lockState().contains("lease 2 s"),
                registry.lockState());
        List<String> warnings = new ArrayList<>();
        try (FolderLock lock = registry.lock(warnings::add)) {
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).contains("took over the registry lock " + root + "/.lock")
                    && warnings.get(0).contains("pid 4242 on build-7.example.org")
                    && warnings.get(0).matches(".*lease 2 s, last heartbeat 1\\d s ago.*"), warnings.get(0));
            assertEquals(ProcessHandle.current().pid(), LockHolder.parse(read(root + "/.lock")).orElseThrow().pid());
        }
        assertEquals(List.of(), names(root), "released, no take-over file left");

        // a holder on this host whose process is gone: taken over at once, as on a local registry
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        writeLock(root, holder(p.pid(), LockHolder.current().host(), 300), System.currentTimeMillis());
        warnings.clear();
        registry.lock(warnings::add).close();
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("pid " + p.pid()), warnings.get(0));
    }

    @Test
    void aLiveLockOfAnotherHostALockSparkvitDidNotWriteOrAStuckTakeOverIsNeverTakenOver() throws Exception {
        String root = location("kept");
        ModelRegistry registry = ModelRegistry.open(root, conf(300, false));
        long old = System.currentTimeMillis() - 3_600_000;
        Map<String, Object[]> cases = Map.of(
                "live, another host", new Object[] {holder(4242, "build-7.example.org", 300),
                        System.currentTimeMillis(), "pid 4242 on build-7.example.org"},
                "no lease, old", new Object[] {holder(4242, "build-7.example.org", 300).replace(
                        ",\"lease_seconds\":300", ""), old, "lease unknown"},
                "garbage, old", new Object[] {"\u0000garbage\n", old, "not a lock this version of sparkvit wrote"});
        for (Map.Entry<String, Object[]> c : cases.entrySet()) {
            writeLock(root, (String) c.getValue()[0], (Long) c.getValue()[1]);
            LockHeldException e = assertThrows(LockHeldException.class, () -> registry.lock(line -> { }),
                    c.getKey());
            assertTrue(e.getMessage().contains((String) c.getValue()[2]) && e.getMessage().contains("delete " + root
                    + "/.lock") && !e.getMessage().contains("\n"), c.getKey() + ": " + e.getMessage());
            assertEquals(c.getValue()[0], read(root + "/.lock"), c.getKey() + ": the lock stays");
        }

        // a take-over file left by a run that died within the take-over: the run stops naming it
        writeLock(root, holder(4242, "build-7.example.org", 2), old);
        try (OutputStream out = fs().create(new Path(root + "/.lock.takeover"), false)) {
            out.write("{}".getBytes(StandardCharsets.UTF_8));
        }
        LockHeldException stuck = assertThrows(LockHeldException.class, () -> registry.lock(line -> { }));
        assertTrue(stuck.getMessage().contains("delete " + root + "/.lock.takeover"), stuck.getMessage());
        assertEquals(List.of(".lock", ".lock.takeover"), names(root));
    }
}
