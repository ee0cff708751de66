package dev.sparkvit.lock;

import dev.sparkvit.storage.Locations;
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
 * The lock of one run on a folder it changes (a model registry, a dataset): the file {@code FOLDER/.lock}, which
 * exists while a run holds it; what the folder is and which runs take its lock is the {@link LockSubject}. It
 * appears atomically with its content (written to a temporary file, then hard-linked to the lock's name, which fails
 * when the lock exists), so a reader never sees it empty or partial. It names its holder ({@link LockHolder}).
 *
 * <p>A lock left by a run that was killed is taken over only when its holder is provably dead: same host, same
 * boot, same PID namespace, and its process gone (or its PID reused by a process that started later). The take-over
 * is serialised by an operating-system lock on {@code .lock.takeover} (released by the kernel even if its holder
 * dies) and re-reads the lock before deleting it, so two runs can never both take over. Any other lock (held by a
 * live run, by another host, or holding text sparkvit did not write) is left alone; the run stops at once.
 *
 * <p>That is the lock of a local folder. On HDFS, where a PID on another host cannot be checked, the lock is a
 * lease kept by a heartbeat ({@link LeasedLock}); this class wraps either. Object stores have no atomic
 * create-if-absent. On S3 (s3a://, {@link Locations#OBJECT_STORE_SCHEMES}), which is strongly consistent and
 * replaces an object atomically with one PUT, a subject that allows it ({@link LockSubject#allowsObjectStore()}: a dataset, not
 * the registry) takes the same leased lock by "write, settle, verify" ({@link LeasedLock#writeSettleVerify}): exactly
 * one winner as long as every write of the lock file completes within the settle delay ({@link
 * LockSubject#settleKey()}). Every other object store, and any other unknown scheme, is refused ({@link
 * #checkLocation}).
 */
public final class FolderLock implements AutoCloseable {
    /** The lock file's name in the folder. */
    public static final String FILE = ".lock";
    /** Schemes whose Hadoop file systems create a file only if absent and rename atomically (one NameNode call). */
    public static final java.util.List<String> ATOMIC_SCHEMES = java.util.List.of("hdfs", "viewfs");
    private static final Logger LOG = LoggerFactory.getLogger(FolderLock.class);
    private static final Object TAKEOVER = new Object(); // the OS lock is per process; threads queue here first

    private final LockSubject subject;
    /** Whether taking the lock created the folder: released, the lock then removes it again if it is empty. */
    private final boolean madeFolder;
    private final Path file;
    private final String content;
    private final LeasedLock leased;
    private final String folder;

    private FolderLock(LockSubject subject, Path file, String content, boolean madeFolder) {
        this.madeFolder = madeFolder;
        this.subject = subject;
        this.file = file;
        this.content = content;
        this.leased = null;
        this.folder = file.getParent().toString();
    }

    private FolderLock(LockSubject subject, LeasedLock leased, String folder) {
        this.madeFolder = false;
        this.subject = subject;
        this.file = null;
        this.content = null;
        this.leased = leased;
        this.folder = folder;
    }

    /**
     * Takes the lock of the folder at {@code location}: a local path (or {@code file:} URI), a folder on a Hadoop
     * file system with atomic create-if-absent ({@link #ATOMIC_SCHEMES}), or, for a subject that allows it, on S3A
     * ({@link Locations#OBJECT_STORE_SCHEMES}: write, settle, verify), reached through {@code conf}.
     *
     * @param what how messages name the location when it cannot be locked ("--output")
     * @throws dev.sparkvit.config.ConfigException for an object store or another scheme ({@link #checkLocation})
     * @throws LockHeldException when another run holds it; nothing is changed
     */
    public static FolderLock acquire(LockSubject subject, String location, String what,
            org.apache.hadoop.conf.Configuration conf, Consumer<String> warn) {
        String scheme = checkLocation(subject, location, what);
        if (scheme == null) {
            Path local = Path.of(location.startsWith("file:") ? java.net.URI.create(location).getPath() : location)
                    .toAbsolutePath().normalize();
            return acquire(subject, local.resolve(FILE), warn);
        }
        long lease = LeasedLock.leaseSeconds(subject, conf); // settings first: a mistake costs no connection
        LeasedLock.Claim claim = Locations.OBJECT_STORE_SCHEMES.contains(scheme)
                ? LeasedLock.writeSettleVerify(LeasedLock.settleMillis(subject, conf, lease), subject.settleKey())
                : LeasedLock.ATOMIC_CREATE;
        try {
            org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(location);
            org.apache.hadoop.fs.FileSystem fs = path.getFileSystem(conf);
            String qualified = fs.makeQualified(path).toString();
            return new FolderLock(subject, LeasedLock.acquire(subject, fs, new org.apache.hadoop.fs.Path(qualified,
                    FILE), lease, claim, warn), qualified);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reach the " + subject.noun() + " " + location, e);
        }
    }

    /**
     * Checks that a folder whose lock is {@code subject}'s can live at {@code location}; returns its Hadoop scheme,
     * or null for a local path.
     *
     * @param what how the message names the setting ("FILE: registry", "--output")
     * @throws dev.sparkvit.config.ConfigException (one line, naming the setting and why) for a scheme without atomic
     *     create-if-absent and rename: the object stores (but S3A for a subject that {@link
     *     LockSubject#allowsObjectStore() allows it}), and any scheme not known to have both
     */
    public static String checkLocation(LockSubject subject, String location, String what) {
        int colon = location.indexOf(':');
        String scheme = colon > 1 && location.substring(0, colon).matches("[A-Za-z][A-Za-z0-9+.-]*")
                ? location.substring(0, colon).toLowerCase(java.util.Locale.ROOT) : null;
        if (scheme == null || scheme.equals("file")) {
            return null;
        }
        boolean objectStore = subject.allowsObjectStore() && Locations.OBJECT_STORE_SCHEMES.contains(scheme);
        if (!ATOMIC_SCHEMES.contains(scheme) && !objectStore) {
            boolean store = java.util.List.of("s3a", "s3", "s3n", "gs", "wasb", "wasbs", "abfs", "abfss", "oss",
                    "cos", "obs").contains(scheme);
            String why;
            if (!store) {
                why = scheme + ":// is not known to have an atomic rename and create-if-absent";
            } else if (!subject.allowsObjectStore()) {
                why = scheme + ":// is an object store: it has no atomic rename and (in Hadoop 3.2) no atomic "
                        + "create-if-absent";
            } else if (scheme.startsWith("s3")) {
                why = scheme + ":// is not S3A (Hadoop 3.2 has no " + scheme + ":// file system): write s3a://";
            } else {
                why = scheme + ":// is an object store without atomic create-if-absent in Hadoop 3.2, and the lock "
                        + "for object stores is verified only on S3 (s3a://)";
            }
            java.util.List<String> allowed = new java.util.ArrayList<>(ATOMIC_SCHEMES);
            if (subject.allowsObjectStore()) {
                allowed.addAll(Locations.OBJECT_STORE_SCHEMES);
            }
            throw new dev.sparkvit.config.ConfigException(what + " = " + dev.sparkvit.config.ConfigException
                    .shown(location) + " is not supported: " + subject.needs() + ", and " + why + ". Put the "
                    + subject.noun() + " in a local or shared folder, or on " + String.join(" or ",
                    allowed.stream().map(x -> x + "://").toList()));
        }
        return scheme;
    }

    /** The lock file of a local folder (null on a Hadoop file system: see {@link #location()}). */
    public Path file() {
        return file;
    }

    /** The lock file, as a local path or a Hadoop path. */
    public String location() {
        return leased != null ? leased.location() : file.toString();
    }

    /** The folder this lock is of (the local path, or the qualified Hadoop path). */
    public String folder() {
        return folder;
    }

    /** Takes the lock of a folder on a Hadoop file system ({@link LeasedLock}). */
    public static FolderLock acquire(LockSubject subject, org.apache.hadoop.fs.FileSystem fs,
            org.apache.hadoop.fs.Path file, String folder, long leaseSeconds, Consumer<String> warn) {
        return new FolderLock(subject, LeasedLock.acquire(subject, fs, file, leaseSeconds, warn), folder);
    }

    /** The lease from a Hadoop configuration ({@link LockSubject#leaseKey()}), checked. */
    public static long leaseSeconds(LockSubject subject, org.apache.hadoop.conf.Configuration conf) {
        return LeasedLock.leaseSeconds(subject, conf);
    }

    /** The state of a lock on a Hadoop file system as a status line. */
    public static String state(LockSubject subject, org.apache.hadoop.fs.FileSystem fs,
            org.apache.hadoop.fs.Path file) {
        return LeasedLock.state(subject, fs, file);
    }

    /**
     * Throws {@link LockHeldException} unless this run still holds the lock (on HDFS: its lease is current and the
     * lock file still its own; locally: the lock file is still its own). Called before each change to the folder.
     */
    public void ensureHeld() {
        if (leased != null) {
            leased.ensureHeld();
            return;
        }
        if (!content.equals(read(file))) {
            throw new LockHeldException("this run lost the " + subject.noun() + " lock " + file + ": the lock file "
                    + "was deleted or replaced; it changes nothing more in the " + subject.noun());
        }
    }

    /**
     * Takes the lock, taking over one whose holder is provably dead (reported through {@code warn}).
     *
     * @throws LockHeldException when another run holds it, or the lock file cannot be judged; nothing is changed
     */
    public static FolderLock acquire(LockSubject subject, Path file, Consumer<String> warn) {
        String mine = LockHolder.current().toJson(subject.command());
        Path tmp = file.resolveSibling(file.getFileName() + "." + ProcessHandle.current().pid() + "."
                + System.nanoTime() + ".tmp");
        try {
            boolean madeFolder = !Files.isDirectory(file.getParent());
            for (int tries = 0; ; tries++) {
                Files.createDirectories(file.getParent());
                try {
                    Files.writeString(tmp, mine, StandardCharsets.UTF_8);
                    break;
                } catch (NoSuchFileException e) { // the empty folder removed meanwhile by a run releasing its lock
                    if (tries >= 3) {
                        throw e;
                    }
                }
            }
            for (int attempt = 0; ; attempt++) {
                if (create(file, tmp, mine)) {
                    return new FolderLock(subject, file, mine, madeFolder);
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
                            warn.accept("took over the " + subject.noun() + " lock " + file + " of "
                                    + subject.aRun() + " that is no longer running (" + holder.get().describe() + ")");
                        }
                        continue;
                    }
                }
                throw held(subject, file, text, holder);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the " + subject.noun() + " lock " + file, e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                LOG.warn("cannot delete {}: {}", tmp, e.toString());
            }
        }
    }

    /** The state of a local lock as a status line. */
    public static String state(LockSubject subject, Path file) {
        String text = read(file);
        if (text == null) {
            return "not locked";
        }
        Optional<LockHolder> holder = LockHolder.parse(text);
        if (holder.isEmpty()) {
            return held(subject, file, text, holder).getMessage();
        }
        return holder.get().provablyDead() ? "locked by " + subject.aRun() + " that is no longer running ("
                + holder.get().describe() + "); the next run takes the lock over"
                : "locked by " + subject.aRun() + " (" + holder.get().describe() + ")";
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
            LOG.warn("the {} lock {} is no longer this run's ({}); left as it is", subject.noun(), file,
                    now == null ? "deleted" : now.trim());
            return;
        }
        try {
            Files.deleteIfExists(file);
            if (madeFolder && subject.tidy()) {
                try {
                    Files.delete(file.getParent()); // a run that wrote nothing leaves no empty folder behind
                } catch (IOException notEmpty) {
                    // written to, or another run's lock in it: kept
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release the " + subject.noun() + " lock " + file, e);
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
                LOG.warn("cannot take over the lock {}: {}", file, e.toString());
                return null;
            }
        }
    }

    private static LockHeldException held(LockSubject subject, Path file, String text,
            Optional<LockHolder> holder) {
        String who;
        if (holder.isPresent()) {
            who = "is locked by another " + subject.runs() + " (" + holder.get().describe() + ")";
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
        return new LockHeldException(subject.noun() + " " + file.getParent() + " " + who + "; this run "
                + "changed nothing. If no " + subject.runs() + " is active, delete " + file + " (a lock left by a "
                + "run killed on this "
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
