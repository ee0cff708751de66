package dev.sparkvit.jobs.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.lock.FolderLock;
import dev.sparkvit.lock.LockHeldException;
import dev.sparkvit.lock.LockHolder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry lock against real processes and damaged lock files: exactly one of several JVMs started together
 * takes it, a lock whose holder is provably dead on this host is taken over with a warning, and every other lock
 * (alive, another host, garbage, empty) stops the run with one line naming holder, age and file, and stays.
 */
class RegistryLockTest {

    private static String holder(long pid, String host, long startTicks, Instant since) {
        LockHolder self = LockHolder.current();
        return new LockHolder(pid, host, self.bootId(), self.pidNamespace(), startTicks, since).toJson("sparkvit retrain");
    }

    /** The pid of a process that ran here and has exited. */
    private static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        assertEquals(0, p.waitFor());
        long pid = p.pid();
        assertTrue(ProcessHandle.of(pid).isEmpty(), "the process is gone");
        return pid;
    }

    @Test
    void aLockWhoseHolderIsProvablyDeadOnThisHostIsTakenOverWithAWarning(@TempDir Path tmp) throws Exception {
        ModelRegistry registry = new ModelRegistry(tmp);
        Path lock = tmp.resolve(".lock");
        long dead = deadPid();
        Files.writeString(lock, holder(dead, LockHolder.current().host(), 12345, Instant.now().minusSeconds(7300)));
        List<String> warnings = new ArrayList<>();
        assertTrue(registry.lockState().contains("no longer running"), registry.lockState());
        try (FolderLock taken = registry.lock(warnings::add)) {
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).contains("took over the registry lock " + lock)
                    && warnings.get(0).contains("pid " + dead) && warnings.get(0).contains("(2 h 1 min ago)"),
                    warnings.get(0));
            LockHolder now = LockHolder.parse(Files.readString(lock)).orElseThrow();
            assertEquals(ProcessHandle.current().pid(), now.pid(), "the lock is this run's now");
        }
        assertTrue(!Files.exists(lock), "released");
    }

    @Test
    void aPidReusedByAProcessStartedLaterCountsAsDead(@TempDir Path tmp) throws Exception {
        LockHolder self = LockHolder.current();
        assertTrue(self.startTicks() > 0, "this system has /proc/PID/stat");
        Files.writeString(tmp.resolve(".lock"), holder(self.pid(), self.host(), self.startTicks() - 1,
                Instant.now()));
        List<String> warnings = new ArrayList<>();
        new ModelRegistry(tmp).lock(warnings::add).close();
        assertEquals(1, warnings.size(), warnings.toString());
    }

    @Test
    void aLiveHolderAnotherHostOrAnUnknownFormatIsNeverTakenOver(@TempDir Path tmp) throws Exception {
        ModelRegistry registry = new ModelRegistry(tmp);
        Path lock = tmp.resolve(".lock");
        LockHolder self = LockHolder.current();
        long dead = deadPid();
        List<String[]> cases = List.of(
                new String[] {"alive", holder(self.pid(), self.host(), self.startTicks(), Instant.now()
                        .minusSeconds(90)), "is locked by another retrain run (pid " + self.pid() + " on "
                        + self.host() + ", since"},
                new String[] {"other host", holder(dead, "build-7.example.org", 5, Instant.now()),
                        "pid " + dead + " on build-7.example.org"},
                new String[] {"no boot id", "{\"pid\": " + dead + ", \"host\": \"" + self.host() + "\", \"since\": \""
                        + Instant.now() + "\"}", "pid " + dead},
                new String[] {"old format", "pid " + dead + "@" + self.host() + " since 2024-01-01T00:00:00Z\n",
                        "holds 'pid " + dead + "@"},
                new String[] {"garbage", "\u0000\u00ff\u001b[2J garbage\n", "not a lock this version of sparkvit "
                        + "wrote"},
                new String[] {"empty", "", "holds ''"});
        for (String[] c : cases) {
            Files.write(lock, c[1].getBytes(StandardCharsets.UTF_8));
            byte[] before = Files.readAllBytes(lock);
            LockHeldException e = assertThrows(LockHeldException.class, () -> registry.lock(line -> { }), c[0]);
            String m = e.getMessage();
            assertTrue(m.contains(c[2]) && m.contains("delete " + lock) && m.contains("changed nothing"),
                    c[0] + ": " + m);
            assertTrue(!m.contains("\n") && !m.contains("\u001b"), c[0] + ": one printable line: " + m);
            assertEquals(new String(before, StandardCharsets.ISO_8859_1),
                    new String(Files.readAllBytes(lock), StandardCharsets.ISO_8859_1), c[0] + ": the lock stays");
        }
    }

    @Test
    void aLockIsReleasedOnlyWhileItIsStillThisRunsOwn(@TempDir Path tmp) throws Exception {
        ModelRegistry registry = new ModelRegistry(tmp);
        Path lock = tmp.resolve(".lock");
        FolderLock mine = registry.lock(line -> { });
        assertEquals(ProcessHandle.current().pid(), LockHolder.parse(Files.readString(lock)).orElseThrow().pid(),
                "the lock file holds its holder from the moment it exists");
        // someone deleted it by hand and another run took the registry
        Files.delete(lock);
        Files.writeString(lock, "another run's lock\n");
        mine.close();
        assertEquals("another run's lock\n", Files.readString(lock), "not deleted by the first run");
    }

    @Test
    void ofFourJvmsStartedTogetherExactlyOneTakesTheLockAndTheOthersExitAtOnce(@TempDir Path tmp)
            throws Exception {
        Path registry = tmp.resolve("registry");
        Path go = tmp.resolve("go");
        Path done = tmp.resolve("done");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> contenders = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            contenders.add(new ProcessBuilder(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                    LockContender.class.getName(), registry.toString(), go.toString(), done.toString())
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("out-" + i).toFile()).start());
        }
        for (int waited = 0; ready(tmp) < 4 && waited < 6000; waited++) {
            Thread.sleep(10);
        }
        assertEquals(4, ready(tmp), "all four JVMs are up");
        Files.createFile(go); // all four are polling for this file (every 5 ms): they race now
        // the losers exit on their own while the winner holds the lock (it waits for the done file)
        List<Integer> losers = new ArrayList<>();
        for (int waited = 0; losers.size() < 3 && waited < 6000; waited++) {
            losers.clear();
            for (int i = 0; i < contenders.size(); i++) {
                if (!contenders.get(i).isAlive()) {
                    losers.add(i);
                }
            }
            Thread.sleep(10);
        }
        List<String> outputs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            outputs.add(Files.readString(tmp.resolve("out-" + i)));
        }
        assertEquals(3, losers.size(), "three exit while one holds the lock: " + outputs);
        for (int i : losers) {
            assertEquals(4, contenders.get(i).exitValue(), outputs.get(i));
            assertTrue(outputs.get(i).startsWith("held: registry " + registry + " is locked by another retrain run"),
                    outputs.get(i));
        }
        int winner = List.of(0, 1, 2, 3).stream().filter(i -> !losers.contains(i)).findFirst().orElseThrow();
        assertTrue(contenders.get(winner).isAlive());
        assertEquals("acquired\n", outputs.get(winner));
        Files.createFile(done);
        assertTrue(contenders.get(winner).waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, contenders.get(winner).exitValue());
        assertTrue(!Files.exists(registry.resolve(".lock")), "released");
        try (var left = Files.list(registry)) {
            assertEquals(List.of(), left.toList(), "no temporary lock files left behind");
        }
    }

    @Test
    void theLockOfARunKilledWithSigkillIsTakenOverByTheNextRun(@TempDir Path tmp) throws Exception {
        Path registry = tmp.resolve("registry");
        Path go = tmp.resolve("go");
        Files.createFile(go);
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-cp", System.getProperty("java.class.path"), LockContender.class.getName(),
                registry.toString(), go.toString(), tmp.resolve("never").toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("out").toFile()).start();
        for (int waited = 0; !Files.readString(tmp.resolve("out")).contains("acquired") && waited < 6000; waited++) {
            Thread.sleep(10);
        }
        assertTrue(Files.readString(tmp.resolve("out")).contains("acquired"), Files.readString(tmp.resolve("out")));
        LockHeldException alive = assertThrows(LockHeldException.class,
                () -> new ModelRegistry(registry).lock(line -> { }));
        assertTrue(alive.getMessage().contains("pid " + holder.pid()), alive.getMessage());
        holder.destroyForcibly(); // SIGKILL: no finally block, no shutdown hook runs; the lock file stays
        assertTrue(holder.waitFor(60, TimeUnit.SECONDS));
        assertTrue(Files.exists(registry.resolve(".lock")));
        List<String> warnings = new ArrayList<>();
        new ModelRegistry(registry).lock(warnings::add).close();
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).contains("pid " + holder.pid()) && warnings.get(0).contains("no longer running"),
                warnings.get(0));
    }

    private static long ready(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("go.ready-")).count();
        }
    }
}
