package dev.sparkvit.lock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A folder's lock on a Hadoop file system (HDFS), where the holder's process cannot be checked from another host:
 * the file {@code FOLDER/.lock}, created with {@code create(path, overwrite=false)} (one atomic NameNode operation:
 * of several runs exactly one creates it) and holding its holder ({@link LockHolder}'s JSON plus
 * {@code lease_seconds}). The holder keeps a lease: a background thread sets the file's modification time to now
 * every fifth of the lease. A lock whose modification time is older than its lease is expired and may be taken over,
 * as is one whose holder is provably dead on this host ({@link LockHolder#provablyDead()}); a lock that is not
 * sparkvit's JSON is never taken over. Clocks of the hosts must agree to well within the lease (NTP).
 *
 * <p>The take-over is serialised by a second file, {@code .lock.takeover}, also created with overwrite=false and
 * held for a few milliseconds: under it the lock is re-read and deleted only if it is still the expired one. A
 * take-over file that stays for 5 s (its maker died within those milliseconds) is never removed automatically: the
 * run stops naming it.
 *
 * <p>A holder that cannot refresh its lease for a whole lease (a long pause, a lost NameNode), or finds the lock gone
 * or someone else's, has lost it: {@link #ensureHeld()} then throws, and the run changes nothing more (a retrain
 * run registers and promotes nothing).
 */
final class LeasedLock {
    private static final Logger LOG = LoggerFactory.getLogger(LeasedLock.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final long DEFAULT_LEASE_SECONDS = 300;

    private final LockSubject subject;
    /** Whether taking the lock created the folder: released, the lock then removes it again if it is empty. */
    private final boolean madeFolder;
    private final FileSystem fs;
    private final Path file;
    private final String content;
    private final long leaseMillis;
    private final ScheduledExecutorService heartbeat;
    private volatile long refreshedNanos;
    private volatile String lost;

    private LeasedLock(LockSubject subject, FileSystem fs, Path file, String content, long leaseMillis,
            boolean madeFolder) {
        this.subject = subject;
        this.madeFolder = madeFolder;
        this.fs = fs;
        this.file = file;
        this.content = content;
        this.leaseMillis = leaseMillis;
        this.refreshedNanos = System.nanoTime();
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, subject.noun() + "-lock-heartbeat");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(100, leaseMillis / 5);
        heartbeat.scheduleWithFixedDelay(this::refresh, every, every, TimeUnit.MILLISECONDS);
    }

    String location() {
        return file.toString();
    }

    /**
     * Takes the lock, taking over an expired one or one whose holder is provably dead (reported through
     * {@code warn}).
     *
     * @throws LockHeldException when another run holds it, or it cannot be judged; nothing is changed
     */
    static LeasedLock acquire(LockSubject subject, FileSystem fs, Path file, long leaseSeconds,
            Consumer<String> warn) {
        ObjectNode node = (ObjectNode) readJson(LockHolder.current().toJson(subject.command()));
        node.put("lease_seconds", leaseSeconds);
        String mine = node.toString() + "\n";
        try {
            boolean madeFolder = !fs.exists(file.getParent());
            fs.mkdirs(file.getParent());
            for (int attempt = 0; ; attempt++) {
                if (create(fs, file, mine)) {
                    return new LeasedLock(subject, fs, file, mine, leaseSeconds * 1000, madeFolder);
                }
                Seen seen = read(fs, file);
                if (seen == null && attempt < 100) {
                    continue; // released between our attempt and the read: try again
                }
                Optional<LockHolder> holder = seen == null ? Optional.empty() : LockHolder.parse(seen.text);
                if (attempt < 3 && holder.isPresent() && (seen.expired() || holder.get().provablyDead())) {
                    if (takeOver(subject, fs, file, seen)) { // only the run that deleted the stale lock says so
                        warn.accept("took over the " + subject.noun() + " lock " + file + " of " + subject.aRun()
                                + " that is no longer running (" + holder.get().describe()
                                + (seen.expired() ? "; " + seen.heartbeat() : "") + ")");
                    }
                    continue; // gone, or taken over by another run, or refreshed: look again
                }
                throw held(subject, file, seen, holder);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the " + subject.noun() + " lock " + file, e);
        }
    }

    /** The state of a lock as a status line. */
    static String state(LockSubject subject, FileSystem fs, Path file) {
        try {
            Seen seen = read(fs, file);
            if (seen == null) {
                return "not locked";
            }
            Optional<LockHolder> holder = LockHolder.parse(seen.text);
            if (holder.isEmpty()) {
                return held(subject, file, seen, holder).getMessage();
            }
            return seen.expired() || holder.get().provablyDead() ? "locked by " + subject.aRun() + " that is no "
                    + "longer running (" + holder.get().describe() + "; " + seen.heartbeat() + "); the next run takes "
                    + "the lock over" : "locked by " + subject.aRun() + " (" + holder.get().describe() + "; "
                    + seen.heartbeat() + ")";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the " + subject.noun() + " lock " + file, e);
        }
    }

    /**
     * Throws unless this run still holds the lock: its lease was refreshed within the lease, and the lock file is
     * still this run's. Called before each change to the folder.
     */
    void ensureHeld() {
        if (lost == null) {
            long since = (System.nanoTime() - refreshedNanos) / 1_000_000;
            if (since > leaseMillis) {
                lost = "its lease was last refreshed " + since / 1000 + " s ago, more than the lease of "
                        + leaseMillis / 1000 + " s";
            } else {
                try {
                    Seen now = read(fs, file);
                    if (now == null || !content.equals(now.text)) {
                        lost = now == null ? "the lock file was deleted" : "the lock file is another run's now";
                    }
                } catch (IOException e) {
                    lost = "the lock file cannot be read (" + e + ")";
                }
            }
        }
        if (lost != null) {
            throw new LockHeldException("this run lost the " + subject.noun() + " lock " + file + ": " + lost
                    + "; it changes nothing more in the " + subject.noun() + " (another run may have taken it over)");
        }
    }

    /** Stops the heartbeat and deletes the lock if it is still this run's. */
    void close() {
        heartbeat.shutdownNow();
        try {
            heartbeat.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Seen now = read(fs, file);
            if (now == null || !content.equals(now.text)) {
                LOG.warn("the {} lock {} is no longer this run's ({}); left as it is", subject.noun(), file,
                        now == null ? "deleted" : now.text.trim());
                return;
            }
            fs.delete(file, false);
            if (madeFolder && subject.tidy()) {
                try {
                    fs.delete(file.getParent(), false); // refused unless empty: a run that wrote nothing leaves none
                } catch (IOException notEmpty) {
                    // written to, or another run's lock in it: kept
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release the " + subject.noun() + " lock " + file, e);
        }
    }

    /** The heartbeat: refreshes the lease while the lock is this run's; a lock found gone or foreign is lost. */
    private void refresh() {
        if (lost != null) {
            return;
        }
        try {
            Seen now = read(fs, file);
            if (now == null || !content.equals(now.text)) {
                lost = now == null ? "the lock file was deleted" : "the lock file is another run's now";
                LOG.error("lost the {} lock {}: {}", subject.noun(), file, lost);
                return;
            }
            long sinceLast = (System.nanoTime() - refreshedNanos) / 1_000_000;
            if (sinceLast > leaseMillis) {
                lost = "its lease was last refreshed " + sinceLast / 1000 + " s ago, more than the lease";
                LOG.error("lost the {} lock {}: {}", subject.noun(), file, lost);
                return;
            }
            fs.setTimes(file, System.currentTimeMillis(), -1);
            refreshedNanos = System.nanoTime();
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot refresh the lease of the {} lock {}: {}", subject.noun(), file, e.toString());
        }
    }

    /**
     * Creates the lock with its content; false when it exists. HDFS refuses a create of a file that exists with
     * FileAlreadyExistsException, and of one another client is still creating (not yet closed) with
     * AlreadyBeingCreatedException (found racing real clients: it is not unwrapped by the client).
     */
    private static boolean create(FileSystem fs, Path file, String content) throws IOException {
        try (OutputStream out = fs.create(file, false)) {
            out.write(content.getBytes(StandardCharsets.UTF_8));
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (org.apache.hadoop.ipc.RemoteException e) {
            if (e.getClassName().equals(FileAlreadyExistsException.class.getName())
                    || e.getClassName().equals("org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException")) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Deletes the expired lock if it is still {@code stale} (same text, not refreshed since), under the take-over
     * file; true when this run deleted it.
     */
    private static boolean takeOver(LockSubject subject, FileSystem fs, Path file, Seen stale) throws IOException {
        Path guard = new Path(file.getParent(), file.getName() + ".takeover");
        for (int waited = 0; ; waited++) {
            if (create(fs, guard, LockHolder.current().toJson(subject.command()))) {
                break;
            }
            FileStatus status;
            try {
                status = fs.getFileStatus(guard);
            } catch (FileNotFoundException e) {
                continue; // released meanwhile
            }
            if (waited >= 50) {
                long age = System.currentTimeMillis() - status.getModificationTime();
                throw new LockHeldException(subject.noun() + " " + file.getParent() + " could not be locked: the "
                        + "take-over file " + guard + " has existed for " + LockHolder.age(Duration.ofMillis(age))
                        + "; this run changed nothing. If no " + subject.runs() + " is active, delete " + guard
                        + " and " + file);
            }
            sleep(100);
        }
        try {
            Seen now = read(fs, file);
            return now != null && now.text.equals(stale.text) && now.modified == stale.modified
                    && fs.delete(file, false);
        } finally {
            fs.delete(guard, false);
        }
    }

    private static LockHeldException held(LockSubject subject, Path file, Seen seen,
            Optional<LockHolder> holder) {
        String who;
        if (holder.isPresent()) {
            who = "is locked by another " + subject.runs() + " (" + holder.get().describe() + "; " + seen.heartbeat()
                    + ")";
        } else if (seen == null) {
            who = "could not be locked (" + file + " kept appearing and disappearing)";
        } else {
            who = "is locked: " + file.getName() + " holds " + shown(seen.text) + ", not a lock this version of "
                    + "sparkvit wrote (last modified " + LockHolder.age(Duration.ofMillis(System.currentTimeMillis()
                    - seen.modified)) + " ago)";
        }
        return new LockHeldException(subject.noun() + " " + file.getParent() + " " + who + "; this run changed "
                + "nothing. If no " + subject.runs() + " is active, delete " + file + " (a lock whose lease has "
                + "expired is taken over by "
                + "the next run by itself)");
    }

    /** A lock file as read: its text, modification time (the last heartbeat) and lease (-1 when it has none). */
    private record Seen(String text, long modified, long leaseSeconds) {
        boolean expired() {
            return leaseSeconds > 0 && System.currentTimeMillis() - modified > leaseSeconds * 1000;
        }

        String heartbeat() {
            return "lease " + (leaseSeconds > 0 ? leaseSeconds + " s" : "unknown") + ", last heartbeat "
                    + LockHolder.age(Duration.ofMillis(System.currentTimeMillis() - modified)) + " ago";
        }
    }

    /**
     * The lock file, or null when there is none. A lock is written by its creator right after the create; an empty
     * one is read again for up to 2 s before it counts as what it is.
     */
    private static Seen read(FileSystem fs, Path file) throws IOException {
        for (int tries = 0; ; tries++) {
            FileStatus status;
            String text;
            try {
                status = fs.getFileStatus(file);
                if (status.getLen() > 4096) {
                    text = "(" + status.getLen() + " bytes)";
                } else {
                    try (InputStream in = fs.open(file)) {
                        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    }
                }
            } catch (FileNotFoundException e) {
                return null;
            }
            if (text.isEmpty() && tries < 20) {
                sleep(100);
                continue;
            }
            JsonNode node = readJson(text);
            long lease = node != null && node.path("lease_seconds").canConvertToLong()
                    ? node.get("lease_seconds").asLong() : -1;
            return new Seen(text, status.getModificationTime(), lease);
        }
    }

    private static JsonNode readJson(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            return null;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while taking a lock", e);
        }
    }

    private static String shown(String text) {
        String line = text.trim().replaceAll("[^\\x20-\\x7e]", "?");
        return "'" + (line.length() <= 120 ? line : line.substring(0, 120) + "...") + "'";
    }

    /** The lease from a Hadoop configuration ({@link LockSubject#leaseKey()}), checked. */
    static long leaseSeconds(LockSubject subject, org.apache.hadoop.conf.Configuration conf) {
        String text = conf.getTrimmed(subject.leaseKey(), String.valueOf(DEFAULT_LEASE_SECONDS));
        long lease;
        try {
            lease = Long.parseLong(text);
        } catch (NumberFormatException e) {
            lease = -1;
        }
        if (lease < 1 || lease > 86_400) {
            throw new dev.sparkvit.config.ConfigException(subject.leaseKey() + " = " + text + " is invalid: expected "
                    + "whole seconds from 1 to 86400 (the " + subject.noun() + " lock's lease on HDFS)");
        }
        return lease;
    }
}
