package dev.sparkvit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.table.PlantedDatasets;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Mistakes a user makes with paths and options (issue 20, defect 4) end in exit code 2 and one {@code sparkvit:}
 * line naming the path, option or key, decided before Spark starts: no stack trace, no work thrown away.
 */
class UserMistakesTest {
    private static final Path CONF = Path.of("..", "conf").toAbsolutePath().normalize();

    @TempDir
    static Path tmp;
    private static Path raw;
    private static Path emptyDataset;
    private static Path aFile;
    private static Path counted;

    @BeforeAll
    static void plant() throws Exception {
        raw = tmp.resolve("raw");
        new SyntheticImageFolder(16, 2, 7).writeTo(raw);
        // what ingest writes for an empty input folder
        emptyDataset = PlantedDatasets.plant(tmp.resolve("empty-dataset"), "{\"stored_size\":32,\"labelled\":true,"
                + "\"classes\":[],\"images\":0,\"counts\":{},\"channel_mean\":[0,0,0],\"channel_std\":[0,0,0],"
                + "\"quarantined_by_reason\":{},\"duplicates\":0,\"last_run\":null}", java.util.List.of());
        // a manifest that counts training images (the checks before Spark read no shard)
        counted = PlantedDatasets.plant(tmp.resolve("counted-dataset"), "{\"stored_size\":32,\"labelled\":true,"
                + "\"classes\":[\"a\"],\"images\":3,\"counts\":{\"a\":{\"train\":3}},\"channel_mean\":[0,0,0],"
                + "\"channel_std\":[1,1,1],\"quarantined_by_reason\":{},\"duplicates\":0,\"last_run\":null}",
                java.util.List.of("a"));
        aFile = Files.writeString(tmp.resolve("a-file"), "not a folder");
    }

    private static void assertOneLine(String what, String[] args, String... fragments) {
        StringWriter err = new StringWriter();
        CommandLine commandLine = Main.commandLine();
        commandLine.setErr(new PrintWriter(err, true));
        commandLine.setOut(new PrintWriter(new StringWriter(), true));
        int code = commandLine.execute(args);
        String text = err.toString().trim();
        assertEquals(ExitCodes.BAD_INPUT, code, what + ": " + text);
        assertTrue(text.startsWith("sparkvit: "), what + ": " + text);
        assertEquals(1, text.lines().count(), what + ": one line, no stack trace: " + text);
        for (String fragment : fragments) {
            assertTrue(text.contains(fragment), what + ": '" + fragment + "' in: " + text);
        }
    }

