package dev.sparkvit.bench;

/**
 * OpenBLAS fixes its thread count from {@value #ENV} when its library loads, so a benchmark at N threads must be
 * started with that variable at N. One thread runs the single-threaded build, which ignores the variable; the check
 * still refuses a contradicting value, as it is most likely a mistake in the caller's script.
 */
public final class OpenBlasThreads {
    public static final String ENV = "OPENBLAS_NUM_THREADS";

    private OpenBlasThreads() {
    }

    /** @throws IllegalArgumentException naming the variable, its value and the requested thread count */
    public static void requireAgrees(int threads, String envValue) {
        String value = envValue == null ? null : envValue.trim();
        if (threads == 1 && (value == null || value.isEmpty() || value.equals("1"))) {
            return;
        }
        if (threads > 1 && String.valueOf(threads).equals(value)) {
            return;
        }
        throw new IllegalArgumentException("--threads " + threads + " but " + ENV + "="
                + (value == null ? "(unset)" : value) + ": OpenBLAS takes its thread count from " + ENV + " when it "
                + "loads, so start the JVM with " + ENV + "=" + threads + " (or leave openblas out of --backends)");
    }
}
