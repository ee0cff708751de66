package dev.sparkvit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * DLlib's Scala idioms (field setters such as {@code output_$eq}, the {@code parameters()} tuple, Scala collections)
 * stay inside {@code dev.sparkvit.engine}, the adapter package: the product's other sources call the engine's Java
 * methods ({@code FloatContainer.setOutput}, {@code FloatModule.weight}, {@code Layers.children}, ...).
 */
class EngineBoundaryTest {
    /** The idioms, as they appear in Java source. */
    static final Pattern IDIOM = Pattern.compile(
            "_\\$eq\\(|\\bparameters\\(\\)\\._[12]\\(\\)|getParameters\\(\\)\\._[12]\\(\\)|\\bscala\\.collection\\.");

    /** Lines of the product's Java sources outside the engine package that use an idiom, as "file:line: text". */
    static List<String> leaks(Path... roots) throws IOException {
        List<String> found = new ArrayList<>();
        for (Path root : roots) {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                    if (root.relativize(file).startsWith(Path.of("dev", "sparkvit", "engine"))) {
                        continue;
                    }
                    List<String> lines = Files.readAllLines(file);
                    for (int i = 0; i < lines.size(); i++) {
                        if (IDIOM.matcher(lines.get(i)).find()) {
                            found.add(root.relativize(file) + ":" + (i + 1) + ": " + lines.get(i).strip());
                        }
                    }
                }
            }
        }
        return found;
    }

    @Test
    void noEngineIdiomOutsideTheEnginePackage() throws IOException {
        Path model = Path.of("../model/src/main/java");
        Path jobs = Path.of("src/main/java");
        assertTrue(Files.isDirectory(model.resolve("dev/sparkvit/engine")) && Files.isDirectory(jobs.resolve(
                "dev/sparkvit/jobs")), "the sources are not where the build runs this test");
        assertEquals(List.of(), leaks(model, jobs));
    }

    @Test
    void anIdiomIsFound(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        Path vit = Files.createDirectories(tmp.resolve("dev/sparkvit/model/vit"));
        Files.writeString(vit.resolve("Block.java"), "class Block {\n    void f() {\n        output_$eq(x);\n"
                + "        Tensor w = leaf.parameters()._1()[0];\n        scala.collection.Iterator it = null;\n"
                + "        int ok = pair._1();\n    }\n}\n");
        Path engine = Files.createDirectories(tmp.resolve("dev/sparkvit/engine"));
        Files.writeString(engine.resolve("FloatContainer.java"), "class FloatContainer {\n    void f() {\n"
                + "        output_$eq(x);\n    }\n}\n");
        assertEquals(List.of("dev/sparkvit/model/vit/Block.java:3: output_$eq(x);",
                "dev/sparkvit/model/vit/Block.java:4: Tensor w = leaf.parameters()._1()[0];",
                "dev/sparkvit/model/vit/Block.java:5: scala.collection.Iterator it = null;"), leaks(tmp));
    }
}
