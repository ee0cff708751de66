package dev.sparkvit.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sparkvit.storage.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes one benchmark's measurements as JSON, in the schema bench/report.py merges into bench/results.json:
 * {@code {"benchmark": ..., "source": "sparkvit", "notes": {...}, "measurements": [{name, impl, threads, unit,
 * params, samples, median}]}}.
 */
public final class BenchResults {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private BenchResults() {
    }

    public static String toJson(String benchmark, Map<String, Object> notes, List<Measurement> measurements) {
        ObjectNode root = JSON.createObjectNode();
        root.put("benchmark", benchmark);
        root.put("source", "sparkvit");
        root.set("notes", JSON.valueToTree(notes));
        ArrayNode list = root.putArray("measurements");
        for (Measurement m : measurements) {
            ObjectNode node = list.addObject();
            node.put("name", m.name());
            node.put("impl", m.impl());
            node.put("threads", m.threads());
            node.put("unit", m.unit());
            node.set("params", JSON.valueToTree(m.params()));
            ArrayNode samples = node.putArray("samples");
            for (double s : m.samples()) {
                samples.add(s);
            }
            node.put("median", m.median());
        }
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise benchmark " + benchmark, e);
        }
    }

    /** Writes the JSON atomically (temporary file, then rename). */
    public static void write(Path file, String benchmark, Map<String, Object> notes, List<Measurement> measurements) {
        byte[] bytes = toJson(benchmark, notes, measurements).getBytes(StandardCharsets.UTF_8);
        try {
            AtomicFiles.write(file, tmp -> Files.write(tmp, bytes));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write benchmark results " + file, e);
        }
    }
}
