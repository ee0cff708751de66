package dev.sparkvit.engine.blas;

import java.nio.file.Path;
import java.util.function.Function;

/**
 * Which OpenBLAS shared library file to load: {@value #PROPERTY} (system property), else the environment variable
 * {@value #ENV}, else Debian/Ubuntu's single-threaded build. DLlib runs one single-threaded replica per core, so the
 * product wants the serial build; a threaded one would oversubscribe the cores. submit/openblas.sh installs both.
 */
public final class OpenBlasLibrary {
    public static final String PROPERTY = "sparkvit.openblas.library";
    public static final String ENV = "SPARKVIT_OPENBLAS_LIBRARY";
    /** Debian/Ubuntu package libopenblas0-serial: no threads of its own, safe to call from many threads. */
    public static final Path DEBIAN_SERIAL = Path.of("/usr/lib/x86_64-linux-gnu/openblas-serial/libblas.so.3");
    /** Debian/Ubuntu package libopenblas0-pthread: OPENBLAS_NUM_THREADS threads per call, fixed when it loads. */
    public static final Path DEBIAN_PTHREAD = Path.of("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3");

    private OpenBlasLibrary() {
    }

    /** The configured library of this JVM. */
    public static Path configured() {
        return configured(System::getProperty, System::getenv);
    }

    static Path configured(Function<String, String> properties, Function<String, String> environment) {
        Setting setting = Setting.read(PROPERTY, ENV, properties, environment);
        if (setting.value() == null) {
            return DEBIAN_SERIAL;
        }
        Path path = Path.of(setting.value().trim());
        if (!path.isAbsolute()) {
            throw new IllegalArgumentException(setting.source() + "=" + setting.value() + ": give the absolute path "
                    + "of a BLAS shared library, e.g. " + DEBIAN_SERIAL);
        }
        return path;
    }
}
