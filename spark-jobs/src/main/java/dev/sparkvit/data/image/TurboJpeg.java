package dev.sparkvit.data.image;

import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

/**
 * libjpeg-turbo's TurboJPEG API (Debian's {@code libturbojpeg0}, {@code libturbojpeg.so.0}) through JNA: the SIMD
 * JPEG decoder Pillow uses, about 1.7x faster here than the JDK's ImageIO decoder (IJG libjpeg 6b without SIMD), and
 * for YCbCr and RGB JPEGs bit for bit the same pixels (both run libjpeg's accurate integer IDCT and fancy upsampling).
 * Optional: when the library or JNA's native part does not load, {@link #available()} is false and ImageIO decodes.
 *
 * <p>Only a clean decode counts: any warning (a truncated or corrupt stream, which libjpeg pads and reports) or
 * error makes {@link Session#decode} return null, and the caller hands the file to ImageIO, whose verdict and pixels
 * are then exactly as without this class.
 */
final class TurboJpeg {
    /** TJPF_RGB: interleaved R, G, B bytes. */
    private static final int PIXEL_FORMAT_RGB = 0;
    /** TJCS_RGB and TJCS_YCbCr; gray, CMYK and YCCK are left to ImageIO (its conversion of gray differs). */
    private static final int COLORSPACE_RGB = 0;
    private static final int COLORSPACE_YCBCR = 1;
    private static final String LIBRARY = "turbojpeg";
    private static final String LOAD_ERROR;

    static {
        String error = null;
        try {
            Native.register(TurboJpeg.class, LIBRARY);
        } catch (LinkageError | RuntimeException e) {
            error = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        LOAD_ERROR = error;
    }

    private TurboJpeg() {
    }

    /** Whether libturbojpeg loaded; if not, {@link #loadError()} says why. */
    static boolean available() {
        return LOAD_ERROR == null;
    }

    static String loadError() {
        return LOAD_ERROR;
    }

    /** The dimensions of a JPEG, read from its header without decoding; {@code convertible} as above. */
    record Header(int width, int height, boolean convertible) {
    }

    /** One decompressor handle (not thread-safe; about a microsecond to make). */
    static Session open() {
        Pointer handle = tjInitDecompress();
        if (handle == null) {
            throw new IllegalStateException("libturbojpeg could not allocate a decompressor");
        }
        return new Session(handle);
    }

    static final class Session implements AutoCloseable {
        private final Pointer handle;

        private Session(Pointer handle) {
            this.handle = handle;
        }

        /** The header's dimensions and colour space, or null when libjpeg-turbo cannot parse the header. */
        Header header(byte[] jpeg) {
            int[] width = new int[1];
            int[] height = new int[1];
            int[] subsampling = new int[1];
            int[] colorspace = new int[1];
            if (tjDecompressHeader3(handle, jpeg, new NativeLong(jpeg.length), width, height, subsampling,
                    colorspace) != 0) {
                return null;
            }
            return new Header(width[0], height[0], colorspace[0] == COLORSPACE_YCBCR
                    || colorspace[0] == COLORSPACE_RGB);
        }

        /**
         * The image decoded to 8-bit RGB at {@code width} x {@code height} (the header's size, or one of
         * libjpeg-turbo's scaled sizes), or null on any warning or error.
         */
        RgbImage decode(byte[] jpeg, int width, int height) {
            byte[] pixels = new byte[Math.multiplyExact(Math.multiplyExact(width, height), 3)];
            int status = tjDecompress2(handle, jpeg, new NativeLong(jpeg.length), pixels, width, 0, height,
                    PIXEL_FORMAT_RGB, 0);
            return status == 0 ? new RgbImage(width, height, pixels) : null;
        }

        @Override
        public void close() {
            tjDestroy(handle);
        }
    }

    private static native Pointer tjInitDecompress();

    private static native int tjDecompressHeader3(Pointer handle, byte[] jpeg, NativeLong size, int[] width,
            int[] height, int[] subsampling, int[] colorspace);

    private static native int tjDecompress2(Pointer handle, byte[] jpeg, NativeLong size, byte[] destination,
            int width, int pitch, int height, int pixelFormat, int flags);

    private static native int tjDestroy(Pointer handle);
}
