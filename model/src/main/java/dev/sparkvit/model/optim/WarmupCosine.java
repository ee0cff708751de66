package dev.sparkvit.model.optim;

/**
 * Linear warmup then cosine decay, iteration-wise (Loshchilov and Hutter 2017; the training guide's schedule):
 * {@code base * (t + 1) / warmup} for the first {@code warmup} iterations, then
 * {@code min + (base - min) * (1 + cos(pi * (t - warmup) / (total - warmup))) / 2}, and {@code min} from
 * {@code total} on.
 */
public record WarmupCosine(double base, long warmup, long total, double min) implements LearningRateSchedule {
    public WarmupCosine {
        if (!(base > 0) || min < 0 || min > base || warmup < 0 || total <= warmup) {
            throw new IllegalArgumentException("warmup-cosine schedule needs base > 0, 0 <= min <= base and "
                    + "0 <= warmup < total; got base " + base + ", min " + min + ", warmup " + warmup + ", total "
                    + total);
        }
    }

    @Override
    public double rate(long iteration) {
        if (iteration < warmup) {
            return base * (iteration + 1) / warmup;
        }
        if (iteration >= total) {
            return min;
        }
        double progress = (double) (iteration - warmup) / (total - warmup);
        return min + (base - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
