package dev.sparkvit.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.ConfigException;
import org.junit.jupiter.api.Test;

/** The schedule and data checks every training job shares (issue 20, defects 5 and 6). */
class TrainingConfigTest {
    @Test
    void aModelMadeForLargerImagesThanTheDatasetStoresIsWarnedAbout() {
        TrainingConfig.SizeNote upscaled = TrainingConfig.imageSizeNote("job.yaml", ModelChoice.of(
                "vit_tiny_patch16_224"), "ds", 32);
        assertEquals("job.yaml: model.preset = vit_tiny_patch16_224 takes 224-px images (data.img_size sets another), "
                + "but dataset ds stores 32 px: every image is upscaled 7x, which costs compute and adds no detail "
                + "(ingest with a larger --stored-size, set data.img_size: 32 or choose a preset for 32 px)",
                upscaled.line());
        assertTrue(upscaled.warning());
        assertNull(TrainingConfig.imageSizeNote("job.yaml", ModelChoice.of("vit_nano_patch4_32"), "ds", 32));
        assertNull(TrainingConfig.imageSizeNote("job.yaml", new ModelChoice("vit_nano_patch4_32", "preset", "preset",
                16), "ds", 16), "data.img_size as stored: the tests");
        TrainingConfig.SizeNote resized = TrainingConfig.imageSizeNote("job.yaml", ModelChoice.of(
                "vit_nano_patch4_32"), "ds", 128);
        assertEquals("image size: dataset ds stores 128-px images; model.preset = vit_nano_patch4_32 takes 32-px "
                + "images (data.img_size sets another): images are resized to 32 px", resized.line());
        assertFalse(resized.warning());
    }

    @Test
    void anImageSizeThatIsNotAMultipleOfThePatchSizeIsNamed() {
        dev.sparkvit.config.ConfigSection root = dev.sparkvit.config.YamlConfig.parse("job.yaml",
                new java.io.StringReader("data:\n  img_size: 30\n")).root();
        ConfigException e = assertThrows(ConfigException.class, () -> ModelChoice.read(root.section("model"),
                root.section("data"), "job.yaml"));
        assertTrue(e.getMessage().contains("data.img_size = 30") && e.getMessage().contains("patch size 4"),
                e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'));
    }

    @Test
    void warmupStepsAreZeroForZeroEpochsAndNamedWhenTheyCannotEndBeforeTheLastStep() {
        assertEquals(0, TrainingConfig.warmupSteps("job.yaml", 0, 1, 1, 1));
        assertEquals(3, TrainingConfig.warmupSteps("job.yaml", 1, 6, 2, 12));
        assertEquals(1, TrainingConfig.warmupSteps("job.yaml", 1, 1, 2, 2), "a fraction of a step is one");
        ConfigException e = assertThrows(ConfigException.class, () -> TrainingConfig.warmupSteps("job.yaml", 1, 1,
                2, 1));
        assertEquals("job.yaml: training.warmup_epochs = 1 is 1 optimiser steps of the run's 1; warmup must end "
                + "before the last step: lower it or raise training.epochs", e.getMessage());
    }
}
