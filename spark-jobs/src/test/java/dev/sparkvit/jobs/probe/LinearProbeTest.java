package dev.sparkvit.jobs.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.ClassificationSamples;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestResult;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.engine.BarrierSegment;
import dev.sparkvit.engine.EpochDataSet;
import dev.sparkvit.model.layers.TokenPooling;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.testing.BarrierRuns;
import dev.sparkvit.testing.SharedSpark;
import java.nio.file.Path;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The probe tells good features from poor ones: an encoder trained with labels (600 steps of batch 16 on the barrier
 * engine, Adam at 2e-3, deterministic order) scores far above a random one on the same val split. (A random
 * encoder's mean-pooled patch features sit near chance here: with LayerScale 1e-5 the blocks are near-identity, so
 * the mean patch token is a linear function of the mean colour, which the embedded dataset randomises per image.)
 */
@ExtendWith(SharedSpark.class)
class LinearProbeTest {

    @Test
    void trainedFeaturesProbeFarAboveRandomOnes(@TempDir Path tmp) {
        Path raw = tmp.resolve("raw");
        new SyntheticImageFolder(16, 50, 9).writeTo(raw);
        String dataset = tmp.resolve("ds").toString();
        IngestResult ingest = new IngestJob(IngestSettings.defaults(raw.toString(), dataset).withStoredSize(16))
                .execute(SharedSpark.session());
        Normalize normalize = StoredImages.normalization(ingest.manifest());
        VitConfig config = new VitConfig(16, 4, 3, 32, 2, 2, 2.0, 0.0, true, 0.1, TokenPooling.Mode.CLASS_TOKEN);

        LinearProbe.Result random = LinearProbe.run(SharedSpark.session(),
                VisionTransformer.encoderOnly(config, 1), dataset, normalize);

        VisionTransformer trained = VisionTransformer.classifier(config, 10, 1);
        // the train split in its stored order, one partition per barrier task: the trained encoder is the same in
        // every run
        EpochDataSet<Row> train = new EpochDataSet<>(StoredImages.read(SharedSpark.session(), dataset, "train")
                .orderBy("id").selectExpr(ClassificationSamples.COLUMNS).javaRDD(), SharedSpark.CORES,
                (epoch, row) -> ClassificationSamples.sample(row, normalize), 1);
        AdamW adam = AdamW.of(i -> 2e-3, 0.0); // Adam: constant rate, no weight decay
        try (BarrierSegment segment = new BarrierSegment(BarrierRuns.module(trained.module()), train, 16,
                BarrierRuns.crossEntropy(), adam)) {
            BarrierSegment.Result end = BarrierRuns.until(segment, BarrierSegment.Start.of(trained.module(), adam, 0),
                    600);
            assertEquals(600, end.next().iteration());
            BarrierRuns.load(trained.module(), end.weights());
        }
        LinearProbe.Result supervised = LinearProbe.run(SharedSpark.session(), trained, dataset, normalize);

        long val = ingest.manifest().counts().values().stream().mapToLong(m -> m.getOrDefault("val", 0L)).sum();
        assertEquals(val, random.valImages());
        assertTrue(val >= 30, "enough val images for a stable accuracy: " + val);
        assertTrue(supervised.pooledAccuracy() > random.pooledAccuracy() + 0.25,
                "trained " + supervised + " vs random " + random);
    }
}
