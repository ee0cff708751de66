package dev.sparkvit.jobs.finetune;

import static dev.sparkvit.jobs.finetune.FinetuneKeys.GRADIENT_ACCUMULATION_STEPS;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.LAYER_DECAY;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.LEARNING_RATE;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import dev.sparkvit.engine.DecoupledWeightDecay;
import dev.sparkvit.engine.GradientAccumulation;
import dev.sparkvit.jobs.train.RunState;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import dev.sparkvit.model.optim.LearningRateSchedule;
import dev.sparkvit.model.optim.WarmupCosine;
import dev.sparkvit.model.vit.ParameterGroup;
import dev.sparkvit.model.vit.VisionTransformer;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The optimisation of a fine-tuning run: AdamW per parameter group on warmup + cosine, scaled by layer-wise
 * learning-rate decay (BEiT's and LocalMIM's recipe: the head and final norm at the full rate, block i at
 * {@code decay^(depth - i)}, the patch embedding and tokens at {@code decay^(depth + 1)}), optionally on FreezeOut's
 * per-block schedules instead; decoupled weight decay outside the no-decay set; gradient accumulation around each
 * method when configured. Schedules count optimiser steps.
 */
final class FinetuneOptimizers implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int accumulation;
    private final Map<String, LearningRateSchedule> schedules = new LinkedHashMap<>();

    /**
     * @param warmupSteps optimiser steps of linear warmup
     * @param totalSteps optimiser steps of the run
     */
    FinetuneOptimizers(FinetuneSettings settings, VisionTransformer vit, FreezeOutSchedule freezeOut,
            long warmupSteps, long totalSteps) {
        this.accumulation = settings.get(GRADIENT_ACCUMULATION_STEPS);
        int depth = vit.config().depth();
        for (ParameterGroup group : vit.parameterGroups()) {
            double scale = Math.pow(settings.get(LAYER_DECAY), depth - layerId(group.name(), depth) + 1);
            LearningRateSchedule base;
            if (freezeOut != null && group.name().equals("stem")) {
                base = freezeOut.forBlock(0);
            } else if (freezeOut != null && group.name().startsWith("blocks.")) {
                base = freezeOut.forBlock(Integer.parseInt(group.name().substring("blocks.".length())));
            } else {
                base = new WarmupCosine(settings.get(LEARNING_RATE), warmupSteps, totalSteps, 0.0);
            }
            schedules.put(group.name(), scale == 1 ? base : scaled(base, scale));
        }
    }

    /** BEiT's layer id: 0 for the stem, i + 1 for block i, depth + 1 for the final norm and the head. */
    static int layerId(String group, int depth) {
        if (group.equals("stem")) {
            return 0;
        }
        if (group.startsWith("blocks.")) {
            return Integer.parseInt(group.substring("blocks.".length())) + 1;
        }
        return depth + 1;
    }

    private static LearningRateSchedule scaled(LearningRateSchedule base, double scale) {
        return step -> scale * base.rate(step);
    }

    /** The learning-rate schedule of every group (in optimiser steps), in parameter order. */
    Map<String, LearningRateSchedule> schedules() {
        return schedules;
    }

    /** A fresh method for one group: AdamW, behind gradient accumulation when configured. */
    OptimMethod<Float> method(String group) {
        LearningRateSchedule schedule = schedules.get(group);
        if (schedule == null) {
            throw new IllegalArgumentException("no parameter group " + group);
        }
        AdamW adamW = AdamW.of(schedule, 0.0);
        return accumulation == 1 ? adamW : new GradientAccumulation<>(adamW, accumulation);
    }

    /** One fresh method per group. */
    Map<String, OptimMethod<Float>> methods() {
        Map<String, OptimMethod<Float>> methods = new LinkedHashMap<>();
        schedules.keySet().forEach(group -> methods.put(group, method(group)));
        return methods;
    }

    /**
     * Decoupled decay of the decayed parameters at their group's rate, on stepping iterations only; call after the
     * training model's parameters were compacted (storage offsets are positions in the flat buffer).
     */
    DecoupledWeightDecay weightDecay(VisionTransformer vit, double weightDecay) {
        return new DecoupledWeightDecay(weightDecay, RunState.decayRanges(vit, schedules)).everySteps(accumulation);
    }

}
