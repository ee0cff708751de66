package dev.sparkvit.engine.blas;

import java.util.Locale;
import java.util.function.Function;

/**
 * The GEMM backend setting: {@value #PROPERTY} (system property), else the environment variable {@value #ENV},
 * else {@link #AUTO}. Spark executors read their own JVM's setting, so a cluster passes it to them too (see
 * docs/ENGINE.md, "BLAS backend").
 */
public enum BlasBackend {
    /** OpenBLAS when its library loads, else MKL. */
    AUTO,
    /** The MKL bundled with BigDL's core jar. */
    MKL,
    /** OpenBLAS from {@link OpenBlasLibrary#configured()}; fails when it does not load. */
    OPENBLAS;

    public static final String PROPERTY = "sparkvit.blas";
    public static final String ENV = "SPARKVIT_BLAS";

    /** The setting of this JVM. */
    public static BlasBackend configured() {
        return configured(System::getProperty, System::getenv);
    }

    /**
     * @throws IllegalArgumentException naming the property or variable and its value when it is none of auto, mkl,
     *         openblas
     */
    static BlasBackend configured(Function<String, String> properties, Function<String, String> environment) {
        String value = properties.apply(PROPERTY);
        String source = PROPERTY;
        if (value == null || value.isBlank()) {
            value = environment.apply(ENV);
            source = ENV;
        }
        if (value == null || value.isBlank()) {
            return AUTO;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "mkl" -> MKL;
            case "openblas" -> OPENBLAS;
            default -> throw new IllegalArgumentException(source + "=" + value + ": expected auto, mkl or openblas");
        };
    }
}
