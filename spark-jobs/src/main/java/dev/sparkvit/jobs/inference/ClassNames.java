package dev.sparkvit.jobs.inference;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkvit.config.ConfigException;
import java.nio.file.Path;
import java.util.List;

/** Class names as the JSON list a weights file's metadata records. */
final class ClassNames {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ClassNames() {
    }

    static String format(List<String> classes) {
        try {
            return JSON.writeValueAsString(classes);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write class names", e);
        }
    }

    /** Class names from a text file, one a line (blank lines and surrounding spaces ignored), in index order. */
    static List<String> read(Path file) {
        String problem = dev.sparkvit.config.PathChecks.notAFile(file);
        if (problem != null) {
            throw new ConfigException("--classes " + file + " " + problem);
        }
        List<String> classes = new java.util.ArrayList<>();
        try {
            if (java.nio.file.Files.size(file) > (16L << 20)) {
                throw new ConfigException("--classes " + file + " is larger than 16 MiB: not a list of class names");
            }
            for (String line : java.nio.file.Files.readAllLines(file, java.nio.charset.StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    classes.add(line.strip());
                }
            }
        } catch (java.nio.charset.MalformedInputException e) {
            throw new ConfigException("--classes " + file + " is not UTF-8 text (one class name a line)");
        } catch (java.io.IOException e) {
            throw new ConfigException("--classes " + file + " cannot be read: " + e.getMessage());
        }
        if (classes.isEmpty()) {
            throw new ConfigException("--classes " + file + " holds no class names (one a line)");
        }
        return classes;
    }

    static List<String> parse(String text, Path file) {
        try {
            List<String> classes = JSON.readValue(text, new TypeReference<List<String>>() { });
            if (classes == null || classes.isEmpty()) {
                throw new ConfigException(file + ": metadata 'classes' is empty");
            }
            return classes;
        } catch (JsonProcessingException e) {
            throw new ConfigException(file + ": metadata 'classes' is not a JSON list of names: " + text);
        }
    }
}
