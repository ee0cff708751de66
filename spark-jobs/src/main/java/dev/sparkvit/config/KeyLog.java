package dev.sparkvit.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The keys a config reader asked for, in reading order, each with its type, default and allowed values: what the
 * reader accepts, taken from the reader itself, and the description its {@link Setting} declares (the configuration
 * reference in docs/CONFIG.md is made from it).
 */
public final class KeyLog {
    /**
     * One key: {@code fallback} is the default as text (null: required); {@code allowed} the range or choices.
     */
    public record Entry(String key, String type, String fallback, String allowed) {
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, String> docs = new LinkedHashMap<>();

    void note(String key, String type, String fallback, String allowed) {
        entries.putIfAbsent(key, new Entry(key, type, fallback, allowed));
    }

    /** Notes the declared one-line description of {@code key} ({@link Setting#doc}). */
    void document(String key, String doc) {
        docs.putIfAbsent(key, doc);
    }

    /** The declared description of {@code key}, or null when its setting declares none. */
    public String doc(String key) {
        return docs.get(key);
    }

    public List<Entry> entries() {
        return new ArrayList<>(entries.values());
    }
}
