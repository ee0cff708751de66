package dev.sparkvit.jobs.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.model.optim.LearningRateSchedule;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitPresets;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layer-wise learning-rate decay over a 4-block ViT, against rates worked out by hand. */
class FinetuneOptimizersTest {
    private static final double LR = 0.002;
    private static final long WARMUP = 10;
    private static final long TOTAL = 100;
    /** The nano preset: 4 blocks. */
    private static final VisionTransformer VIT = VisionTransformer.classifier(
            VitPresets.get("vit_nano_patch4_32").withImgSize(16), 3, 1);

    @TempDir
    Path tmp;

    private Map<String, LearningRateSchedule> schedules(double layerDecay) {
        FinetuneSettings settings = FinetuneConfig.read(YamlConfig.parse("test.yaml", new StringReader(
                "data:\n  dataset: " + tmp + "\ntraining:\n  learning_rate: " + LR + "\n  layer_decay: " + layerDecay
                        + "\n")));
        return new FinetuneOptimizers(settings, VIT, null, WARMUP, TOTAL).schedules();
    }

    private static Map<String, Double> at(Map<String, LearningRateSchedule> schedules, long step) {
        Map<String, Double> rates = new LinkedHashMap<>();
        schedules.forEach((group, schedule) -> rates.put(group, schedule.rate(step)));
        return rates;
    }

    private static void assertRates(Map<String, Double> expected, Map<String, Double> actual) {
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()), "groups in parameter order");
        expected.forEach((group, rate) -> assertEquals(rate, actual.get(group), 1e-15, group));
    }

    @Test
    void layerDecayScalesEachGroupByItsDepthBelowTheHead() {
        Map<String, LearningRateSchedule> schedules = schedules(0.75);
        Map<String, Double> peak = new LinkedHashMap<>();
        peak.put("stem", 0.2373046875 * LR); // 0.75^5
        peak.put("blocks.0", 0.31640625 * LR); // 0.75^4
        peak.put("blocks.1", 0.421875 * LR); // 0.75^3
        peak.put("blocks.2", 0.5625 * LR); // 0.75^2
        peak.put("blocks.3", 0.75 * LR);
        peak.put("neck", LR);
        peak.put("head", LR);
        assertRates(peak, at(schedules, WARMUP));
        // the first warmup step is a tenth of the peak, in every group alike
        Map<String, Double> first = new LinkedHashMap<>();
        peak.forEach((group, rate) -> first.put(group, rate / WARMUP));
        assertRates(first, at(schedules, 0));
    }

    @Test
    void layerDecayOneGivesEveryGroupTheSameRate() {
        Map<String, LearningRateSchedule> schedules = schedules(1.0);
        for (long step : new long[] {0, WARMUP, 55, TOTAL - 1}) {
            double head = schedules.get("head").rate(step);
            at(schedules, step).forEach((group, rate) -> assertEquals(head, rate, 0.0, group + " at " + step));
        }
        assertEquals(LR, schedules.get("stem").rate(WARMUP), 1e-15);
    }

    @Test
    void layerIdsFollowBeit() {
        assertEquals(0, FinetuneOptimizers.layerId("stem", 4));
        assertEquals(1, FinetuneOptimizers.layerId("blocks.0", 4));
        assertEquals(4, FinetuneOptimizers.layerId("blocks.3", 4));
        assertEquals(5, FinetuneOptimizers.layerId("neck", 4));
        assertEquals(5, FinetuneOptimizers.layerId("head", 4));
    }

    @Test
    void anUnknownGroupHasNoMethod() {
        FinetuneSettings settings = FinetuneConfig.read(YamlConfig.parse("test.yaml", new StringReader(
                "data:\n  dataset: " + tmp + "\n")));
        FinetuneOptimizers optimizers = new FinetuneOptimizers(settings, VIT, null, WARMUP, TOTAL);
        assertEquals(7, optimizers.methods().size());
        assertThrows(IllegalArgumentException.class, () -> optimizers.method("blocks.9"));
    }
}
