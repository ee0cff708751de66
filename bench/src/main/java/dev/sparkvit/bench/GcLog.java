package dev.sparkvit.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JVM's heap use read from its unified GC log ({@code -Xlog:gc:file=...}): each collection's line ends
 * {@code BEFORE->AFTER(COMMITTED)} ({@code 301M->12M(512M)}). The peak used heap is the largest BEFORE; the peak live
 * heap, the largest AFTER, is what the JVM still held once garbage was collected.
 */
public record GcLog(int collections, double peakUsedMb, double peakLiveMb, double peakCommittedMb) {
    private static final Pattern SIZES = Pattern.compile("(\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)([KMG])\\)");

    /** The figures of a log; every figure 0 when the JVM never collected. */
    public static GcLog read(Path log) {
        try {
            return parse(Files.readString(log));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read GC log " + log, e);
        }
    }

    static GcLog parse(String text) {
        int n = 0;
        double used = 0;
        double live = 0;
        double committed = 0;
        Matcher m = SIZES.matcher(text);
        while (m.find()) {
            n++;
            used = Math.max(used, mb(m.group(1), m.group(2)));
            live = Math.max(live, mb(m.group(3), m.group(4)));
            committed = Math.max(committed, mb(m.group(5), m.group(6)));
        }
        return new GcLog(n, used, live, committed);
    }

    private static double mb(String value, String unit) {
        double v = Double.parseDouble(value);
        return switch (unit) {
            case "K" -> v / 1024;
            case "G" -> v * 1024;
            default -> v;
        };
    }
}
