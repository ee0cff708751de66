package dev.sparkvit.jobs.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.model.optim.LearningRateSchedule;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.VisionTransformer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code training.min_lr_ratio}: the cosine decay of every parameter group ends at that fraction of the peak (0 by
 * default, as before the key), and a run that sets it records it in its fingerprint while one that does not keeps
 * the fingerprint runs had before the key.
 */
class MinLrRatioTest {
    private static final long WARMUP = 10;
    private static final long TOTAL = 110;

    @TempDir
    Path tmp;

    private PretrainSettings settings(String... sets) {
        List<String> all = new ArrayList<>(List.of("data.dataset=" + tmp, "training.learning_rate=0.002"));
        all.addAll(List.of(sets));
        return PretrainConfig.read(YamlConfig.load(Path.of("..", "conf", "pretrain.yaml")).with(all));
    }

    private static Map<String, LearningRateSchedule> schedules(PretrainSettings settings) {
        VisionTransformer vit = VisionTransformer.of(settings.get(PretrainKeys.MODEL).config(),
                Head.projection(16, true, true), 1);
        return new PretrainOptimizers(settings, vit, null, WARMUP, TOTAL).schedules();
    }

    @Test
    void theCosineEndsAtTheRatioOfThePeak() {
        Map<String, LearningRateSchedule> floor = schedules(settings("training.min_lr_ratio=0.1"));
        Map<String, LearningRateSchedule> zero = schedules(settings());
        assertFalse(floor.isEmpty());
        for (String group : floor.keySet()) {
            LearningRateSchedule s = floor.get(group);
            assertEquals(0.002, s.rate(WARMUP), 1e-15, group + ": the peak after warmup");
            assertEquals(0.0002, s.rate(TOTAL), 1e-15, group + ": the floor at the end");
            assertEquals((0.002 + 0.0002) / 2, s.rate(WARMUP + (TOTAL - WARMUP) / 2), 1e-15, group + ": half-way");
            assertEquals(0.0, zero.get(group).rate(TOTAL), 0.0, group + ": without the key the decay ends at 0");
        }
    }

    @Test
    void aSetRatioIsInTheFingerprintAndTheDefaultIsNot() {
        assertEquals("0.1", settings("training.min_lr_ratio=0.1").fingerprint().get("min_lr_ratio"));
        assertFalse(settings().fingerprint().containsKey("min_lr_ratio"));
        assertFalse(settings("training.min_lr_ratio=0").fingerprint().containsKey("min_lr_ratio"));
    }

    @Test
    void aRatioOutsideZeroToOneIsOneLine() {
        ConfigException e = assertThrows(ConfigException.class, () -> settings("training.min_lr_ratio=1.5"));
        assertEquals("--set training.min_lr_ratio: training.min_lr_ratio = 1.5 is invalid: expected a number in "
                + "[0.0, 1.0]", e.getMessage());
    }
}
