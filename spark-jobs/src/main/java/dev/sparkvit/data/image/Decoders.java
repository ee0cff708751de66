package dev.sparkvit.data.image;

import java.util.Locale;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which decoders {@link ImageDecoder} uses besides ImageIO. Setting: {@value #PROPERTY} (system property), else
 * {@value #ENV} (environment, so {@code spark.executorEnv} carries it to executors): {@code auto} (default) takes
 * libjpeg-turbo for JPEG when {@code libturbojpeg.so.0} loads, and {@link PngReader} for 8-bit RGB(A) PNG, inflating
 * with libdeflate when {@code libdeflate.so.0} loads; {@code imageio} decodes everything with the JDK's ImageIO, as
 * before these existed. Both give the same pixels and verdicts (see {@link ImageDecoder}); the native libraries come
 * from Debian's {@code libturbojpeg0} and {@code libdeflate0} ({@code submit/codecs.sh} installs them).
 *
 * @param turboJpeg JPEG through {@link TurboJpeg}
 * @param javaPng PNG through {@link PngReader}
 * @param libDeflate {@link PngReader} inflates with {@link LibDeflate} (else {@code java.util.zip.Inflater})
 */
public record Decoders(boolean turboJpeg, boolean javaPng, boolean libDeflate) {
    public static final String PROPERTY = "sparkvit.decoders";
    public static final String ENV = "SPARKVIT_DECODERS";
    private static final Logger LOG = LoggerFactory.getLogger(Decoders.class);
    private static Decoders configured;

    public Decoders {
        if (libDeflate && !javaPng) {
            throw new IllegalArgumentException("libdeflate is used only by the Java PNG reader");
        }
        if (turboJpeg && !TurboJpeg.available()) {
            throw new IllegalStateException("libturbojpeg is not loaded: " + TurboJpeg.loadError());
        }
        if (libDeflate && !LibDeflate.available()) {
            throw new IllegalStateException("libdeflate is not loaded: " + LibDeflate.loadError());
        }
    }

    /** ImageIO alone. */
    public static Decoders imageIo() {
        return new Decoders(false, false, false);
    }

    /** Every decoder that loads in this JVM. */
    public static Decoders fastest() {
        return new Decoders(TurboJpeg.available(), true, LibDeflate.available());
    }

    /**
     * This JVM's decoders from the setting, chosen and logged once.
     *
     * @throws IllegalArgumentException when the setting is neither {@code auto} nor {@code imageio}
     */
    public static synchronized Decoders configured() {
        if (configured == null) {
            configured = fromSetting(System::getProperty, System::getenv);
            LOG.info("sparkvit image decoders: {}", configured.describe());
        }
        return configured;
    }

    static Decoders fromSetting(Function<String, String> properties, Function<String, String> environment) {
        String source = PROPERTY;
        String value = properties.apply(PROPERTY);
        if (value == null || value.isBlank()) {
            source = ENV;
            value = environment.apply(ENV);
        }
        if (value == null || value.isBlank()) {
            return fastest();
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> fastest();
            case "imageio" -> imageIo();
            default -> throw new IllegalArgumentException(source + "=" + value + ": expected auto or imageio");
        };
    }

    /** One line for logs and benchmark notes: which decoder takes what, and why a native one is missing. */
    public String describe() {
        String jpeg = turboJpeg ? "JPEG libjpeg-turbo" : "JPEG ImageIO" + (TurboJpeg.available() ? ""
                : " (libturbojpeg.so.0 not loaded: " + TurboJpeg.loadError() + ")");
        String png = !javaPng ? "PNG ImageIO" : "PNG 8-bit RGB(A) Java reader with " + (libDeflate ? "libdeflate"
                : "java.util.zip" + (LibDeflate.available() ? "" : " (libdeflate.so.0 not loaded: "
                        + LibDeflate.loadError() + ")"));
        return jpeg + ", " + png + ", other formats and files those do not take ImageIO";
    }
}
