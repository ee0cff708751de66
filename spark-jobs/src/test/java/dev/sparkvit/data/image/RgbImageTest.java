package dev.sparkvit.data.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Stored images come back from Parquet rows (height, width, pixels), which a dataset written by someone else can set
 * to anything: the declared size must match the bytes, without int overflow.
 */
class RgbImageTest {

    @Test
    void sizesWhoseByteCountOverflowsAnIntAreRejected() {
        // 65536 x 65536 x 3 is 0 in int arithmetic: an empty pixel array used to pass as a 4-gigapixel image
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RgbImage(65536, 65536, new byte[0]));
        assertTrue(e.getMessage().contains("12884901888 bytes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(1 << 15, 1 << 16, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(2, 2, null));
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(0, 2, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(2, 2, new byte[11]));
    }

    @Test
    void aConsistentImageIsAccepted() {
        RgbImage image = new RgbImage(2, 1, new byte[] {1, 2, 3, (byte) 250, 5, 6});
        assertEquals(250, image.get(1, 0, 0));
    }
}
