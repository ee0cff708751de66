package dev.sparkvit.data.augment;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/** The random stream of one view of one image in one epoch, derived only from (seed, epoch, image id, view). */
public final class AugmentRandom {
    private AugmentRandom() {
    }

    public static SplittableRandom of(long seed, int epoch, String imageId, int view) {
        long h = mix(seed);
        h = mix(h ^ epoch);
        h = mix(h ^ fnv1a(imageId));
        h = mix(h ^ view);
        return new SplittableRandom(h);
    }

    /** SplitMix64's finaliser: a bijective 64-bit mix. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private static long fnv1a(String text) {
        long h = 0xcbf29ce484222325L;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
