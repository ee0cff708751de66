package dev.sparkvit.engine.blas;

import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns the {@link BlasBackend} setting into the backend this JVM runs, and logs the choice once. */
public final class BlasSelection {
    private static final Logger LOG = LoggerFactory.getLogger(BlasSelection.class);

    private BlasSelection() {
    }

    /** A chosen backend and why, as logged. */
    public record Choice(Sgemm sgemm, String reason) {
    }

    /** This JVM's backend from its settings; logs it at INFO. */
    public static Sgemm forThisJvm() {
        Choice choice = choose(BlasBackend.configured(), () -> {
            MklSgemm.requireLoaded();
            return MklSgemm.INSTANCE;
        }, () -> OpenBlasSgemm.load(OpenBlasLibrary.configured()));
        String backend = choice.sgemm() instanceof OpenBlasSgemm openBlas
                ? "openblas from " + openBlas.library() : choice.sgemm().name();
        LOG.info("sparkvit GEMM backend: {} ({})", backend, choice.reason());
        return choice.sgemm();
    }

    /**
     * @param openBlas loads OpenBLAS, or throws IllegalStateException saying why it cannot
     * @throws IllegalStateException when OpenBLAS was asked for explicitly and does not load
     */
    static Choice choose(BlasBackend setting, Supplier<Sgemm> mkl, Supplier<Sgemm> openBlas) {
        String key = BlasBackend.PROPERTY + " / " + BlasBackend.ENV;
        switch (setting) {
            case MKL:
                return new Choice(mkl.get(), key + " = mkl, the default");
            case OPENBLAS:
                try {
                    return new Choice(openBlas.get(), key + " = openblas");
                } catch (IllegalStateException e) {
                    throw new IllegalStateException(key + " = openblas, but " + e.getMessage(), e);
                }
            case AUTO:
            default:
                try {
                    Sgemm sgemm = openBlas.get();
                    return new Choice(sgemm, key + " = auto, and OpenBLAS loaded");
                } catch (IllegalStateException e) {
                    return new Choice(mkl.get(), key + " = auto, and OpenBLAS did not load: " + e.getMessage());
                }
        }
    }
}
