package dev.sparkvit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.ingest.SnapshotLog;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.data.table.TwoSnapshots;
import dev.sparkvit.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sparkvit snapshots} lists a dataset's two ingests, the current one marked; {@code --as-of} resolves a time to
 * the snapshot current then, and a time before the first ingest, a malformed time or both options are one line.
 */
@ExtendWith(SharedSpark.class)
class SnapshotsCommandTest {
    @Test
    void listsTheSnapshotsAndResolvesATime(@TempDir Path tmp) throws Exception {
        TwoSnapshots snapshots = TwoSnapshots.ingest(tmp);
        String dataset = snapshots.dataset();
        SnapshotLog log = StoredImages.snapshotLog("--dataset", dataset, SparkCommand.hadoopConfiguration());
        List<SnapshotLog.Entry> entries = log.entries();
        assertEquals(List.of(snapshots.first(), snapshots.second()), entries.stream().map(SnapshotLog.Entry::id)
                .toList());
        assertEquals(snapshots.second(), log.current());
        assertTrue(entries.get(1).images() > entries.get(0).images(), entries.toString());

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        SnapshotsCommand command = new SnapshotsCommand();
        command.dataset = dataset;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            assertEquals(ExitCodes.OK, command.call());
        } finally {
            System.setOut(original);
        }
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("  " + snapshots.first() + "  " + entries.get(0).committed()),
                lines.get(0));
        assertTrue(lines.get(1).startsWith("* " + snapshots.second()) && lines.get(1).endsWith(
                entries.get(1).images() + " images"), lines.get(1));

        SnapshotOption option = new SnapshotOption();
        assertNull(option.id(dataset), "neither option: the default");
        option.asOf = entries.get(0).committed().toString(); // the first commit's own instant
        assertEquals(snapshots.first(), option.id(dataset));
        option.asOf = entries.get(1).committed().plusSeconds(3600).toString();
        assertEquals(snapshots.second(), option.id(dataset));
        option.asOf = entries.get(0).committed().minusMillis(1).toString();
        IllegalArgumentException before = assertThrows(IllegalArgumentException.class, () -> option.id(dataset));
        assertEquals("dataset " + dataset + " had no snapshot at " + option.asOf + " (its first is from "
                + entries.get(0).committed() + ")", before.getMessage());
        option.asOf = "yesterday";
        assertEquals("--as-of yesterday is not an ISO-8601 instant such as 2026-12-08T01:30:00Z",
                assertThrows(IllegalArgumentException.class, () -> option.id(dataset)).getMessage());
        option.asOf = entries.get(0).committed().toString();
        option.snapshot = snapshots.second();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> option.id(dataset)).getMessage()
                .contains("give one"));
    }
}
