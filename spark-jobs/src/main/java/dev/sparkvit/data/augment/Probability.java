package dev.sparkvit.data.augment;

/** Argument checks shared by the transforms. */
final class Probability {
    private Probability() {
    }

    static void check(String name, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(name + " must be in [0, 1], got " + p);
        }
    }

    static void checkRange(String name, double lo, double hi, double min) {
        if (!(lo >= min && hi >= lo && Double.isFinite(hi))) {
            throw new IllegalArgumentException(name + " range [" + lo + ", " + hi + "] is invalid");
        }
    }
}
