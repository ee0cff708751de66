package dev.sparkvit.data.ingest;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Local file names as text, losslessly, whatever their bytes and whatever the JVM's file-name encoding
 * ({@code sun.jnu.encoding}: UTF-8 under a UTF-8 locale, ASCII when LANG is unset).
 *
 * <p>A Linux file name is bytes. {@link Path#toString()} decodes them with the JVM's encoding and puts U+FFFD for
 * whatever does not decode, so a folder written by a Latin-1 system ({@code caf\xe9}) became {@code caf\uFFFD}, and
 * a path made back from that text named no file (the whole ingest failed with NoSuchFileException). Here a name's
 * bytes are read as UTF-8; each byte that is not part of valid UTF-8 (always 0x80 to 0xFF) is written {@code %XX}
 * (upper-case hex), and a literal {@code %} that would read as such an escape (followed by {@code 25} or by
 * {@code 8}..{@code F} and a hex digit) is written {@code %25}. Every other name, UTF-8 or ASCII, reads exactly as
 * before ({@code 100%.png}, {@code a %41.png}). {@link #path} turns the text back into the same bytes.
 */
final class LocalNames {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private LocalNames() {
    }

    /** The text of the last name of {@code entry} (a path from a directory listing, which keeps the name's bytes). */
    static String name(Path entry) {
        String plain = entry.getFileName().toString();
        if (isPlain(plain)) {
            return plain; // ASCII without escapes reads the same in every encoding a JVM on Linux uses
        }
        // toUri() is built from the path's bytes, every byte outside the URI path characters escaped
        String uri = entry.toAbsolutePath().toUri().getRawPath();
        if (uri.endsWith("/")) {
            uri = uri.substring(0, uri.length() - 1); // a folder's URI ends in '/'
        }
        return text(unescape(uri.substring(uri.lastIndexOf('/') + 1)));
    }

    /** The text of a whole path (made absolute) as {@link #name} writes each of its names. */
    static String text(Path path) {
        String uri = path.toAbsolutePath().toUri().getRawPath();
        if (uri.length() > 1 && uri.endsWith("/")) {
            uri = uri.substring(0, uri.length() - 1);
        }
        return text(unescape(uri));
    }

    /** The text of a name's bytes (see the class comment). */
    static String text(byte[] name) {
        StringBuilder out = new StringBuilder(name.length + 8);
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        int i = 0;
        while (i < name.length) {
            int b = name[i] & 0xff;
            int length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3
                    : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
            String decoded = null;
            if (length == 1) {
                decoded = String.valueOf((char) b);
            } else if (length > 1 && i + length <= name.length) {
                try {
                    CharBuffer chars = utf8.reset().decode(ByteBuffer.wrap(name, i, length));
                    decoded = chars.toString();
                } catch (CharacterCodingException e) {
                    decoded = null; // not a valid sequence (overlong, a surrogate, a bad continuation byte)
                }
            }
            if (decoded == null) {
                out.append('%').append(HEX[b >> 4]).append(HEX[b & 0xf]);
                i++;
                continue;
            }
            if (decoded.equals("%") && readsAsEscape(name, i + 1)) {
                out.append("%25");
            } else {
                out.append(decoded);
            }
            i += length;
        }
        return out.toString();
    }

    /** Whether the bytes from {@code at} are {@code 25} or a hex pair of 0x80..0xFF: a '%' before them is escaped. */
    private static boolean readsAsEscape(byte[] name, int at) {
        if (at + 1 >= name.length) {
            return false;
        }
        int hi = Character.digit((char) name[at], 16);
        int lo = Character.digit((char) name[at + 1], 16);
        return lo >= 0 && (hi >= 8 || hi == 2 && lo == 5);
    }

    /** Same test on text. */
    private static boolean readsAsEscape(String text, int at) {
        if (at + 1 >= text.length()) {
            return false;
        }
        int hi = Character.digit(text.charAt(at), 16);
        int lo = Character.digit(text.charAt(at + 1), 16);
        return lo >= 0 && (hi >= 8 || hi == 2 && lo == 5);
    }

    /**
     * The local path an absolute path text (as {@link #name} writes its names) stands for: the same bytes as the
     * file on disk, whatever the JVM's file-name encoding.
     */
    static Path path(String text) {
        if (isPlain(text)) {
            return Path.of(text);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length() + 8);
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '%' && readsAsEscape(text, i + 1)) {
                bytes.write(Integer.parseInt(text, i + 1, i + 3, 16));
                i += 3;
            } else {
                int cp = text.codePointAt(i);
                bytes.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
                i += Character.charCount(cp);
            }
        }
        if (!text.startsWith("/")) {
            return Path.of(text); // a relative path: left to the JVM (the listing makes every path absolute)
        }
        // a file URI's escapes are read back as bytes (sun.nio.fs.UnixUriUtils.fromUri), not through an encoding
        StringBuilder uri = new StringBuilder("file://");
        for (byte b : bytes.toByteArray()) {
            int v = b & 0xff;
            if (v < 0x80 && (Character.isLetterOrDigit(v) || "/-._~".indexOf(v) >= 0)) {
                uri.append((char) v);
            } else {
                uri.append('%').append(HEX[v >> 4]).append(HEX[v & 0xf]);
            }
        }
        return Path.of(URI.create(uri.toString()));
    }

    /** ASCII, no '%': the same text and bytes in every encoding. */
    private static boolean isPlain(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 0x80 || c == '%') {
                return false;
            }
        }
        return true;
    }

    /** The bytes of a URI's escaped path segment. */
    private static byte[] unescape(String escaped) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(escaped.length());
        for (int i = 0; i < escaped.length(); i++) {
            char c = escaped.charAt(i);
            if (c == '%') {
                out.write(Integer.parseInt(escaped, i + 1, i + 3, 16));
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toByteArray();
    }
}
