package dev.sparkvit.jobs.pretrain;

import static dev.sparkvit.jobs.pretrain.PretrainKeys.LEARNING_RATE;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.MIN_LR_RATIO;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.MOMENTUM;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.OPTIMIZER;

import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import dev.sparkvit.engine.GradientProcessor;
import dev.sparkvit.engine.DecoupledWeightDecay;
import dev.sparkvit.engine.LarsAdaptation;
import dev.sparkvit.jobs.train.RunState;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import dev.sparkvit.model.optim.LearningRateSchedule;
import dev.sparkvit.model.optim.SgdMomentum;
import dev.sparkvit.model.optim.WarmupCosine;
import dev.sparkvit.model.vit.ParameterGroup;
import dev.sparkvit.model.vit.VisionTransformer;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The optimisation of a pretraining run: one schedule and one method (AdamW, or SGD with momentum for SGD and LARS)
 * per parameter group, FreezeOut schedules for the stem and blocks when enabled, and the weight decay of every
 * parameter outside the model's no-decay set: decoupled, following its group's schedule, for AdamW and SGD; coupled
 * inside the trust ratio for LARS (which also leaves the no-decay set unadapted, as SimCLR).
 */
final class PretrainOptimizers implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String optimizer;
    private final double momentum;
    private final Map<String, LearningRateSchedule> schedules = new LinkedHashMap<>();

    PretrainOptimizers(PretrainSettings settings, VisionTransformer vit, FreezeOutSchedule freezeOut, long warmup,
            long total) {
        this.optimizer = settings.get(OPTIMIZER);
        this.momentum = settings.get(MOMENTUM);
        for (ParameterGroup group : vit.parameterGroups()) {
            LearningRateSchedule schedule;
            if (freezeOut != null && group.name().equals("stem")) {
                schedule = freezeOut.forBlock(0);
            } else if (freezeOut != null && group.name().startsWith("blocks.")) {
                schedule = freezeOut.forBlock(Integer.parseInt(group.name().substring("blocks.".length())));
            } else {
                schedule = new WarmupCosine(settings.get(LEARNING_RATE), warmup, total,
                        settings.get(MIN_LR_RATIO) * settings.get(LEARNING_RATE));
            }
            schedules.put(group.name(), schedule);
        }
    }

    /** The learning-rate schedule of every group, in parameter order. */
    Map<String, LearningRateSchedule> schedules() {
        return schedules;
    }

    /** A fresh method for one group (decay is not its job: see {@link #processor}). */
    OptimMethod<Float> method(String group) {
        LearningRateSchedule schedule = schedules.get(group);
        if (schedule == null) {
            throw new IllegalArgumentException("no parameter group " + group);
        }
        return optimizer.equals("adamw") ? AdamW.of(schedule, 0.0) : new SgdMomentum(schedule, momentum, false);
    }

    /**
     * What the training step runs on the exchanged gradient before the methods: LARS (trust ratios and coupled decay
     * of the decayed tensors) for "lars", decoupled weight decay otherwise. Call after the training model's
     * parameters were compacted (storage offsets are positions in the flat buffer).
     */
    GradientProcessor processor(VisionTransformer vit, double weightDecay, double larsEta) {
        DecoupledWeightDecay decay = weightDecay(vit, weightDecay);
        return optimizer.equals("lars") ? new LarsAdaptation(larsEta, weightDecay, decay.ranges()) : decay;
    }

    /** One fresh method per group. */
    Map<String, OptimMethod<Float>> methods() {
        Map<String, OptimMethod<Float>> methods = new LinkedHashMap<>();
        schedules.keySet().forEach(group -> methods.put(group, method(group)));
        return methods;
    }

    /**
     * Decoupled decay of the decayed parameters; call after the training model's parameters were compacted (their
     * storage offsets are positions in the flat buffer).
     */
    private DecoupledWeightDecay weightDecay(VisionTransformer vit, double weightDecay) {
        return new DecoupledWeightDecay(weightDecay, RunState.decayRanges(vit, schedules));
    }

}
