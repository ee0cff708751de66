package dev.sparkvit.jobs.finetune;

import static dev.sparkvit.jobs.finetune.FinetuneKeys.BATCH_SIZE;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.DROP_PATH_RATE;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.LEARNING_RATE;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.MIXING;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.SEVERITY;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.WARMUP_EPOCHS;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.WEIGHT_DECAY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.YamlConfig;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Auto keys resolve by the train split's size; a key set in the config wins. */
class FinetuneRecipeTest {
    @TempDir
    Path tmp;

    private FinetuneSettings read(String... sets) {
        List<String> all = new ArrayList<>(List.of("data.dataset=" + tmp));
        all.addAll(List.of(sets));
        return FinetuneConfig.read(YamlConfig.parse("f.yaml", new StringReader("")).with(all));
    }

    @Test
    void theSizeClassesAreTheGuides() {
        assertEquals(FinetuneRecipe.Scale.SMALL, FinetuneRecipe.Scale.of(4_999));
        assertEquals(FinetuneRecipe.Scale.MEDIUM, FinetuneRecipe.Scale.of(5_000));
        assertEquals(FinetuneRecipe.Scale.MEDIUM, FinetuneRecipe.Scale.of(50_000));
        assertEquals(FinetuneRecipe.Scale.LARGE, FinetuneRecipe.Scale.of(50_001));
        FinetuneRecipe small = FinetuneRecipe.forTrainImages(1_433);
        FinetuneRecipe large = FinetuneRecipe.forTrainImages(1_281_167);
        assertEquals(16, small.batchSize());
        assertEquals(64, large.batchSize());
        // the guide's learning rates for medium and large datasets
        assertEquals(1e-4, FinetuneRecipe.forTrainImages(20_000).learningRate());
        assertEquals(3e-4, large.learningRate());
        assertFalse(small.mixup() || small.cutmix(), "no mixing on small datasets");
        assertTrue(large.mixup() && large.cutmix());
        assertEquals("light", small.severity());
    }

    @Test
    void everyAutoKeyTakesTheRecipesValue() {
        FinetuneSettings unresolved = read("training.epochs=30");
        assertEquals(FinetuneSettings.AUTO_KEYS.size(), unresolved.auto().size());
        assertThrows(IllegalStateException.class, unresolved::fingerprint);
        for (long images : new long[] {1_433, 20_000, 200_000}) {
            FinetuneRecipe r = FinetuneRecipe.forTrainImages(images);
            FinetuneSettings s = unresolved.resolved(images, 1);
            assertEquals(r.batchSize(), s.get(BATCH_SIZE));
            assertEquals(r.learningRate(), s.get(LEARNING_RATE));
            assertEquals(r.weightDecay(), s.get(WEIGHT_DECAY));
            assertEquals(r.dropPathRate(), s.get(DROP_PATH_RATE));
            assertEquals(r.warmupEpochs(30), s.get(WARMUP_EPOCHS));
            assertEquals(r.severity(), s.get(SEVERITY));
            assertEquals(r.mixup(), s.get(MIXING).mixup());
            assertEquals(r.cutmix(), s.get(MIXING).cutmix());
            assertEquals(r.scale().toString(), s.fingerprint().get("recipe"));
        }
    }

    @Test
    void keysSetInTheConfigWin() {
        FinetuneSettings s = read("training.batch_size=48", "training.learning_rate=0.002",
                "training.warmup_epochs=4", "training.weight_decay=0", "model.drop_path_rate=0",
                "augmentations.severity=aggressive", "training.use_mixup=true", "training.use_cutmix=false")
                .resolved(1_433, 2);
        assertTrue(s.auto().isEmpty());
        assertEquals(48, s.get(BATCH_SIZE));
        assertEquals(0.002, s.get(LEARNING_RATE));
        assertEquals(4, s.get(WARMUP_EPOCHS));
        assertEquals(0.0, s.get(WEIGHT_DECAY));
        assertEquals(0.0, s.get(DROP_PATH_RATE));
        assertEquals("aggressive", s.get(SEVERITY));
        assertEquals(new FinetuneSettings.Mixing(true, 0.8, false, 1.0), s.get(MIXING));
        String line = s.describeRecipe(1_433);
        assertTrue(line.contains("small dataset (1433 train images") && line.contains("batch 48 (set)")
                && line.contains("cutmix off (set)"), line);
    }

    @Test
    void anAutoBatchIsRoundedUpToTheReplicasAndAccumulation() {
        FinetuneSettings s = read("training.gradient_accumulation_steps=2").resolved(1_433, 12);
        assertEquals(24, s.get(BATCH_SIZE));
        assertEquals(12, s.microBatch());
        // more accumulation steps than the recipe's batch: no error about a batch size nobody set
        FinetuneSettings many = read("training.gradient_accumulation_steps=32").resolved(1_433, 2);
        assertEquals(64, many.get(FinetuneKeys.BATCH_SIZE));
        assertEquals(2, many.microBatch());
    }

    @Test
    void theWarmupIsTheGuidesShareOfTheEpochs() {
        FinetuneRecipe small = FinetuneRecipe.forTrainImages(100);
        assertEquals(10, small.warmupEpochs(100));
        assertEquals(2, small.warmupEpochs(15));
        assertEquals(1, small.warmupEpochs(2));
        assertEquals(0, small.warmupEpochs(1));
    }
}
