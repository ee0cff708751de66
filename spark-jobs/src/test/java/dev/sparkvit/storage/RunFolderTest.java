package dev.sparkvit.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run folder on another file system: worked on locally, published, pulled back for a resume. */
class RunFolderTest {
    @TempDir
    Path tmp;

    private String remote() {
        return LoopbackFileSystem.SCHEME + "://" + tmp.resolve("remote");
    }

    /** Relative path -> content of every file under {@code root}. */
    private static TreeMap<String, String> tree(Path root) throws IOException {
        TreeMap<String, String> out = new TreeMap<>();
        if (!Files.exists(root)) {
            return out;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                out.put(root.relativize(p).toString(), Files.readString(p));
            }
        }
        return out;
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    @Test
    void aLocalFolderIsItsOwnWorkingCopyAndPublishingDoesNothing() {
        RunFolder folder = RunFolder.open(tmp.resolve("out").toString(), LoopbackFileSystem.conf());
        assertFalse(folder.remote());
        assertEquals(tmp.resolve("out"), folder.local());
        assertEquals(tmp.resolve("out").resolve("w").toString(), folder.describe(tmp.resolve("out").resolve("w")));
        folder.publish();
        assertFalse(Files.exists(tmp.resolve("out")), "nothing written by publish");
    }

    @Test
    void publishingMirrorsCheckpointsEventsAndPrunes() throws IOException {
        RunFolder folder = RunFolder.open(remote(), LoopbackFileSystem.conf());
        assertTrue(folder.remote());
        assertNotEquals(tmp.resolve("remote"), folder.local());
        Path work = folder.local();
        write(work.resolve("checkpoints/iter-000000004/checkpoint.safetensors"), "four");
        write(work.resolve("checkpoints/iter-000000004/checkpoint.sha256"), "sum4");
        write(work.resolve("tensorboard/pretrain/train/events.out"), "e1");
        folder.publish();
        assertEquals(tree(work), tree(tmp.resolve("remote")));

        // the next checkpoint; the oldest pruned; the event file grows
        write(work.resolve("checkpoints/iter-000000008/checkpoint.safetensors"), "eight");
        write(work.resolve("checkpoints/iter-000000008/checkpoint.sha256"), "sum8");
        deleteTree(work.resolve("checkpoints/iter-000000004"));
        write(work.resolve("tensorboard/pretrain/train/events.out"), "e1e2");
        Files.setLastModifiedTime(work.resolve("tensorboard/pretrain/train/events.out"),
                FileTime.fromMillis(System.currentTimeMillis() + 5_000));
        write(work.resolve("pretrained-ema.safetensors"), "weights");
        folder.publish();
        assertEquals(tree(work), tree(tmp.resolve("remote")));
        assertEquals(remote() + "/pretrained-ema.safetensors", folder.describe(work.resolve(
                "pretrained-ema.safetensors")));
        try (Stream<Path> walk = Files.walk(tmp.resolve("remote"))) {
            assertTrue(walk.noneMatch(p -> p.getFileName().toString().startsWith(RunFolder.PUBLISHING)),
                    "no temporary entries left");
        }
    }

    @Test
    void openingAnExistingRemoteFolderPullsItForAResume() throws IOException {
        Path remoteDir = tmp.resolve("remote");
        write(remoteDir.resolve("checkpoints/iter-000000004/checkpoint.safetensors"), "four");
        write(remoteDir.resolve("tensorboard/events.out"), "e1");
        write(remoteDir.resolve("checkpoints/" + RunFolder.PUBLISHING + "iter-000000008/checkpoint.safetensors"),
                "half");
        RunFolder folder = RunFolder.open(remote(), LoopbackFileSystem.conf());
        TreeMap<String, String> pulled = tree(folder.local());
        assertEquals(List.of("checkpoints/iter-000000004/checkpoint.safetensors", "tensorboard/events.out"),
                List.copyOf(pulled.keySet()), "an interrupted publish is not pulled");
        // a pruned checkpoint of the resumed run disappears remotely too
        deleteTree(folder.local().resolve("checkpoints/iter-000000004"));
        folder.publish();
        assertFalse(Files.exists(remoteDir.resolve("checkpoints/iter-000000004")));
        assertTrue(Files.exists(remoteDir.resolve("tensorboard/events.out")));
    }

    @Test
    void entriesNotPulledAreNeverTouched() throws IOException {
        Path remoteDir = tmp.resolve("remote");
        write(remoteDir.resolve("checkpoints/iter-000000004/checkpoint.safetensors"), "four");
        write(remoteDir.resolve("finetuned.safetensors"), "w");
        RunFolder folder = RunFolder.open(remote(), LoopbackFileSystem.conf(), rel -> !rel.startsWith("checkpoints"));
        assertEquals(List.of("finetuned.safetensors"), List.copyOf(tree(folder.local()).keySet()));
        write(folder.local().resolve("evaluation/metrics.json"), "{}");
        folder.publish();
        assertEquals("four", Files.readString(remoteDir.resolve("checkpoints/iter-000000004/checkpoint.safetensors")));
        assertEquals("{}", Files.readString(remoteDir.resolve("evaluation/metrics.json")));
    }

    @Test
    void aRemoteFileWhereTheFolderShouldBeIsNamed() throws IOException {
        write(tmp.resolve("remote"), "not a folder");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RunFolder.open(remote(), LoopbackFileSystem.conf()));
        assertTrue(e.getMessage().contains(remote()) && e.getMessage().contains("is a file"), e.getMessage());
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
