package dev.sparkvit.data.image;

import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

/**
 * libdeflate (Debian's {@code libdeflate0}, {@code libdeflate.so.0}) through JNA: whole-buffer zlib decompression,
 * 1.6x faster here than the JDK's zlib {@code Inflater} on PNG image data. Optional: when it does not load,
 * {@link #available()} is false and {@link PngReader} inflates with {@code java.util.zip.Inflater}.
 */
final class LibDeflate {
    private static final String LIBRARY = "deflate";
    private static final String LOAD_ERROR;

    static {
        String error = null;
        try {
            Native.register(LibDeflate.class, LIBRARY);
        } catch (LinkageError | RuntimeException e) {
            error = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        LOAD_ERROR = error;
    }

    private LibDeflate() {
    }

    static boolean available() {
        return LOAD_ERROR == null;
    }

    static String loadError() {
        return LOAD_ERROR;
    }

    /**
     * Inflates the zlib stream {@code in[0, length)} into all of {@code out}, checking its Adler-32; false unless the
     * stream is valid and decompresses to exactly {@code out.length} bytes (libdeflate never writes past the end).
     */
    static boolean inflateExactly(byte[] in, int length, byte[] out) {
        Pointer decompressor = libdeflate_alloc_decompressor();
        if (decompressor == null) {
            throw new OutOfMemoryError("libdeflate could not allocate a decompressor");
        }
        try {
            // a null actual-size pointer asks for exactly out.length bytes (LIBDEFLATE_SHORT_OUTPUT otherwise)
            return libdeflate_zlib_decompress(decompressor, in, new NativeLong(length), out,
                    new NativeLong(out.length), null) == 0;
        } finally {
            libdeflate_free_decompressor(decompressor);
        }
    }

    private static native Pointer libdeflate_alloc_decompressor();

    private static native int libdeflate_zlib_decompress(Pointer decompressor, byte[] in, NativeLong inBytes,
            byte[] out, NativeLong outBytes, Pointer actualOut);

    private static native void libdeflate_free_decompressor(Pointer decompressor);
}
