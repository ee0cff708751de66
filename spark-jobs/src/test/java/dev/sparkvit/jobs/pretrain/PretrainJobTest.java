package dev.sparkvit.jobs.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.model.io.VitWeights;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitPresets;
import dev.sparkvit.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SharedSpark.class)
class PretrainJobTest {

    @Test
    void pretrainsWithFreezeOutAndEmaThenProbes(@TempDir Path tmp) throws Exception {
        Path raw = tmp.resolve("raw");
        new SyntheticImageFolder(16, 12, 4).writeTo(raw);
        String dataset = tmp.resolve("ds").toString();
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset).withStoredSize(16))
                .execute(SharedSpark.session());

        PretrainSettings settings = new PretrainSettings(dataset, tmp.resolve("out"), "vit_nano_patch4_32", 3, 16,
                2e-3, 0.0, 1, 0.2, 32, true, 0.99, 42);
        PretrainResult result = new PretrainJob(settings).execute(SharedSpark.session());

        assertEquals(14, result.negativesPerAnchor(), "16 images over 2 replicas: 8 images, 16 views per slice");
        assertTrue(result.iterationLosses().length >= 3);
        for (float loss : result.iterationLosses()) {
            assertTrue(Float.isFinite(loss) && loss > 0, "NT-Xent " + loss);
        }
        assertTrue(result.pretrainedProbe().valImages() > 0);
        assertTrue(Files.exists(result.weights()));
        VisionTransformer classifier = VisionTransformer.classifier(VitPresets.get("vit_nano_patch4_32")
                .withImgSize(16), 10, 1);
        VitWeights.ImportReport report = VitWeights.load(classifier, result.weights(), VitWeights.Match.SHARED);
        assertTrue(report.loaded().contains("blocks.3.ls2.gamma"), "the encoder moves into a classifier");
        VisionTransformer initial = VisionTransformer.encoderOnly(VitPresets.get("vit_nano_patch4_32")
                .withImgSize(16), 42);
        float[] saved = dev.sparkvit.model.io.SafeTensors.read(result.weights()).tensors()
                .get("blocks.3.mlp.fc2.weight").values();
        float[] start = dev.sparkvit.engine.Tensors.toArray(initial.namedParameters().get("blocks.3.mlp.fc2.weight"));
        assertTrue(!java.util.Arrays.equals(saved, start), "the saved EMA weights moved away from the initial ones");
    }

    @Test
    void aBatchThatDoesNotSplitOverTheReplicasIsRejected(@TempDir Path tmp) {
        IllegalArgumentException error = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> new PretrainSettings("x", tmp, "vit_nano_patch4_32", 0, 16,
                        1e-3, 0, 0, 0.1, 8, false, 0.9, 1));
        assertTrue(error.getMessage().contains("--epochs = 0"), error.getMessage());
    }
}
