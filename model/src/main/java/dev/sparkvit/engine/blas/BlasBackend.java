package dev.sparkvit.engine.blas;

import java.util.Locale;
import java.util.function.Function;

/**
 * The GEMM backend setting: {@value #PROPERTY} (system property), else the environment variable {@value #ENV},
 * else {@link #MKL}, measured the faster on the Xeon (AVX-512) machines sparkvit is developed on (docs/ENGINE.md,
 * "BLAS backend"). Spark executors read their own JVM's setting, so a cluster passes it to them too.
 */
public enum BlasBackend {
    /** OpenBLAS when its library loads, else MKL: for machines where OpenBLAS measures faster. */
    AUTO,
    /** The MKL bundled with BigDL's core jar; the default. */
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
        Setting setting = Setting.read(PROPERTY, ENV, properties, environment);
        if (setting.value() == null) {
            return MKL;
        }
        return switch (setting.value().trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "mkl" -> MKL;
            case "openblas" -> OPENBLAS;
            default -> throw new IllegalArgumentException(setting.source() + "=" + setting.value()
                    + ": expected auto, mkl or openblas");
        };
    }
}
