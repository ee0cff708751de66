package dev.sparkvit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sparkvit.data.SyntheticImageFolder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dataset of the folder format (manifest.json, images/: before issue 22) is refused by {@code ingest
 * --incremental} and by a training command with one line naming {@code sparkvit migrate}, exit 2, before Spark
 * starts (the migration itself: DatasetMigrationTest).
 */
class MigrateCommandTest {

    private static String refusal(String... args) {
        StringWriter err = new StringWriter();
        picocli.CommandLine cli = Main.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        int code = cli.execute(args);
        String text = err.toString().trim();
        assertEquals(ExitCodes.BAD_INPUT, code, text);
        assertEquals(1, text.lines().count(), text);
        return text;
    }

    @Test
    void aFolderFormatDatasetIsRefusedWithOneLineNamingTheMigrateCommand(@TempDir Path tmp) throws Exception {
        Path raw = tmp.resolve("raw");
        new SyntheticImageFolder(12, 1, 1).writeTo(raw);
        Path old = Files.createDirectories(tmp.resolve("old").resolve("images"));
        Files.writeString(old.resolveSibling("manifest.json"), "{}");
        Path dataset = old.getParent();
        assertEquals("sparkvit: dataset " + dataset + " is in the folder format of an earlier sparkvit (manifest.json, "
                + "images/); migrate it once into a table with: sparkvit migrate --dataset " + dataset,
                refusal("ingest", "--input", raw.toString(), "--output", dataset.toString(), "--incremental"));
        String pretrain = refusal("pretrain", "--config", Path.of("..", "conf", "pretrain.yaml").toString(), "--set",
                "data.dataset=" + dataset, "--set", "output_dir=" + tmp.resolve("out"));
        assertEquals(true, pretrain.endsWith("is in the folder format of an earlier sparkvit; migrate it once into a "
                + "table with: sparkvit migrate --dataset " + dataset), pretrain);
    }
}
