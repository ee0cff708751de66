package dev.sparkvit.jobs.retrain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lock of one retrain run on a registry: the file {@code REGISTRY/.lock}, which exists while a run holds it. It
 * appears atomically with its content (written to a temporary file, then hard-linked to the lock's name, which fails
 * when the lock exists), so a reader never sees it empty or partial. It names its holder ({@link LockHolder}).
 *
 * <p>A lock left by a run that was killed is taken over only when its holder is provably dead: same host, same
 * boot, same PID namespace, and its process gone (or its PID reused by a process that started later). The take-over
 * is serialised by an operating-system lock on {@code .lock.takeover} (released by the kernel even if its holder
 * dies) and re-reads the lock before deleting it, so two runs can never both take over. Any other lock (held by a
 * live run, by another host, or holding text sparkvit did not write) is left alone; the run stops at once.
 *
 * <p>That is the lock of a local registry. On HDFS, where a PID on another host cannot be checked, the lock is a
 * lease kept by a heartbeat ({@link LeasedLock}); this class wraps either.
 */
public final class RegistryLock implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryLock.class);
    private static final Object TAKEOVER = new Object(); // the OS lock is per process; threads queue here first

    private final Path file;
    private final String content;
    private final LeasedLock leased;
    private final String registry;

    private RegistryLock(Path file, String content) {
        this.file = file;
        this.content = content;
        this.leased = null;
        this.registry = file.getParent().toString();
    }

    private RegistryLock(LeasedLock leased, String registry) {
        this.file = null;
        this.content = null;
        this.leased = leased;
        this.registry = registry;
    }

    /** The lock file of a local registry (null on a Hadoop file system: see {@link #location()}). */
    public Path file() {
        return file;
    }

    /** The lock file, as a local path or a Hadoop path. */
    public String location() {
        return leased != null ? leased.location() : file.toString();
    }

    /** The registry this lock is of (as {@link ModelRegistry#location()} shows it). */
    public String registry() {
        return registry;
    }

    /** Takes the lock of a registry on a Hadoop file system ({@link LeasedLock}). */
    static RegistryLock acquire(org.apache.hadoop.fs.FileSystem fs, org.apache.hadoop.fs.Path file, String registry,
            long leaseSeconds, Consumer<String> warn) {
        return new RegistryLock(LeasedLock.acquire(fs, file, leaseSeconds, warn), registry);
    }

    /**
     * Throws {@link LockHeldException} unless this run still holds the lock (on HDFS: its lease is current and the
     * lock file still its own; locally: the lock file is still its own). Called before each change to the registry.
     */
    public void ensureHeld() {
        if (leased != null) {
            leased.ensureHeld();
            return;
        }
        if (!content.equals(read(file))) {
            throw new LockHeldException("this run lost the registry lock " + file + ": the lock file was deleted "
                    + "or replaced; it changes nothing more in the registry");
        }
    }

    /**
     * Takes the lock, taking over one whose holder is provably dead (reported through {@code warn}).
     *
     * @throws LockHeldException when another run holds it, or the lock file cannot be judged; nothing is changed
     */
    static RegistryLock acquire(Path file, Consumer<String> warn) {
        String mine = LockHolder.current().toJson();
        Path tmp = file.resolveSibling(file.getFileName() + "." + ProcessHandle.current().pid() + "."
                + System.nanoTime() + ".tmp");
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(tmp, mine, StandardCharsets.UTF_8);
            for (int attempt = 0; ; attempt++) {
                if (create(file, tmp, mine)) {
                    return new RegistryLock(file, mine);
                }
                String text = read(file);
                if (text == null && attempt < 100) {
                    continue; // released between our attempt and the read: try again
                }
                Optional<LockHolder> holder = LockHolder.parse(text);
                if (attempt < 3 && holder.isPresent() && holder.get().provablyDead()) {
                    Boolean deleted = takeOver(file, text);
                    if (deleted != null) {
                        if (deleted) { // only the run that deleted the dead run's lock says so
                            warn.accept("took over the registry lock " + file + " of a retrain run that is no "
                                    + "longer running (" + holder.get().describe() + ")");
                        }
                        continue;
                    }
                }
                throw held(file, text, holder);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the registry lock " + file, e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                LOG.warn("cannot delete {}: {}", tmp, e.toString());
            }
        }
    }

    /** The state of a registry's lock as a status line. */
    static String state(Path file) {
        String text = read(file);
        if (text == null) {
            return "not locked";
        }
        Optional<LockHolder> holder = LockHolder.parse(text);
        if (holder.isEmpty()) {
            return held(file, text, holder).getMessage();
        }
        return holder.get().provablyDead() ? "locked by a retrain run that is no longer running ("
                + holder.get().describe() + "); the next run takes the lock over"
                : "locked by a retrain run (" + holder.get().describe() + ")";
    }

    /** Releases the lock if it is still this run's (a lock someone deleted and another run took is left alone). */
    @Override
    public void close() {
        if (leased != null) {
            leased.close();
            return;
        }
        String now = read(file);
        if (!content.equals(now)) {
            LOG.warn("the registry lock {} is no longer this run's ({}); left as it is", file,
                    now == null ? "deleted" : now.trim());
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release the registry lock " + file, e);
        }
    }

    /** Creates the lock with its content in one step; false when it exists. */
    private static boolean create(Path file, Path tmp, String content) throws IOException {
        try {
            Files.createLink(file, tmp);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (UnsupportedOperationException | FileSystemException e) {
            // no hard links here: create the file atomically, then write it (a reader may see it empty meanwhile)
            try {
                Files.writeString(Files.createFile(file), content, StandardCharsets.UTF_8);
                return true;
            } catch (FileAlreadyExistsException held) {
                return false;
            }
        }
    }

    /**
     * Deletes the stale lock if it still holds {@code stale}, under the take-over lock: true when this run deleted it,
     * false when another run took it over meanwhile, null when it cannot.
     */
    private static Boolean takeOver(Path file, String stale) {
        Path guard = file.resolveSibling(file.getFileName() + ".takeover");
        synchronized (TAKEOVER) {
            try (FileChannel channel = FileChannel.open(guard, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock ignored = channel.lock()) {
                String now = read(file);
                if (now == null) {
                    return false; // another run took over and released it already: try to create it
                }
                if (!now.equals(stale)) {
                    return false; // another run took over: look at the new holder
                }
                Files.delete(file);
                return true;
            } catch (IOException e) {
                LOG.warn("cannot take over the registry lock {}: {}", file, e.toString());
                return null;
            }
        }
    }

    private static LockHeldException held(Path file, String text, Optional<LockHolder> holder) {
        String who;
        if (holder.isPresent()) {
            who = "is locked by another retrain run (" + holder.get().describe() + ")";
        } else if (text == null) {
            who = "could not be locked (" + file + " kept appearing and disappearing)";
        } else {
            String modified;
            try {
                modified = LockHolder.age(Duration.between(Files.getLastModifiedTime(file).toInstant(),
                        Instant.now())) + " ago";
            } catch (IOException e) {
                modified = "unknown";
            }
            who = "is locked: " + file.getFileName() + " holds " + shown(text) + ", not a lock this version of "
                    + "sparkvit wrote (last modified " + modified + ")";
        }
        return new LockHeldException("registry " + file.getParent() + " " + who + "; this run changed "
                + "nothing. If no retrain run is active, delete " + file + " (a lock left by a run killed on this "
                + "host is taken over by the next run by itself)");
    }

    /** The lock file's text, or null when there is none. */
    private static String read(Path file) {
        try {
            // as bytes: a damaged lock may not be valid UTF-8
            return Files.size(file) > 4096 ? "(" + Files.size(file) + " bytes)"
                    : new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static String shown(String text) {
        String line = text.trim().replaceAll("[^\\x20-\\x7e]", "?");
        return "'" + (line.length() <= 120 ? line : line.substring(0, 120) + "...") + "'";
    }
}
