package dev.sparkvit.jobs.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.jobs.finetune.FinetuneConfig;
import dev.sparkvit.jobs.finetune.FinetuneJob;
import dev.sparkvit.jobs.finetune.FinetuneResult;
import dev.sparkvit.jobs.pretrain.PretrainConfig;
import dev.sparkvit.jobs.pretrain.PretrainJob;
import dev.sparkvit.jobs.pretrain.PretrainResult;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model's image size is the preset's (or {@code data.img_size}), not the dataset's stored size (issue 20,
 * defect 7). Before, a dataset ingested with {@code --stored-size 128} made the 32-px {@code vit_nano_patch4_32} a
 * 1,024-token model that ran out of a 3 GB heap on its first iteration; here a 48-px dataset made it a 144-token
 * model ({@code pos_embed} [1, 145, 64]). Now the views and crops are resized to 32 px, a line says so, and
 * fine-tuning from the encoder takes the size it was trained for.
 */
@ExtendWith(SharedSpark.class)
class ModelImageSizeTest {

    @Test
    void aDatasetStoredLargerThanThePresetTrainsAtThePresetsSize(@TempDir Path tmp) throws Exception {
        Path raw = tmp.resolve("raw");
        new SyntheticImageFolder(48, 4, 3).writeTo(raw);
        String dataset = tmp.resolve("ds").toString();
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset).withStoredSize(48))
                .execute(SharedSpark.session());

        ByteArrayOutputStream console = new ByteArrayOutputStream();
        PretrainResult pretrained = new PretrainJob(PretrainConfig.read(YamlConfig.parse("test.yaml",
                new StringReader("")).with(List.of("data.dataset=" + dataset, "output_dir=" + tmp.resolve("pre"),
                        "training.epochs=1", "training.batch_size=8", "training.warmup_epochs=0",
                        "projection_dim=16"))), false, new PrintStream(console, true)).execute(SharedSpark.session());
        // 8 x 8 patches of 4 px and the class token (before: 12 x 12 + 1 = 145)
        assertArrayEquals(new int[] {1, 65, 64},
                SafeTensors.read(pretrained.weights()).tensors().get("pos_embed").shape());
        String printed = console.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("image size: dataset " + dataset + " stores 48-px images; model.preset = "
                + "vit_nano_patch4_32 takes 32-px images (data.img_size sets another): images are resized to 32 px"),
                printed);

        ByteArrayOutputStream finetuneConsole = new ByteArrayOutputStream();
        FinetuneResult finetuned = new FinetuneJob(FinetuneConfig.read(YamlConfig.parse("test.yaml",
                new StringReader("")).with(List.of("data.dataset=" + dataset, "output_dir=" + tmp.resolve("ft"),
                        "model.ssl_pretrained_path=" + pretrained.weights(), "training.epochs=1",
                        "training.batch_size=8", "training.warmup_epochs=0", "model.head_init=random",
                        "evaluation.tta_views=[identity]"))), false,
                new PrintStream(finetuneConsole, true)).execute(SharedSpark.session());
        assertTrue(finetuneConsole.toString(StandardCharsets.UTF_8).contains("takes 32-px images: images are "
                + "resized to 32 px"), finetuneConsole.toString(StandardCharsets.UTF_8));
        assertEquals("32", SafeTensors.read(finetuned.liveWeights()).metadata().get("img_size"));
    }
}
