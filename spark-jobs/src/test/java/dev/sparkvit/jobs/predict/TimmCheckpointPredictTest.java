package dev.sparkvit.jobs.predict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.cli.MainAccess;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.jobs.inference.ClassifierWeights;
import dev.sparkvit.model.io.VitWeights;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitPresets;
import dev.sparkvit.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A plain timm checkpoint (no preset, classes or img_size metadata) given to {@code predict} (issue 20, defect 8):
 * before, refused as "not a fine-tuned classifier" with no way to supply what it lacks. Now {@code --preset},
 * {@code --classes FILE} and {@code --normalize} supply it, and the image size comes from its position embedding.
 */
@ExtendWith(SharedSpark.class)
class TimmCheckpointPredictTest {

    /** A classifier saved without metadata, as timm's safetensors export is. */
    private static Path plainCheckpoint(Path tmp) throws Exception {
        VisionTransformer vit = VisionTransformer.classifier(VitPresets.get("vit_nano_patch4_32"), 3, 11);
        Path file = tmp.resolve("timm.safetensors");
        VitWeights.save(vit, file, Map.of());
        return file;
    }

    private static String cli(String... args) {
        StringWriter err = new StringWriter();
        CommandLine commandLine = MainAccess.commandLine();
        commandLine.setErr(new PrintWriter(err, true));
        int code = commandLine.execute(args);
        return code + " " + err.toString().strip();
    }

    @Test
    void theCliNamesWhatAPlainCheckpointLacksAndTakesItFromFlags(@TempDir Path tmp) throws Exception {
        Path file = plainCheckpoint(tmp);
        Path classes = Files.writeString(tmp.resolve("classes.txt"), "cat\ndog\nbird\n");
        String refused = cli("predict", "--model", file.toString(), "--input", tmp.toString(), "--output",
                tmp.resolve("out").toString());
        assertTrue(refused.startsWith("2 sparkvit: ") && refused.contains("--preset")
                && refused.contains("--classes FILE"), refused);
        // every flag accepted; the bad --normalize value is named before Spark starts
        String badNormalize = cli("predict", "--model", file.toString(), "--preset", "vit_nano_patch4_32",
                "--classes", classes.toString(), "--normalize", "0.5", "--input", tmp.toString(), "--output",
                tmp.resolve("out").toString());
        assertEquals("2 sparkvit: --normalize 0.5 is invalid: expected imagenet, dataset:PATH, mean,std or "
                + "r,g,b,r,g,b (means, then standard deviations, of pixels in [0, 1])", badNormalize);
        String wrongCount = cli("predict", "--model", file.toString(), "--preset", "vit_nano_patch4_32",
                "--classes", Files.writeString(tmp.resolve("two.txt"), "cat\ndog\n").toString(), "--input",
                tmp.toString(), "--output", tmp.resolve("out").toString());
        assertTrue(wrongCount.startsWith("2 sparkvit: ") && wrongCount.contains("head.weight"), wrongCount);
    }

    @Test
    void aPlainCheckpointPredictsAFolderWithTheGivenPresetClassesAndNormalisation(@TempDir Path tmp)
            throws Exception {
        Path file = plainCheckpoint(tmp);
        Path classes = Files.writeString(tmp.resolve("classes.txt"), "cat\ndog\nbird\n");
        Path images = tmp.resolve("images");
        int count = new SyntheticImageFolder(24, 1, 5).writeTo(images);
        PredictJob.Result result = new PredictJob(new PredictJob.Settings(file, images.toString(), null,
                tmp.resolve("out").toString(), 2, List.of("identity"),
                new ClassifierWeights.Given("vit_nano_patch4_32", classes), "imagenet"),
                new PrintStream(new ByteArrayOutputStream())).execute(SharedSpark.session());
        assertEquals(count, result.predicted());
        for (Row r : SharedSpark.session().read().parquet(result.predictions()).collectAsList()) {
            List<String> labels = r.getList(r.fieldIndex("top_labels"));
            assertTrue(Set.of("cat", "dog", "bird").containsAll(labels) && labels.size() == 2, labels.toString());
        }
    }
}
