package dev.sparkvit.engine;

/**
 * One iteration whose loss or averaged gradient was not finite, as {@link NonFiniteGuard} saw it (on the driver, or
 * in the update job with one partition, from where it travels back: serializable).
 *
 * @param iteration 0-based iteration (DLlib's log and the TensorBoard step call it {@code iteration + 1})
 * @param epoch 0-based epoch
 * @param loss the iteration's loss: the mean over the replicas, as DLlib reports it
 * @param gradientNorm global L2 norm of the averaged gradient (before clipping)
 * @param skippedSoFar steps skipped in the run including this one (when training stops here: those before it)
 */
public record NonFiniteStep(long iteration, int epoch, double loss, double gradientNorm, int skippedSoFar)
        implements java.io.Serializable {

    /** What was not finite, e.g. "loss NaN, gradient norm NaN" or "gradient norm Infinity (loss 2.3026)". */
    public String describe() {
        boolean lossBad = !Double.isFinite(loss);
        boolean gradientBad = !Double.isFinite(gradientNorm);
        if (lossBad && gradientBad) {
            return "loss " + loss + ", gradient norm " + gradientNorm;
        }
        if (lossBad) {
            return "loss " + loss + " (gradient norm " + String.format("%.4g", gradientNorm) + ")";
        }
        return "gradient norm " + gradientNorm + " (loss " + String.format("%.4f", loss) + ")";
    }
}
