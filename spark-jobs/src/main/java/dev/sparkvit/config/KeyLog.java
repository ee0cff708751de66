package dev.sparkvit.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The keys a config reader asked for, in reading order, each with its type, default and allowed values: what the
 * reader accepts, taken from the reader itself (the configuration reference in docs/CONFIG.md is made from it).
 */
public final class KeyLog {
    /**
     * One key: {@code fallback} is the default as text (null: required); {@code allowed} the range or choices.
     */
    public record Entry(String key, String type, String fallback, String allowed) {
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();

    void note(String key, String type, String fallback, String allowed) {
        entries.putIfAbsent(key, new Entry(key, type, fallback, allowed));
    }

    public List<Entry> entries() {
        return new ArrayList<>(entries.values());
    }
}
