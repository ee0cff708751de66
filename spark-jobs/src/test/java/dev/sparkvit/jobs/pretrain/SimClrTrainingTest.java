package dev.sparkvit.jobs.pretrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import com.intel.analytics.bigdl.dllib.nn.Sequential;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.augment.Augmentations;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.data.pairs.PairGenerator;
import dev.sparkvit.engine.BarrierSegment;
import dev.sparkvit.engine.EpochDataSet;
import dev.sparkvit.engine.Layers;
import dev.sparkvit.model.layers.TokenPooling;
import dev.sparkvit.model.losses.BarrierNtXent;
import dev.sparkvit.model.losses.GlobalNtXent;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.optim.WarmupCosine;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.testing.BarrierRuns;
import dev.sparkvit.testing.SharedSpark;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * SimCLR on the barrier engine: fresh pairs every epoch, both views joined into one batch, the global NT-Xent the
 * pretraining job uses, AdamW.
 */
@ExtendWith(SharedSpark.class)
class SimClrTrainingTest {
    @TempDir
    static Path tmp;
    private static String dataset;
    private static PairGenerator pairs;
    private static PairGenerator lightPairs;

    @BeforeAll
    static void ingest() {
        Path raw = tmp.resolve("raw");
        new SyntheticImageFolder(16, 6, 5).writeTo(raw);
        dataset = tmp.resolve("ds").toString();
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset).withStoredSize(16))
                .execute(SharedSpark.session());
        Normalize normalize = StoredImages.normalization(StoredImages.manifest(SharedSpark.session(), dataset));
        pairs = new PairGenerator(Augmentations.simclr(16, normalize), 42);
        lightPairs = new PairGenerator(Augmentations.light(16, normalize), 42);
    }

    private static EpochDataSet<Row> epochPairs(PairGenerator generator, long seed) {
        return new EpochDataSet<>(StoredImages.read(SharedSpark.session(), dataset, null)
                .orderBy("id").selectExpr(PairGenerator.COLUMNS).javaRDD(),
                SharedSpark.CORES, (epoch, row) -> generator.sample(row, epoch), seed);
    }

    private static float[] firstSampleData(EpochDataSet<Row> data) {
        List<Sample<Float>> samples = data.data(false).toJavaRDD().collect();
        assertEquals(60, samples.size());
        return ((float[]) samples.get(0).getData()).clone();
    }

    @Test
    void everyEpochBringsNewViewsInAReproducibleOrder() {
        EpochDataSet<Row> a = epochPairs(pairs, 1);
        EpochDataSet<Row> b = epochPairs(pairs, 1);
        a.shuffle();
        b.shuffle();
        float[] epoch0 = firstSampleData(a);
        assertArrayEquals(epoch0, firstSampleData(b), "same seed, same epoch: same first sample");
        a.shuffle();
        assertEquals(1, a.epoch());
        assertFalse(Arrays.equals(epoch0, firstSampleData(a)), "the next epoch brings other views or order");
    }

    /**
     * The machinery learns: with light views (crop scale [0.8, 1], flip) telling 60 images apart is easy, so the
     * NT-Xent loss must fall well below chance within a few hundred images. (With the full SimCLR views at 16 px the
     * loss stays near chance at this budget; what pretraining achieves is measured by the linear probe.)
     */
    @Test
    void ntXentLossFallsOnTheBarrierEngine() {
        VitConfig config = new VitConfig(16, 4, 3, 32, 2, 2, 2.0, 0.0, true, 0.1, TokenPooling.Mode.CLASS_TOKEN);
        VisionTransformer vit = VisionTransformer.simclr(config, 32, 3);
        Sequential<Float> model = Layers.sequential("simclr");
        model.add(Layers.joinBatch());
        model.add(vit.module());
        int epochs = 30;
        int batch = 16;
        long perEpoch = (60 + batch - 1) / batch;
        long iterations = epochs * perEpoch;
        AdamW adamW = AdamW.of(new WarmupCosine(2e-3, 8, iterations, 0.0), 0.0);
        BarrierSegment.Loss ntXent = () -> BarrierNtXent.sliceLoss(new GlobalNtXent(0.2)); // as SimClrMethod's
        float[] losses = new float[(int) iterations];
        try (BarrierSegment segment = new BarrierSegment(BarrierRuns.module(model), epochPairs(lightPairs, 7), batch,
                ntXent, adamW)) {
            assertEquals(perEpoch, segment.iterationsPerEpoch());
            BarrierSegment.Start at = BarrierSegment.Start.of(model, adamW, 0);
            for (int epoch = 0; epoch < epochs; epoch++) {
                BarrierSegment.Result result = BarrierRuns.until(segment, at, (epoch + 1) * perEpoch);
                assertEquals(2 * batch - 2, result.negativesPerView(), "global NT-Xent: 2B - 2 negatives per view");
                for (int i = 0; i < result.iterations(); i++) {
                    losses[(int) result.firstIteration() + i] = (float) result.losses()[i];
                }
                at = result.next();
            }
        }
        float first = mean(Arrays.copyOfRange(losses, 0, 8));
        float last = mean(Arrays.copyOfRange(losses, losses.length - 8, losses.length));
        assertTrue(last < 0.5f * first, "NT-Xent should fall: first " + first + ", last " + last + ", all "
                + Arrays.toString(losses));
    }

    private static float mean(float[] values) {
        float sum = 0;
        for (float v : values) {
            sum += v;
        }
        return sum / values.length;
    }
}
