package dev.sparkvit.model.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * A nesting limit for JSON that sparkvit did not necessarily write (a weights file's header, a registry entry).
 * The Jackson on the classpath is Spark 3.1's 2.10, whose tree and map deserialisers recurse once per level and
 * have no limit of their own: a few hundred kilobytes of {@code [[[[...} overflow the stack (CVE-2020-36518;
 * Jackson 2.15 added a limit of 1000). This check walks the tokens with the streaming parser, which keeps its
 * nesting in a linked list rather than on the stack, and stops at the first level past the limit.
 */
public final class JsonDepth {
    /** sparkvit's own files nest 4 levels at most; 64 leaves room and stays far from any stack limit. */
    public static final int MAX_DEPTH = 64;
    private static final JsonFactory FACTORY = new JsonFactory();

    private JsonDepth() {
    }

    /**
     * Checks that {@code json} nests no deeper than {@link #MAX_DEPTH}; syntax errors are left to the real parse.
     *
     * @throws IOException "JSON nested deeper than 64 levels" when it does
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
