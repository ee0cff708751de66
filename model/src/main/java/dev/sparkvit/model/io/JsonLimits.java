package dev.sparkvit.model.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * Limits for JSON that sparkvit did not necessarily write (a weights file's header, a registry entry), checked
 * before Jackson builds anything from it. The Jackson on the classpath is Spark 3.1's 2.10, which has no limits of
 * its own (2.15 added them): its tree and map deserialisers recurse once per nesting level, so a few hundred
 * kilobytes of {@code [[[[...} overflow the stack (CVE-2020-36518, CVE-2025-52999), and it turns an integer
 * literal into a BigInteger in time quadratic in its digits (two million digits: minutes). This check walks the
 * tokens with the streaming parser, which keeps its nesting in a linked list rather than on the stack and does not
 * convert numbers, and stops at the first token past a limit.
 */
public final class JsonLimits {
    /** sparkvit's own files nest 4 levels at most; 64 leaves room and stays far from any stack limit. */
    public static final int MAX_DEPTH = 64;
    /** Characters of one number literal: a long has 19 digits, a double at most 24 characters as Java prints it. */
    public static final int MAX_NUMBER_CHARS = 100;
    private static final JsonFactory FACTORY = new JsonFactory();

    private JsonLimits() {
    }

    /**
     * Checks {@code json} against the limits; syntax errors are left to the real parse, which reports them.
     *
     * @throws IOException naming the limit exceeded ("JSON nested deeper than 64 levels", "a number of N
     *     characters")
     */
    public static void check(byte[] json) throws IOException {
        int depth = 0;
        try (JsonParser parser = FACTORY.createParser(json)) {
            for (JsonToken token = nextToken(parser); token != null; token = nextToken(parser)) {
                if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
                    if (++depth > MAX_DEPTH) {
                        throw new IOException("JSON nested deeper than " + MAX_DEPTH + " levels");
                    }
                } else if (token == JsonToken.END_OBJECT || token == JsonToken.END_ARRAY) {
                    depth--;
                } else if (token.isNumeric() && parser.getTextLength() > MAX_NUMBER_CHARS) {
                    throw new IOException("JSON holds a number of " + parser.getTextLength() + " characters (at "
                            + "most " + MAX_NUMBER_CHARS + ")");
                }
            }
        }
    }

    /** The next token, or null at the end or at a syntax error (which the caller's parse then reports). */
    private static JsonToken nextToken(JsonParser parser) {
        try {
            return parser.nextToken();
        } catch (IOException syntax) {
            return null;
        }
    }
}
