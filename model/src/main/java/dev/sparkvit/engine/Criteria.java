package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.nn.ClassNLLCriterion;
import com.intel.analytics.bigdl.dllib.nn.ClassNLLCriterion$;
import com.intel.analytics.bigdl.dllib.nn.CrossEntropyCriterion;
import com.intel.analytics.bigdl.dllib.nn.CrossEntropyCriterion$;
import com.intel.analytics.bigdl.dllib.nn.MSECriterion;
import com.intel.analytics.bigdl.dllib.nn.MSECriterion$;

/** Factories for stock DLlib criteria, with Scala's default arguments filled in. */
public final class Criteria {
    private Criteria() {
    }

    /**
     * Negative log-likelihood over log-probabilities (pair with {@link Layers#logSoftMax()}), averaged over the
     * batch. DLlib class labels are 1-based: label {@code k} selects column {@code k - 1}.
     */
    public static ClassNLLCriterion<Float> classNll() {
        return ClassNLLCriterion$.MODULE$.apply(null, true, true, -1, FloatTypes.TAG, FloatTypes.NUMERIC);
    }

    /** Softmax cross-entropy on logits (LogSoftMax then NLL), averaged over the batch; 1-based labels. */
    public static CrossEntropyCriterion<Float> crossEntropy() {
        return CrossEntropyCriterion$.MODULE$.apply(null, true, FloatTypes.TAG, FloatTypes.NUMERIC);
    }

    /** Mean squared error, averaged over all elements. */
    public static MSECriterion<Float> mse() {
        return MSECriterion$.MODULE$.apply(FloatTypes.TAG, FloatTypes.NUMERIC);
    }
}
