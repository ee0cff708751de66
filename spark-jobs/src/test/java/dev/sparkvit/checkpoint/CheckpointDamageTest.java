package dev.sparkvit.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.SafeTensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way a checkpoint folder can be damaged, made on real files written by the store: each load fails with one
 * line naming the damaged file (or the folder, when a file is missing) and what is wrong with it. Damage that keeps
 * a matching checksum (content written wrong, not changed later) is caught by the content checks.
 */
class CheckpointDamageTest {
    private static final String DATA = "checkpoint.safetensors";
    private static final String SUM = "checkpoint.sha256";

    /** A fresh store holding one valid checkpoint of iteration 7; returns its folder. */
    private static Path written(Path dir) {
        return new CheckpointStore(dir, 3).write(CheckpointStoreTest.checkpoint(7));
    }

    /** Loads the newest checkpoint, which must fail naming {@code named} and saying {@code what}. */
    private static void assertCorrupt(Path dir, Path named, String what) {
        CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
                () -> new CheckpointStore(dir, 3).latest());
        String message = e.getMessage();
        assertTrue(message.contains(named.toString()), "names " + named + ": " + message);
        assertTrue(message.contains(what), "says '" + what + "': " + message);
        assertTrue(!message.contains("\n") && message.length() < 600, "one short line: " + message);
    }

    /** Replaces the data file and records a matching checksum: content written wrong, not damaged later. */
    private static void rewriteWithMatchingSum(Path folder, byte[] content) throws Exception {
        Files.write(folder.resolve(DATA), content);
        String sum = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        Files.writeString(folder.resolve(SUM), sum + "  " + DATA + "\n");
    }

    /** A safetensors file with these metadata and the tensors of a checkpoint, minus {@code drop}. */
    private static byte[] checkpointLike(Path tmp, Map<String, String> meta, String... drop) throws IOException {
        Map<String, NamedTensor> tensors = new LinkedHashMap<>();
        tensors.put("model/w", new NamedTensor(new int[] {2}, new float[] {1, 2}));
        tensors.put("ema/w", new NamedTensor(new int[] {2}, new float[] {1, 2}));
        tensors.put("optim/head/exp_avg", new NamedTensor(new int[] {1}, new float[] {0}));
        for (String name : drop) {
            tensors.remove(name);
        }
        Path file = tmp.resolve("crafted-" + System.nanoTime() + ".safetensors");
        SafeTensors.write(file, tensors, meta);
        return Files.readAllBytes(file);
    }

    private static Map<String, String> validMeta() {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "sparkvit-checkpoint-1");
        meta.put("iteration", "7");
        meta.put("epoch", "1");
        meta.put("records_in_epoch", "32");
        meta.put("ema_updates", "7");
        meta.put("optim/head/step", "7");
        return meta;
    }

    @Test
    void theCraftedValidContentLoads(@TempDir Path tmp) throws Exception {
        // the baseline of the content cases below: the same construction with nothing wrong loads
        Path folder = written(tmp.resolve("store"));
        rewriteWithMatchingSum(folder, checkpointLike(tmp, validMeta()));
        assertEquals(7, new CheckpointStore(tmp.resolve("store"), 3).latest().orElseThrow().progress().iterations());
    }

    @Test
    void truncatedOrBitFlippedDataFailsItsChecksum(@TempDir Path tmp) throws IOException {
        int[] cuts = {-1, 1};
        for (int cut : cuts) {
            Path dir = tmp.resolve("cut" + cut);
            Path data = written(dir).resolve(DATA);
            byte[] bytes = Files.readAllBytes(data);
            Files.write(data, Arrays.copyOf(bytes, cut < 0 ? bytes.length - 1 : bytes.length / 2));
            assertCorrupt(dir, data, "is corrupt: SHA-256");
        }
        for (String where : List.of("header", "data")) {
            Path dir = tmp.resolve("flip-" + where);
            Path data = written(dir).resolve(DATA);
            byte[] bytes = Files.readAllBytes(data);
            bytes[where.equals("header") ? 20 : bytes.length - 3] ^= 0x10;
            Files.write(data, bytes);
            assertCorrupt(dir, data, "does not match");
        }
    }

    @Test
    void aMissingEmptyOrGarbageChecksumFileIsNamed(@TempDir Path tmp) throws IOException {
        Path missing = written(tmp.resolve("missing"));
        Files.delete(missing.resolve(SUM));
        assertCorrupt(tmp.resolve("missing"), missing, "incomplete: checkpoint.sha256 is missing");

        Path empty = written(tmp.resolve("empty"));
        Files.write(empty.resolve(SUM), new byte[0]);
        assertCorrupt(tmp.resolve("empty"), empty.resolve(SUM), "is empty");

        Path garbage = written(tmp.resolve("garbage"));
        Files.write(garbage.resolve(SUM), new byte[] {0, (byte) 0xff, '\n', 'x', 0x1b, '['});
        assertCorrupt(tmp.resolve("garbage"), garbage.resolve(SUM), "does not hold a SHA-256");

        Path huge = written(tmp.resolve("huge"));
        Files.write(huge.resolve(SUM), new byte[4096]);
        assertCorrupt(tmp.resolve("huge"), huge.resolve(SUM), "it holds 4096 bytes");

        Path other = written(tmp.resolve("other"));
        Files.writeString(other.resolve(SUM), "0".repeat(64) + "  " + DATA + "\n");
        assertCorrupt(tmp.resolve("other"), other.resolve(DATA), "does not match " + "0".repeat(64));
    }

    @Test
    void aMissingDataFileOrAnEmptyOrPartialFolderIsNamed(@TempDir Path tmp) throws IOException {
        Path noData = written(tmp.resolve("nodata"));
        Files.delete(noData.resolve(DATA));
        assertCorrupt(tmp.resolve("nodata"), noData, "incomplete: checkpoint.safetensors is missing");

        Path emptyFolder = tmp.resolve("emptyfolder").resolve("iter-000000009");
        Files.createDirectories(emptyFolder);
        assertCorrupt(tmp.resolve("emptyfolder"), emptyFolder,
                "checkpoint.safetensors and checkpoint.sha256 are missing");

        // a data file that is a folder (a partial copy) counts as missing
        Path folderAsData = written(tmp.resolve("dirdata"));
        Files.delete(folderAsData.resolve(DATA));
        Files.createDirectories(folderAsData.resolve(DATA));
        assertCorrupt(tmp.resolve("dirdata"), folderAsData, "checkpoint.safetensors is missing");
    }

    @Test
    void contentWrittenWrongIsCaughtEvenWithAMatchingChecksum(@TempDir Path tmp) throws Exception {
        List<Object[]> cases = new ArrayList<>();
        Map<String, String> pt = validMeta();
        pt.put("format", "pt");
        cases.add(new Object[] {"header", "not a valid safetensors file".getBytes(StandardCharsets.UTF_8),
                "is not a valid safetensors file"});
        cases.add(new Object[] {"format", checkpointLike(tmp, pt), "is not a sparkvit-checkpoint-1 file"});
        Map<String, String> noIteration = validMeta();
        noIteration.remove("iteration");
        cases.add(new Object[] {"iteration", checkpointLike(tmp, noIteration), "no valid metadata iteration"});
        Map<String, String> badEpoch = validMeta();
        badEpoch.put("epoch", "one");
        cases.add(new Object[] {"epoch", checkpointLike(tmp, badEpoch), "no valid metadata epoch"});
        Map<String, String> negative = validMeta();
        negative.put("records_in_epoch", "-5");
        cases.add(new Object[] {"records", checkpointLike(tmp, negative), "no valid metadata records_in_epoch"});
        Map<String, String> wrongIteration = validMeta();
        wrongIteration.put("iteration", "6");
        cases.add(new Object[] {"named", checkpointLike(tmp, wrongIteration),
                "records iteration 6 but its folder is named for iteration 7"});
        cases.add(new Object[] {"noema", checkpointLike(tmp, validMeta(), "ema/w"),
                "has model/w but no ema/w of the same shape"});
        cases.add(new Object[] {"nomodel", checkpointLike(tmp, validMeta(), "model/w", "ema/w"),
                "holds no model weights"});
        Map<String, String> noStep = validMeta();
        noStep.remove("optim/head/step");
        cases.add(new Object[] {"nostep", checkpointLike(tmp, noStep), "optimiser state of group 'head'"});
        for (Object[] c : cases) {
            Path dir = tmp.resolve("content-" + c[0]);
            Path folder = written(dir);
            rewriteWithMatchingSum(folder, (byte[]) c[1]);
            assertCorrupt(dir, folder.resolve(DATA), (String) c[2]);
        }
    }

    @Test
    void aLeftoverTemporaryFolderIsNeverLoadedReportedAndRemovedByTheNextWrite(@TempDir Path dir) throws IOException {
        CheckpointStore store = new CheckpointStore(dir, 3);
        store.write(CheckpointStoreTest.checkpoint(3));
        // what a crash during a write leaves: a temporary folder, here even with a complete-looking checkpoint
        Path partial = dir.resolve(".tmp-iter-000000006-123");
        Files.createDirectories(partial);
        Files.write(partial.resolve(DATA), new byte[] {1, 2, 3});
        List<String> warnings = new ArrayList<>();
        assertEquals(3, store.latest(CheckpointStore.OnCorrupt.FAIL, warnings::add).orElseThrow().progress()
                .iterations(), "the partial write is never loaded");
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains(partial.toString()) && warnings.get(0).contains("interrupted"),
                warnings.toString());
        assertEquals(List.of(partial), store.interrupted());
        store.write(CheckpointStoreTest.checkpoint(6));
        assertEquals(List.of(), store.interrupted(), "removed once the next checkpoint is in place");
        assertEquals(6, store.latest().orElseThrow().progress().iterations());
    }

    @Test
    void aFolderNamedAsACheckpointIsReadAsOneWhenGivenDirectly(@TempDir Path dir) throws IOException {
        Path emptyFolder = dir.resolve("iter-000000004");
        Files.createDirectories(emptyFolder);
        assertTrue(CheckpointStore.isCheckpoint(emptyFolder));
        assertTrue(!CheckpointStore.isCheckpoint(dir), "a checkpoints folder is not one checkpoint");
        CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
                () -> CheckpointStore.read(emptyFolder));
        assertTrue(e.getMessage().contains(emptyFolder + " is incomplete"), e.getMessage());
    }
}
