package dev.sparkvit.lock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * Who holds a lock ({@link FolderLock}), as the run that took it wrote it into the lock file (one JSON line):
 * process id, host name, and the identity of the machine's boot, PID namespace and process start, which together
 * tell whether that process is provably dead.
 *
 * @param pid process id of the holder
 * @param host host name
 * @param bootId Linux {@code /proc/sys/kernel/random/boot_id} (null when unknown)
 * @param pidNamespace Linux {@code /proc/self/ns/pid} link target (null when unknown)
 * @param startTicks the process start in clock ticks after boot, field 22 of {@code /proc/PID/stat} (-1 when
 *     unknown); with the boot id it identifies the process even when its PID is reused
 * @param since when the lock was taken
 */
public record LockHolder(long pid, String host, String bootId, String pidNamespace, long startTicks, Instant since) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** This process. */
    public static LockHolder current() {
        long pid = ProcessHandle.current().pid();
        return new LockHolder(pid, hostName(), proc("/proc/sys/kernel/random/boot_id"), currentPidNamespace(),
                ticksOf(pid), Instant.now());
    }

    /** The lock file's content, for a lock taken by {@code command}. */
    public String toJson(String command) {
        ObjectNode node = JSON.createObjectNode();
        node.put("pid", pid).put("host", host).put("boot_id", bootId).put("pid_namespace", pidNamespace)
                .put("start_ticks", startTicks).put("since", since.toString()).put("command", command);
        return node.toString() + "\n";
    }

    /** The holder a lock file's text names, or empty when the text is not a lock sparkvit wrote. */
    public static Optional<LockHolder> parse(String text) {
        try {
            JsonNode node = JSON.readTree(text);
            if (node == null || !node.isObject() || !node.path("pid").canConvertToLong()
                    || !node.path("host").isTextual() || !node.path("since").isTextual()) {
                return Optional.empty();
            }
            return Optional.of(new LockHolder(node.get("pid").asLong(), node.get("host").asText(),
                    textOrNull(node.get("boot_id")), textOrNull(node.get("pid_namespace")),
                    node.path("start_ticks").asLong(-1), Instant.parse(node.get("since").asText())));
        } catch (IOException | DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether the holder is provably dead: it ran on this machine during this boot in this PID namespace, and no
     * process with its PID exists now, or the one that does started at another time (the PID was reused). Anything
     * not known for sure (another host, a container with its own PIDs, a system without /proc) counts as alive.
     */
    public boolean provablyDead() {
        LockHolder self = current();
        if (bootId == null || pidNamespace == null || self.bootId == null || self.pidNamespace == null
                || !host.equals(self.host) || !bootId.equals(self.bootId) || !pidNamespace.equals(self.pidNamespace)) {
            return false;
        }
        if (ProcessHandle.of(pid).isEmpty() && !Files.exists(Path.of("/proc/" + pid))) {
            return true;
        }
        long now = ticksOf(pid);
        return startTicks >= 0 && now >= 0 && now != startTicks;
    }

    /** How the holder reads in a message: process, host, since when and for how long. */
    public String describe() {
        return "pid " + pid + " on " + host + ", since " + since + " (" + age(Duration.between(since, Instant.now()))
                + " ago)";
    }

    public static String age(Duration age) {
        long s = Math.max(0, age.getSeconds());
        return s >= 3600 ? s / 3600 + " h " + s % 3600 / 60 + " min" : s >= 60 ? s / 60 + " min " + s % 60 + " s"
                : s + " s";
    }

    private static String textOrNull(JsonNode node) {
        return node == null || node.isNull() ? null : node.asText();
    }

    private static String hostName() {
        String name = proc("/proc/sys/kernel/hostname");
        if (name == null) {
            try {
                name = java.net.InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                name = "unknown";
            }
        }
        return name;
    }

    private static String currentPidNamespace() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** Field 22 of /proc/PID/stat (start time in clock ticks after boot), or -1 when unknown. */
    static long ticksOf(long pid) {
        String stat = proc("/proc/" + pid + "/stat");
        if (stat == null || stat.lastIndexOf(')') < 0) {
            return -1;
        }
        // the command name (field 2) is in parentheses and may hold spaces; field 3 follows the last ')'
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        try {
            return fields.length > 19 ? Long.parseLong(fields[19]) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String proc(String file) {
        try {
            return Files.readString(Path.of(file), StandardCharsets.UTF_8).trim();
        } catch (IOException | SecurityException e) {
            return null;
        }
    }
}
