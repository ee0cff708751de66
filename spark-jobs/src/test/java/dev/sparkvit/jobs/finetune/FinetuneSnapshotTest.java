package dev.sparkvit.jobs.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.data.ingest.DatasetSnapshot;
import dev.sparkvit.data.ingest.Manifest;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.data.table.TwoSnapshots;
import dev.sparkvit.jobs.evaluate.EvaluateJob;
import dev.sparkvit.jobs.predict.PredictJob;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.provenance.CodeVersion;
import dev.sparkvit.provenance.WeightsProvenance;
import dev.sparkvit.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine-tuning and evaluation on an older snapshot of a dataset ({@code --snapshot}, issue 22) after an ingest added
 * images: the recipe, the training and the weights' metadata are the older snapshot's, evaluate scores the older
 * snapshot's test images (the current one has more), and an id the table lacks is one line naming the dataset and
 * the id. Both weights files carry code version, settings hash, dataset and snapshot.
 */
@ExtendWith(SharedSpark.class)
class FinetuneSnapshotTest {

    @Test
    void finetuneAndEvaluateReadTheSnapshotTheyAreGiven(@TempDir Path tmp) throws Exception {
        FinetuneFixture fixture = FinetuneFixture.create(tmp);
        String dataset = fixture.dataset();
        TwoSnapshots snapshots = TwoSnapshots.more(tmp, dataset);
        long first = snapshots.first();
        long second = snapshots.second();
        assertNotEquals(first, second);
        long firstTrain = snapshots.count(first, "train");
        assertTrue(snapshots.count(second, "train") > firstTrain);

        Path out = tmp.resolve("run");
        FinetuneSettings settings = FinetuneConfig.read(YamlConfig.parse("test.yaml", new StringReader("")).with(
                List.of("data.dataset=" + dataset, "data.img_size=16", "output_dir=" + out,
                        "model.ssl_pretrained_path=null", "model.head_init=random", "training.epochs=1",
                        "training.warmup_epochs=0", "training.batch_size=16", "training.ema.decay=0.9")));
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        FinetuneJob job = new FinetuneJob(settings, false, new PrintStream(console, true)).snapshot(first);
        FinetuneResult result = job.execute(SharedSpark.session());
        assertTrue(console.toString().contains("(" + firstTrain + " train images"), console.toString());
        assertEquals(first, job.data().id());

        for (Path weights : List.of(result.liveWeights(), result.emaWeights())) {
            Map<String, String> meta = SafeTensors.read(weights).metadata();
            assertEquals(CodeVersion.current(), meta.get(WeightsProvenance.CODE_VERSION), weights.toString());
            assertEquals(64, meta.get(WeightsProvenance.CONFIG_SHA256).length(), weights.toString());
            assertEquals(dataset, meta.get(WeightsProvenance.DATASET), weights.toString());
            assertEquals(String.valueOf(first), meta.get(WeightsProvenance.DATASET_SNAPSHOT), weights.toString());
        }

        EvaluateJob.Settings evaluation = new EvaluateJob.Settings(out, null, null, "test", List.of("identity"),
                tmp.resolve("evaluation"));
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true);
        assertEquals(snapshots.count(first, "test"), new EvaluateJob(evaluation, quiet).snapshot(first)
                .execute(SharedSpark.session()).images());
        assertEquals(snapshots.count(second, "test"), new EvaluateJob(evaluation, quiet)
                .execute(SharedSpark.session()).images(), "without --snapshot: the current snapshot");

        // predict normalises with the statistics of the snapshot the weights record, not the current one's
        Map<Long, Manifest> manifests = Map.of(first, StoredImages.manifest(SharedSpark.session(),
                new DatasetSnapshot(dataset, first)), second, StoredImages.manifest(SharedSpark.session(),
                new DatasetSnapshot(dataset, second)));
        List<String> recorded = predictions(tmp, "recorded", result.liveWeights(), dataset, first, null);
        assertEquals(predictions(tmp, "first", result.liveWeights(), dataset, first, normalize(manifests.get(first))),
                recorded);
        assertNotEquals(predictions(tmp, "second", result.liveWeights(), dataset, first,
                normalize(manifests.get(second))),
                recorded, "the two snapshots' statistics give other probabilities");

        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> new EvaluateJob(evaluation, quiet).snapshot(12345L).execute(SharedSpark.session()));
        assertEquals(1, unknown.getMessage().lines().count(), unknown.getMessage());
        assertTrue(unknown.getMessage().startsWith("dataset " + dataset + " has no snapshot 12345 (never committed, "
                + "or expired); its current snapshot is " + second), unknown.getMessage());
    }

    /** {@code --normalize} as numbers: the floats the job makes of the manifest's mean and std, exactly. */
    private static String normalize(Manifest manifest) {
        List<String> values = new java.util.ArrayList<>();
        for (double[] stats : List.of(manifest.channelMean(), manifest.channelStd())) {
            for (double v : stats) {
                values.add(Float.toString((float) v));
            }
        }
        return String.join(",", values);
    }

    /** The predictions of the test images of snapshot {@code first} as text, by path. */
    private static List<String> predictions(Path tmp, String name, Path weights, String dataset, long first,
            String normalize) {
        String out = tmp.resolve("predict-" + name).toString();
        PredictJob.Result r = new PredictJob(new PredictJob.Settings(weights, dataset, "test", out, 3,
                List.of("identity"), dev.sparkvit.jobs.inference.ClassifierWeights.Given.NONE, normalize),
                new PrintStream(new ByteArrayOutputStream(), true)).snapshot(first).execute(SharedSpark.session());
        return SharedSpark.session().read().parquet(r.predictions()).orderBy("path").collectAsList().stream()
                .map(Object::toString).toList();
    }
}
