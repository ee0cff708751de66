package dev.sparkvit.jobs.finetune;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.model.io.VitWeights;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitPresets;
import dev.sparkvit.testing.SharedSpark;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The fine-tuning tests' inputs: a small ingested dataset (16-px synthetic images of ten classes, 89 train images)
 * and an "SSL" encoder file (any weights other than the fine-tuning model's own initialisation will do).
 */
record FinetuneFixture(String dataset, Path ssl) {
    static final VitConfig CONFIG = VitPresets.get("vit_nano_patch4_32").withImgSize(16);

    /** Writes both into {@code folder}. */
    static FinetuneFixture create(Path folder) throws IOException {
        Path raw = folder.resolve("raw");
        new SyntheticImageFolder(16, 12, 4).writeTo(raw);
        String dataset = folder.resolve("ds").toString();
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset).withStoredSize(16))
                .execute(SharedSpark.session());
        Path ssl = folder.resolve("ssl.safetensors");
        VitWeights.save(VisionTransformer.simclr(CONFIG, 32, 7), ssl, Map.of("preset", "vit_nano_patch4_32"));
        return new FinetuneFixture(dataset, ssl);
    }

    /** Runs the job with {@code settings} on the shared session, stopping after {@code stopAfter} (0: never). */
    static FinetuneResult run(FinetuneSettings settings, boolean resume, long stopAfter,
            java.io.ByteArrayOutputStream console) {
        FinetuneJob job = new FinetuneJob(settings, resume, new java.io.PrintStream(console, true));
        if (stopAfter > 0) {
            job.stopAfter(stopAfter);
        }
        return job.execute(SharedSpark.session());
    }
}
