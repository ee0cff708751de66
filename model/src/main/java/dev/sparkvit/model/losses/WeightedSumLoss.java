package dev.sparkvit.model.losses;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatCriterion;
import dev.sparkvit.engine.Tensors;
import java.util.List;

/**
 * A weighted sum of losses over the same input and target, such as the training guide's
 * {@code 0.5 * focal + 0.5 * label-smoothed cross-entropy} ({@link #focalPlusSmoothedCrossEntropy}).
 */
public final class WeightedSumLoss extends FloatCriterion {
    private static final long serialVersionUID = 1L;

    /** One term: a weight and a loss. */
    public record Term(double weight, FloatCriterion loss) implements java.io.Serializable {
    }

    private final Term[] terms;

    public WeightedSumLoss(List<Term> terms) {
        if (terms.isEmpty()) {
            throw new IllegalArgumentException("a weighted sum needs at least one loss");
        }
        this.terms = terms.toArray(new Term[0]);
    }

    /** The guide's combined loss: 0.5 focal (gamma, alpha) + 0.5 cross-entropy with label smoothing. */
    public static WeightedSumLoss focalPlusSmoothedCrossEntropy(double gamma, float[] alpha, double smoothing,
            float[] classWeights) {
        return new WeightedSumLoss(List.of(new Term(0.5, new FocalLoss(gamma, alpha)),
                new Term(0.5, new CrossEntropyLoss(smoothing, classWeights))));
    }

    @Override
    protected float loss(Tensor<Float> input, Tensor<Float> target) {
        double sum = 0;
        for (Term term : terms) {
            sum += term.weight() * term.loss().forward(input, target);
        }
        return (float) sum;
    }

    @Override
    protected void gradient(Tensor<Float> input, Tensor<Float> target, Tensor<Float> gradInput) {
        int size = Tensors.size(input);
        float[] total = new float[size];
        for (Term term : terms) {
            float[] part = Tensors.toArray(term.loss().backward(input, target));
            for (int i = 0; i < size; i++) {
                total[i] += (float) (term.weight() * part[i]);
            }
        }
        gradInput.copy(Tensors.of(total, Tensors.shape(input)));
    }
}
