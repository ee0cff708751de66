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