    private static String[] pretrain(String... sets) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("pretrain", "--config",
                CONF.resolve("pretrain.yaml").toString(), "--set", "training.epochs=1",
                "--set", "training.warmup_epochs=0"));
        for (String set : sets) {
            args.add("--set");
            args.add(set);
        }
        return args.toArray(String[]::new);
    }

    @Test
    void pretrainOnARawImageFolderSaysItIsNoDataset() {
        assertOneLine("raw folder", pretrain("data.dataset=" + raw, "output_dir=" + tmp.resolve("p1")),
                "data.dataset", raw.toString(), "manifest.json", "sparkvit ingest");
    }

    @Test
    void pretrainOnADatasetWithoutImagesSaysSo() {
        assertOneLine("0 images", pretrain("data.dataset=" + emptyDataset, "output_dir=" + tmp.resolve("p2")),
                "data.dataset", emptyDataset.toString(), "no training images");
    }

    @Test
    void pretrainIntoAnOutputThatIsAFileNamesIt() {
        assertOneLine("output_dir a file", pretrain("data.dataset=" + counted, "output_dir=" + aFile),
                "output_dir", aFile.toString());
    }

    @Test
    void pairsOnAMissingOrEmptyDatasetSaysWhich() {
        assertOneLine("missing", new String[] {"pairs", "--dataset", tmp.resolve("nope").toString(), "--output",
                tmp.resolve("p.png").toString()}, "--dataset", "nope", "does not exist");
        assertOneLine("empty", new String[] {"pairs", "--dataset", emptyDataset.toString(), "--output",
                tmp.resolve("p.png").toString()}, "--dataset", emptyDataset.toString(), "holds no images");
    }

    @Test
    void ingestIntoAnExistingFileIsRefusedBeforeAnyDecoding() {
        assertOneLine("ingest", new String[] {"ingest", "--input", raw.toString(), "--output", aFile.toString()},
                "--output", aFile.toString(), "is a file");
        assertOneLine("under a file", new String[] {"ingest", "--input", raw.toString(), "--output",
                aFile.resolve("ds").toString()}, "--output", aFile + " is a file");
    }

    @Test
    void demoIntoAnExistingFileIsRefused() {
        assertOneLine("demo", new String[] {"demo", "--output", aFile.toString()}, "--output", aFile.toString(),
                "is a file");
    }

    @Test
    void incrementalIntoAFolderThatIsNotADatasetIsRefused() throws Exception {
        Path notes = Files.createDirectories(tmp.resolve("notes"));
        Files.writeString(notes.resolve("todo.txt"), "x");
        assertOneLine("incremental", new String[] {"ingest", "--input", raw.toString(), "--output", notes.toString(),
                "--incremental"}, "--output", notes.toString(), "not a dataset");
        assertEquals(1, Files.list(notes).count(), "nothing written into it");
    }

    @Test
    void aLocalMasterWithNoThreadsIsRefusedBeforeSparkStarts() {
        assertOneLine("local[0]", new String[] {"ingest", "--input", raw.toString(), "--output",
                tmp.resolve("m0").toString(), "--master", "local[0]"}, "--master", "local[0]");
    }

    @Test
    void aDeviceGivenAsAFileIsNotCalledMissing() {
        // issue 20, defect 6: /dev/zero "does not exist"
        assertOneLine("predict", new String[] {"predict", "--model", "/dev/zero", "--input", raw.toString(),
                "--output", tmp.resolve("pred").toString()}, "/dev/zero is not a regular file");
        assertOneLine("linear-probe", new String[] {"linear-probe", "--weights", "/dev/zero", "--dataset",
                counted.toString()}, "/dev/zero is not a regular file");
    }

    @Test
    void anOutputHoldingPartsOfADatasetIsNotCalledADatasetNorOverwritten() throws Exception {
        // issue 20, defect 6: a folder holding a classes.json (an interrupted first run) was taken as a dataset, or,
        // by a run without --incremental, as the class index of the new one
        Path partial = Files.createDirectories(tmp.resolve("partial"));
        Files.writeString(partial.resolve("classes.json"), "{\"classes\":[\"old\"]}");
        assertOneLine("partial", new String[] {"ingest", "--input", raw.toString(), "--output", partial.toString()},
                partial + " holds classes.json but no manifest.json");
        assertOneLine("dataset", new String[] {"ingest", "--input", raw.toString(), "--output", counted.toString()},
                counted + " already holds a dataset (its table)");
    }

    @Test
    void anEmptyInputASingleFileAndAnOutputInsideTheInputAreRefused() throws Exception {
        // issue 20, defect 5: each gave exit 0 (an empty dataset with mean and std 0, or a dataset whose own files
        // every incremental run quarantined)
        Path empty = Files.createDirectories(tmp.resolve("empty-input"));
        assertOneLine("empty", new String[] {"ingest", "--input", empty.toString(), "--output",
                tmp.resolve("e-out").toString()}, "--input " + empty + " is empty");
        Path one = raw.resolve("disc").resolve("disc_00000.png");
        assertTrue(Files.isRegularFile(one), one + " planted");
        assertOneLine("one file", new String[] {"ingest", "--input", one.toString(), "--output",
                tmp.resolve("f-out").toString()}, "--input " + one + " is a file, not a folder");
        assertOneLine("inside", new String[] {"ingest", "--input", raw.toString(), "--output",
                raw.resolve("dataset").toString()}, "--output " + raw.resolve("dataset") + " lies inside --input");
        assertEquals(false, Files.exists(raw.resolve("dataset")), "nothing written");
    }

    @Test
    void finetuneWithAnOldEmaKeyNamesTheNewOne() {
        Path job = CONF.resolve("finetune.yaml");
        assertOneLine("old ema key", new String[] {"finetune", "--config", job.toString(), "--set",
            "data.dataset=" + counted, "--set", "model.ssl_pretrained_path=null", "--set", "output_dir="
            + tmp.resolve("f1"), "--set", "training.use_ema=false"}, job.toString(),
                "training.use_ema (--set training.use_ema) is now training.ema.enabled");
    }
}
