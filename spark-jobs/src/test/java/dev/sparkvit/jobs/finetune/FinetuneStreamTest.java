package dev.sparkvit.jobs.finetune;

import static dev.sparkvit.jobs.finetune.FinetuneFixture.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.data.stream.StreamedImages;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine-tuning on the streamed input with mixup and cutmix (partners within each task's chunk of the micro-batch) and a
 * label fraction: stopped mid-epoch and resumed, it ends with the uninterrupted run's weights bit for bit; the label
 * fraction keeps the same images on a streamed row as Spark's filter keeps.
 */
@ExtendWith(SharedSpark.class)
class FinetuneStreamTest {
    @TempDir
    static Path shared;
    private static FinetuneFixture fixture;

    @BeforeAll
    static void ingest() throws Exception {
        fixture = FinetuneFixture.create(shared);
    }

    private static FinetuneSettings settings(Path out, String... more) {
        List<String> sets = new ArrayList<>(List.of("data.dataset=" + fixture.dataset(), "data.img_size=16",
                "output_dir=" + out, "data.input=stream", "data.shuffle_buffer=8", "data.label_fraction=0.8",
                "model.ssl_pretrained_path=" + fixture.ssl(), "model.head_init=random", "training.epochs=2",
                "training.batch_size=16", "training.learning_rate=0.002", "training.warmup_epochs=1",
                "training.use_mixup=true", "training.use_cutmix=true", "training.checkpoint.every_iterations=3",
                "evaluation.tta_views=[identity]"));
        sets.addAll(List.of(more));
        return FinetuneConfig.read(YamlConfig.parse("test.yaml", new StringReader("")).with(sets));
    }

    @Test
    void aStreamedMixedRunStoppedMidEpochAndResumedEndsWithTheUninterruptedWeights(@TempDir Path tmp)
            throws Exception {
        FinetuneResult whole = run(settings(tmp.resolve("whole")), false, 0, new ByteArrayOutputStream());
        assertTrue(whole.losses().length > 6, "iteration 3 is mid-epoch: " + whole.losses().length);
        run(settings(tmp.resolve("parts")), false, 3, new ByteArrayOutputStream());
        StreamedImages.clear(); // the resumed job replays its streams to iteration 3's position
        FinetuneResult resumed = run(settings(tmp.resolve("parts")), true, 0, new ByteArrayOutputStream());
        assertArrayEquals(Arrays.copyOfRange(whole.losses(), 3, whole.losses().length), resumed.losses());
        for (String file : List.of("finetuned.safetensors", "finetuned-ema.safetensors")) {
            Map<String, NamedTensor> a = SafeTensors.read(tmp.resolve("whole").resolve(file)).tensors();
            Map<String, NamedTensor> b = SafeTensors.read(tmp.resolve("parts").resolve(file)).tensors();
            assertEquals(a.keySet(), b.keySet());
            a.forEach((name, t) -> assertArrayEquals(t.values(), b.get(name).values(), file + " " + name));
        }
    }

    @Test
    void theLabelFractionKeepsTheSameImagesOnAStreamedRowAsSparksFilter() {
        var spark = SharedSpark.session();
        List<String> ids = StoredImages.read(spark, fixture.dataset(), null).select("id").as(Encoders.STRING())
                .collectAsList();
        List<Row> rows = new ArrayList<>(ids.stream().map(id -> RowFactory.create(id)).toList());
        for (int i = 0; i < 2000; i++) {
            rows.add(RowFactory.create("img/" + i + "/ü-" + (i * 7919L)));
        }
        var frame = spark.createDataFrame(rows, new StructType().add("id", DataTypes.StringType));
        for (double fraction : new double[] {0.05, 0.5, 0.8}) {
            LabelFraction keep = new LabelFraction(fraction);
            Set<String> bySpark = frame.filter(keep.column()).as(Encoders.STRING()).collectAsList().stream()
                    .collect(Collectors.toSet());
            Set<String> byRow = rows.stream().filter(keep::keeps).map(r -> r.getString(0)).collect(
                    Collectors.toSet());
            assertEquals(bySpark, byRow, "fraction " + fraction);
            assertNotEquals(0, byRow.size());
            assertNotEquals(rows.size(), byRow.size());
        }
    }
}
