package dev.sparkvit.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The configuration reference (docs/CONFIG.md): for each shipped job file, every key its reader accepts, with type,
 * allowed values, default and description taken from the reader ({@link KeyLog}: a key's {@link Setting} declares
 * its description; a key without one is described by its comment in the shipped file), and the shipped value taken
 * from the file or the fragment it includes. Generated, so it cannot drift from the code; a test compares it with the
 * doc.
 */
public final class ConfigReference {
    /**
     * One job file: {@code sets} are the overrides needed to read it where its paths do not exist (they change no
     * documented value: values and comments come from the file as shipped).
     */
    public record Job(String title, Path file, List<String> sets, Consumer<YamlConfig> reader) {
    }

    private ConfigReference() {
    }

    public static String markdown(List<Job> jobs) {
        StringBuilder out = new StringBuilder();
        for (Job job : jobs) {
            YamlConfig shipped = YamlConfig.load(job.file());
            KeyLog log = new KeyLog();
            job.reader().accept(shipped.with(job.sets()).loggingKeysTo(log));
            out.append("### ").append(job.title()).append("\n\n");
            out.append("| key | type | allowed | default | shipped | description |\n");
            out.append("|---|---|---|---|---|---|\n");
            for (KeyLog.Entry entry : log.entries()) {
                YamlConfig.Value value = shipped.find(entry.key());
                boolean section = value != null && value.value() instanceof Map;
                if (section) {
                    continue;
                }
                out.append("| `").append(entry.key()).append("` | ").append(entry.type()).append(" | ")
                        .append(cell(entry.allowed())).append(" | ")
                        .append(entry.fallback() == null ? "required" : cell(entry.fallback())).append(" | ")
                        .append(value == null ? "" : cell(shippedText(value, job.file()))).append(" | ")
                        .append(cell(description(log, entry.key(), value))).append(" |\n");
            }
            out.append('\n');
        }
        return out.toString();
    }

    /** The key's declared description ({@link Setting#doc}); for a key with none, its comment in the shipped file. */
    private static String description(KeyLog log, String key, YamlConfig.Value value) {
        String doc = log.doc(key);
        if (doc != null) {
            return doc;
        }
        return value == null ? "" : comment(value, key);
    }

    /** The shipped value, and the fragment it comes from when not the job file itself. */
    private static String shippedText(YamlConfig.Value value, Path jobFile) {
        String text = text(value.value());
        Path origin = Path.of(value.origin());
        if (!origin.normalize().equals(jobFile.normalize())) {
            Path base = jobFile.toAbsolutePath().normalize().getParent();
            text += " (" + base.relativize(origin.toAbsolutePath().normalize()) + ")";
        }
        return text;
    }

    private static String text(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof List<?> items) {
            List<String> parts = new ArrayList<>();
            items.forEach(item -> parts.add(text(item instanceof YamlConfig.Value v ? v.value() : item)));
            return "[" + String.join(", ", parts) + "]";
        }
        return String.valueOf(value);
    }

    /**
     * The comment at the end of the key's line, with the comment-only lines below it that start in the same column
     * (the way conf/*.yaml continues a description); or, when the line has none, the comment-only lines below it that
     * are indented past the key.
     */
    static String comment(YamlConfig.Value value, String key) {
        if (value.line() <= 0) {
            return "";
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of(value.origin()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + value.origin(), e);
        }
        int index = value.line() - 1;
        String name = key.substring(key.lastIndexOf('.') + 1) + ":";
        if (!lines.get(index).contains(name) && index > 0 && lines.get(index - 1).contains(name)) {
            index--; // a block list starts on the line below its key
        }
        String first = lines.get(index);
        int column = first.indexOf(" #") + 1;
        StringBuilder text = new StringBuilder();
        if (column > 0) {
            text.append(first.substring(column + 1).trim());
        } else if (index + 1 < lines.size() && lines.get(index + 1).trim().startsWith("#")
                && lines.get(index + 1).indexOf('#') > first.indexOf(':')) {
            column = lines.get(index + 1).indexOf('#'); // indented past the key: its description, not a heading
        } else {
            return "";
        }
        for (int i = index + 1; i < lines.size(); i++) {
            String next = lines.get(i);
            if (next.indexOf('#') != column || !next.substring(0, column).isBlank()) {
                break;
            }
            text.append(text.length() == 0 ? "" : " ").append(next.substring(column + 1).trim());
        }
        return text.toString();
    }

    private static String cell(String text) {
        return text.replace("|", "\\|").replace("\n", " ");
    }
}
