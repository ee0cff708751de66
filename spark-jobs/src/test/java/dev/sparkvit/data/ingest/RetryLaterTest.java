package dev.sparkvit.data.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20, defect 2: a file quarantined as {@code retry_later} (decoding ran out of memory: not a property of the
 * file) is not remembered as known, so an incremental run with more memory ingests it. Before, such a file was
 * {@code corrupt} and its hash known: every later run skipped it as already present.
 */
@ExtendWith(SharedSpark.class)
class RetryLaterTest {

    @Test
    void aFileRecordedAsRetryLaterIsTriedAgainByTheNextIncrementalRun(@TempDir Path tmp) throws Exception {
        Path first = tmp.resolve("first");
        new SyntheticImageFolder(16, 2, 1).writeTo(first);
        Path dataset = tmp.resolve("dataset");
        new IngestJob(IngestSettings.defaults(first.toString(), dataset.toString()).withStoredSize(16))
                .execute(SharedSpark.session());

        // the run that ran out of memory on large.png: its quarantine row, as FileProcessor writes it
        Path second = tmp.resolve("second");
        Path large = second.resolve("disc").resolve("large.png");
        Files.createDirectories(large.getParent());
        byte[] bytes = BadFiles.encode(BadFiles.noise(40, 40, 9), "png");
        Files.write(large, bytes);
        org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> retry = SharedSpark.session().createDataFrame(
                List.of(RowFactory.create("file:" + large, "retry_later",
                "decoding its 40x40 pixels ran out of memory", (long) bytes.length, FileProcessor.sha256(bytes))),
                StoredImageSchema.QUARANTINE);
        dev.sparkvit.data.table.DatasetTable table = StoredTables.table(dataset);
        table.append(new dev.sparkvit.data.table.DatasetTable.Rows(null, retry, null), table.classes(),
                table.manifestJson(), table.currentSnapshotId(), written -> { });

        IngestResult again = new IngestJob(IngestSettings.defaults(second.toString(), dataset.toString())
                .withStoredSize(16).withIncremental(true)).execute(SharedSpark.session());
        assertEquals(0, again.alreadyPresent(), "the retry_later file is not known");
        assertEquals(1, again.stored());
    }
}
