package dev.sparkvit.jobs.finetune;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.data.table.DatasetTable;
import dev.sparkvit.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dataset whose rows carry a label index its manifest names no class for (left by an ingest killed after its
 * shards before the dataset lock, then migrated; or committed by another program) is refused by fine-tuning with one
 * line.
 * Before: ArrayIndexOutOfBoundsException from the class counts, exit 1 and a stack trace.
 */
@ExtendWith(SharedSpark.class)
class DamagedClassIndexTest {
    @Test
    void rowsWhoseClassIsMissingFromTheManifestStopFinetuningWithOneLine(@TempDir Path tmp) throws Exception {
        Path raw = tmp.resolve("raw");
        new SyntheticImageFolder(16, 3, 4).writeTo(raw);
        Path dataset = tmp.resolve("ds");
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset.toString()).withStoredSize(16))
                .execute(SharedSpark.session());
        // a commit of another program (or of a sparkvit before the dataset lock, migrated): its manifest names 3 of
        // the 10 classes
        ObjectMapper json = new ObjectMapper();
        DatasetTable table = DatasetTable.open(new org.apache.hadoop.conf.Configuration(), dataset.toString());
        ObjectNode manifest = (ObjectNode) json.readTree(table.manifestJson());
        ArrayNode kept = json.createArrayNode();
        SyntheticImageFolder.CLASSES.subList(0, 3).forEach(kept::add);
        manifest.set("classes", kept);
        table.append(new DatasetTable.Rows(null, null, null), SyntheticImageFolder.CLASSES.subList(0, 3),
                json.writeValueAsString(manifest), table.currentSnapshotId(), written -> { });

        FinetuneSettings settings = FinetuneConfig.read(YamlConfig.parse("test.yaml", new StringReader(""))
                .with(List.of("data.dataset=" + dataset, "data.img_size=16", "output_dir=" + tmp.resolve("out"),
                        "model.ssl_pretrained_path=null", "training.epochs=1", "training.batch_size=8")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FinetuneJob(settings,
                false, new PrintStream(new ByteArrayOutputStream(), true)).execute(SharedSpark.session()));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().startsWith("dataset " + dataset + " is damaged: 21 stored images have label_index "
                + "[3, 4, 5, 6, 7, 8, 9], which the class index (3 classes) does not name"), e.getMessage());
    }
}
