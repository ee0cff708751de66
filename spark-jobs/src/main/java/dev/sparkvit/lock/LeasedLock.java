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
import java.util.UUID;
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
 *
 * <p>The one step that differs between file systems is the {@link Claim}: how the lock file (and the take-over file)
 * is created and its lease refreshed. On HDFS ({@link #ATOMIC_CREATE}) the create is atomic and the refresh sets the
 * modification time. On S3A ({@link #writeSettleVerify}), which has no atomic create-if-absent in Hadoop 3.2 (a HEAD,
 * then a PUT on close) but is strongly consistent and replaces an object in one PUT, a run that finds no lock file
 * writes its own (unique: it holds a random token), waits a settle delay, and reads it back: it holds the lock only
 * if the file is still its own; otherwise another writer's PUT landed last and this run stops, deleting nothing. The
 * refresh there is a PUT of the same content (S3A cannot set a modification time). This gives one winner <b>as long
 * as every writer's check-and-PUT completes within the settle delay</b>: a PUT that lands later can replace a lock
 * another run has already verified. A run whose own check-and-PUT took longer deletes its lock file and stops; a
 * holder whose lock was replaced finds out at its next heartbeat or {@link #ensureHeld()}.
 */
final class LeasedLock {
    private static final Logger LOG = LoggerFactory.getLogger(LeasedLock.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final long DEFAULT_LEASE_SECONDS = 300;
    /** The default settle delay of a lock on an object store ({@link #writeSettleVerify}), in seconds. */
    static final double DEFAULT_SETTLE_SECONDS = 3;

    private final LockSubject subject;
    /** Whether taking the lock created the folder: released, the lock then removes it again if it is empty. */
    private final boolean madeFolder;
    private final FileSystem fs;
    private final Path file;
    private final String content;
    private final long leaseMillis;
    private final Claim claim;
    private final ScheduledExecutorService heartbeat;
    private volatile long refreshedNanos;
    private volatile String lost;

    private LeasedLock(LockSubject subject, FileSystem fs, Path file, String content, long leaseMillis,
            boolean madeFolder, Claim claim) {
        this.claim = claim;
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
        return acquire(subject, fs, file, leaseSeconds, ATOMIC_CREATE, warn);
    }

    /** Takes the lock with {@code claim} as the step that creates the lock file ({@link Claim}). */
    static LeasedLock acquire(LockSubject subject, FileSystem fs, Path file, long leaseSeconds, Claim claim,
            Consumer<String> warn) {
        ObjectNode node = (ObjectNode) readJson(LockHolder.current().toJson(subject.command()));
        node.put("lease_seconds", leaseSeconds);
        node.put("token", UUID.randomUUID().toString()); // unique even for two threads of one process
        String mine = node.toString() + "\n";
        try {
            boolean madeFolder = !fs.exists(file.getParent());
            fs.mkdirs(file.getParent());
            for (int attempt = 0; ; attempt++) {
                if (claim.create(subject, fs, file, mine)) {
                    return new LeasedLock(subject, fs, file, mine, leaseSeconds * 1000, madeFolder, claim);
                }
                Seen seen = read(fs, file);
                if (seen == null && attempt < 100) {
                    continue; // released between our attempt and the read: try again
                }
                Optional<LockHolder> holder = seen == null ? Optional.empty() : LockHolder.parse(seen.text);
                if (attempt < 3 && holder.isPresent() && (seen.expired() || holder.get().provablyDead())) {
                    if (takeOver(subject, fs, file, seen, claim)) { // only the run that deleted the stale lock says so
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
            if (since > claim.refreshWithin(leaseMillis)) {
                lost = "its lease was last refreshed " + since / 1000 + " s ago, more than the "
                        + claim.describeLimit(leaseMillis);
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
            if (sinceLast > claim.refreshWithin(leaseMillis)) {
                lost = "its lease was last refreshed " + sinceLast / 1000 + " s ago, more than the "
                        + claim.describeLimit(leaseMillis);
                LOG.error("lost the {} lock {}: {}", subject.noun(), file, lost);
                return;
            }
            long started = System.nanoTime();
            claim.refresh(fs, file, content);
            refreshedNanos = started; // the new modification time is no earlier than the start of the refresh
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot refresh the lease of the {} lock {}: {}", subject.noun(), file, e.toString());
        }
    }

    /**
     * The step that creates a lock file (or the take-over file) with this run's content and refreshes its lease: the
     * one difference between a file system with atomic create-if-absent (HDFS) and an object store (S3A).
     */
    interface Claim {
        /**
         * Creates {@code file} holding {@code content}: true when this run now holds it, false when another run's
         * file is there (or was there a moment ago: the caller reads it again).
         */
        boolean create(LockSubject subject, FileSystem fs, Path file, String content) throws IOException;

        /** Sets the modification time of {@code file}, this run's lock holding {@code content}, to now. */
        void refresh(FileSystem fs, Path file, String content) throws IOException;

        /** How long after its last refresh a holder may still refresh its lease (and count it as held). */
        default long refreshWithin(long leaseMillis) {
            return leaseMillis;
        }

        /** That limit as messages name it ("lease of 300 s"). */
        default String describeLimit(long leaseMillis) {
            return "lease of " + leaseMillis / 1000 + " s";
        }

        /** How long a take-over file is held at least (the settle delay on an object store). */
        default long settleMillis() {
            return 0;
        }
    }

    /**
     * HDFS: {@code create(path, overwrite=false)}, one NameNode operation, and {@code setTimes}. HDFS refuses a create
     * of a file that exists with FileAlreadyExistsException, and of one another client is still creating (not yet
     * closed) with AlreadyBeingCreatedException (found racing real clients: it is not unwrapped by the client).
     */
    static final Claim ATOMIC_CREATE = new Claim() {
        @Override
        public boolean create(LockSubject subject, FileSystem fs, Path file, String content) throws IOException {
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

        @Override
        public void refresh(FileSystem fs, Path file, String content) throws IOException {
            fs.setTimes(file, System.currentTimeMillis(), -1);
        }
    };

    /**
     * S3A (an object store with strong read-after-write consistency and atomic replacement by one PUT, but no
     * create-if-absent): write, settle, verify. A run that finds no file (S3A's create with overwrite=false checks
     * with a HEAD) writes its own with one PUT (on close), waits {@code settleMillis}, and reads it back: the file is
     * its own only if no other writer's PUT landed after it. Correct as long as every writer's HEAD-and-PUT completes
     * within the settle delay; a run that measures its own taking longer deletes its file and stops (it may have
     * replaced a lock another run already verified). The lease is refreshed by a PUT of the same content, at the
     * latest two settle delays and one second (S3 keeps modification times in whole seconds) before the lease ends,
     * so a refresh never lands on a lock another run has already taken over.
     *
     * @param settleKey the configuration key of the settle delay, named in messages
     */
    static Claim writeSettleVerify(long settleMillis, String settleKey) {
        return new Claim() {
            @Override
            public boolean create(LockSubject subject, FileSystem fs, Path file, String content) throws IOException {
                long start = System.nanoTime();
                try (OutputStream out = fs.create(file, false)) {
                    out.write(content.getBytes(StandardCharsets.UTF_8));
                } catch (FileAlreadyExistsException e) {
                    return false;
                }
                long took = (System.nanoTime() - start) / 1_000_000;
                sleep(settleMillis);
                Seen now = read(fs, file);
                if (now == null || !content.equals(now.text)) {
                    return false; // another writer's PUT landed last (or its lock is released already): not ours
                }
                if (took >= settleMillis) {
                    fs.delete(file, false);
                    throw new LockHeldException(subject.noun() + " " + file.getParent() + " could not be locked "
                            + "safely: writing " + file.getName() + " took " + took + " ms, not less than the settle "
                            + "delay " + settleKey + " = " + settleMillis / 1000.0 + " s, so another run may hold "
                            + "it too; this run deleted its " + file.getName() + " and changed nothing. Raise "
                            + settleKey + " (an object store's lock assumes every write of it completes within the "
                            + "settle delay)");
                }
                return true;
            }

            @Override
            public void refresh(FileSystem fs, Path file, String content) throws IOException {
                try (OutputStream out = fs.create(file, true)) {
                    out.write(content.getBytes(StandardCharsets.UTF_8));
                }
            }

            @Override
            public long settleMillis() {
                return settleMillis;
            }

            @Override
            public long refreshWithin(long leaseMillis) {
                return leaseMillis - 2 * settleMillis - 1000;
            }

            @Override
            public String describeLimit(long leaseMillis) {
                return refreshWithin(leaseMillis) / 1000.0 + " s within which a lease of " + leaseMillis / 1000
                        + " s on an object store must be refreshed (the lease less two settle delays and 1 s)";
            }
        };
    }

    /**
     * Deletes the expired lock if it is still {@code stale} (same text, not refreshed since), under the take-over
     * file; true when this run deleted it.
     */
    private static boolean takeOver(LockSubject subject, FileSystem fs, Path file, Seen stale, Claim claim)
            throws IOException {
        Path guard = new Path(file.getParent(), file.getName() + ".takeover");
        for (int waited = 0; ; waited++) {
            String mine = LockHolder.current().toJson(subject.command()).trim();
            if (claim.create(subject, fs, guard, mine.substring(0, mine.length() - 1) + ",\"token\":\""
                    + UUID.randomUUID() + "\"}\n")) {
                break;
            }
            FileStatus status;
            try {
                status = fs.getFileStatus(guard);
            } catch (FileNotFoundException e) {
                continue; // released meanwhile
            }
            if (waited >= 50 + 2 * claim.settleMillis() / 100) {
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

    /** The settle delay of the lock on an object store (write, settle, verify), checked against the lease. */
    static long settleMillis(LockSubject subject, org.apache.hadoop.conf.Configuration conf, long leaseSeconds) {
        String text = conf.getTrimmed(subject.settleKey(), String.valueOf(DEFAULT_SETTLE_SECONDS));
        double seconds;
        try {
            seconds = Double.parseDouble(text);
        } catch (NumberFormatException e) {
            seconds = -1;
        }
        if (!(seconds >= 0.01 && seconds <= 600)) {
            throw new dev.sparkvit.config.ConfigException(subject.settleKey() + " = " + text + " is invalid: "
                    + "expected seconds from 0.01 to 600 (how long a run that wrote the " + subject.noun() + " lock "
                    + "on an object store waits before reading it back; longer than any write of it takes)");
        }
        long settle = Math.round(seconds * 1000);
        long lease = leaseSeconds * 1000;
        if (lease - 2 * settle - 1000 < 2 * (lease / 5)) {
            throw new dev.sparkvit.config.ConfigException(subject.leaseKey() + " = " + leaseSeconds + " is too short "
                    + "for " + subject.settleKey() + " = " + text + ": on an object store the lease is refreshed at "
                    + "the latest two settle delays and 1 s before it ends, so it must be at least 5 settle delays "
                    + "and 2.5 s long");
        }
        return settle;
    }
}
