package dev.sparkvit.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sparkvit.config.ConfigException;
import org.junit.jupiter.api.Test;

/** The schedule and data checks every training job shares (issue 20, defects 5 and 6). */
class TrainingConfigTest {
    @Test
    void aModelMadeForLargerImagesThanTheDatasetStoresIsWarnedAbout() {
        assertEquals("job.yaml: model.preset = vit_tiny_patch16_224 is made for 224-px images, but dataset ds stores "
                + "32 px: the model sees 2 x 2 patches of 16 px (ingest with a larger --stored-size, or choose a "
                + "preset for 32 px)", TrainingConfig.imageSizeWarning("job.yaml", "vit_tiny_patch16_224", "ds", 32));
        assertNull(TrainingConfig.imageSizeWarning("job.yaml", "vit_nano_patch4_32", "ds", 32));
        assertNull(TrainingConfig.imageSizeWarning("job.yaml", "vit_nano_patch4_32", "ds", 16), "half: the tests");
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
