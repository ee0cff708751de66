package dev.sparkvit.engine;

import java.io.Serializable;

/**
 * What a {@link BarrierSegment} runs on a step's exchanged gradient and weights before the optimisation methods:
 * decoupled weight decay of the decayed ranges ({@link DecoupledWeightDecay}) or LARS ({@link LarsAdaptation}).
 */
public sealed interface GradientProcessor extends Serializable permits DecoupledWeightDecay, LarsAdaptation {
}
