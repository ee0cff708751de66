package dev.sparkvit.engine.blas;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.Locale;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets BigDL's MKL (2019.0 Update 1) run its fast kernels on AMD processors. That MKL takes its optimised code paths
 * only on GenuineIntel CPUs; elsewhere it runs a generic path: on an AMD EPYC (Zen 4, AVX-512) 40 GFLOP/s of
 * single-thread sgemm against 106 on the AVX-512 path, and its results depend on where the JVM happened to place the
 * arrays, so the same product differs in the last bit from one call to the next (docs/ENGINE.md, "MKL on AMD").
 *
 * <p>MKL 2019 takes the code path from the environment variable {@value #MKL_VARIABLE} when it first computes. This
 * class puts it into the process environment (libc {@code setenv} through JNA) before that happens: {@code 7} (the
 * AVX-512 kernels) when the CPU has AVX-512 F, CD, BW, DQ and VL, else {@code 5} (AVX2) when it has AVX2 and FMA.
 * Intel CPUs are left to MKL's own dispatch, as is a {@value #MKL_VARIABLE} the user set. Every JVM that computes
 * calls {@link #configure()} before its first MKL call: {@code Blas}, {@code MklSgemm} and {@code FloatModule} (whose
 * class is initialised when an executor deserialises a model) do.
 *
 * <p>Setting: {@value #PROPERTY} (system property), else {@value #ENV}: {@code auto} (default, as above),
 * {@code native} (leave MKL alone), {@code avx2} or {@code avx512} (force that path, refused when the CPU lacks it).
 */
public final class MklCpuDispatch {
    public static final String PROPERTY = "sparkvit.mkl.cpu";
    public static final String ENV = "SPARKVIT_MKL_CPU";
    static final String MKL_VARIABLE = "MKL_DEBUG_CPU_TYPE";
    static final String AVX2_PATH = "5";
    static final String AVX512_PATH = "7";

    private static final Logger LOG = LoggerFactory.getLogger(MklCpuDispatch.class);
    private static Decision configured;

    private MklCpuDispatch() {
    }

    /** What to do about MKL's code path: the value to set (null: set nothing) and why, as logged. */
    public record Decision(String value, String reason) {
    }

    enum Mode {
        AUTO, NATIVE, AVX2, AVX512
    }

    interface LibC extends Library {
        int setenv(String name, String value, int overwrite);

        String getenv(String name);
    }

    /**
     * Chooses and applies this JVM's MKL code path, once; later calls return the first decision. When the variable
     * cannot be set (JNA's native part does not load, say), MKL keeps its own dispatch and a warning says how to set
     * it by hand: slower on AMD, never a failure.
     *
     * @throws IllegalArgumentException when the setting is not a mode, or forces a path this CPU lacks
     */
    public static synchronized Decision configure() {
        if (configured != null) {
            return configured;
        }
        Decision decision = decide(mode(System::getProperty, System::getenv), CpuInfo.ofThisMachine(),
                System.getenv(MKL_VARIABLE));
        if (decision.value() == null) {
            LOG.info("sparkvit MKL code path: {}", decision.reason());
        } else {
            try {
                setEnvironment(MKL_VARIABLE, decision.value());
                LOG.info("sparkvit MKL code path: {}", decision.reason());
            } catch (RuntimeException | LinkageError e) {
                decision = new Decision(null, decision.reason() + ", but it could not be set (" + e
                        + "): MKL keeps its own, slow path on this CPU; export " + MKL_VARIABLE + "="
                        + decision.value() + " before starting the JVM instead");
                LOG.warn("sparkvit MKL code path: {}", decision.reason());
            }
        }
        configured = decision;
        return decision;
    }

    private static void setEnvironment(String name, String value) {
        LibC libc = Native.load("c", LibC.class);
        if (libc.setenv(name, value, 1) != 0 || !value.equals(libc.getenv(name))) {
            throw new IllegalStateException("libc setenv(" + name + ", " + value + ") failed");
        }
    }

    /**
     * @throws IllegalArgumentException naming the property or variable and its value when it is not a mode
     */
    static Mode mode(Function<String, String> properties, Function<String, String> environment) {
        Setting setting = Setting.read(PROPERTY, ENV, properties, environment);
        if (setting.value() == null) {
            return Mode.AUTO;
        }
        try {
            return Mode.valueOf(setting.value().trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(setting.source() + "=" + setting.value()
                    + ": expected auto, native, avx2 or avx512", e);
        }
    }

    /**
     * @param existing the value of {@value #MKL_VARIABLE} this process started with, or null
     * @throws IllegalArgumentException when {@code mode} forces a path the CPU lacks
     */
    static Decision decide(Mode mode, CpuInfo cpu, String existing) {
        if (existing != null && !existing.isBlank()) {
            return new Decision(null, MKL_VARIABLE + "=" + existing + " was set before start: left as it is");
        }
        switch (mode) {
            case NATIVE:
                return new Decision(null, PROPERTY + " = native: MKL's own dispatch on " + cpu.vendor());
            case AVX512:
                require(cpu.hasAvx512(), "avx512", cpu, "AVX-512 F/CD/BW/DQ/VL");
                return new Decision(AVX512_PATH, PROPERTY + " = avx512: " + MKL_VARIABLE + "=" + AVX512_PATH);
            case AVX2:
                require(cpu.hasAvx2(), "avx2", cpu, "AVX2 and FMA");
                return new Decision(AVX2_PATH, PROPERTY + " = avx2: " + MKL_VARIABLE + "=" + AVX2_PATH);
            case AUTO:
            default:
                if (cpu.isIntel()) {
                    return new Decision(null, "Intel CPU: MKL's own dispatch");
                }
                if (cpu.hasAvx512()) {
                    return new Decision(AVX512_PATH, cpu.vendor() + " CPU with AVX-512: " + MKL_VARIABLE + "="
                            + AVX512_PATH + " (MKL's AVX-512 kernels)");
                }
                if (cpu.hasAvx2()) {
                    return new Decision(AVX2_PATH, cpu.vendor() + " CPU with AVX2: " + MKL_VARIABLE + "="
                            + AVX2_PATH + " (MKL's AVX2 kernels)");
                }
                return new Decision(null, cpu.vendor() + " CPU without AVX2: MKL's own dispatch");
        }
    }

    private static void require(boolean present, String mode, CpuInfo cpu, String what) {
        if (!present) {
            throw new IllegalArgumentException(PROPERTY + " / " + ENV + " = " + mode + ", but this " + cpu.vendor()
                    + " CPU lacks " + what);
        }
    }
}
