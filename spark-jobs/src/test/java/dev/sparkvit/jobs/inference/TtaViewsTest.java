package dev.sparkvit.jobs.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.augment.TestImages;
import dev.sparkvit.data.image.FloatImage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The test-time views: how many, and which pixels each one shows, against values worked out by hand. */
class TtaViewsTest {
    /** Non-square, so a swapped axis shows; 16 / 8 and 24 / 8 make the crop origins whole or half pixels. */
    private static final int W = 16;
    private static final int H = 24;

    /**
     * Channel 0 rises left to right, channel 1 top to bottom, as the coordinate of the pixel centre over the side
     * ({@code (x + 0.5) / W}); channel 2 is constant. Bilinear resampling reproduces a linear ramp exactly wherever
     * the sample point lies between two pixel centres, so a crop's interior pixels tell its box.
     */
    private static FloatImage ramps() {
        float[] data = new float[3 * H * W];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                data[y * W + x] = (x + 0.5f) / W;
                data[H * W + y * W + x] = (y + 0.5f) / H;
                data[2 * H * W + y * W + x] = 0.25f;
            }
        }
        return new FloatImage(3, H, W, data);
    }

    @Test
    void countsMatchTheImagesMade() {
        FloatImage image = TestImages.random(H, W, 1);
        for (var names : List.of(List.of("identity"), List.of("flip"), List.of("crops"), List.of("identity", "flip"),
                List.of("identity", "flip", "crops"))) {
            TtaViews views = new TtaViews(names);
            int expected = (names.contains("identity") ? 1 : 0) + (names.contains("flip") ? 1 : 0)
                    + (names.contains("crops") ? 5 : 0);
            assertEquals(expected, views.count(), names.toString());
            assertEquals(expected, views.apply(image).size(), names.toString());
        }
        assertEquals(7, new TtaViews(List.of("identity", "flip", "crops")).count());
        assertEquals(List.of("identity"), TtaViews.none().names());
    }

    @Test
    void identityIsTheImageAndFlipMirrorsEveryPixelExactly() {
        FloatImage image = TestImages.random(H, W, 2);
        List<FloatImage> views = new TtaViews(List.of("identity", "flip")).apply(image);
        assertSame(image, views.get(0));
        FloatImage flipped = views.get(1);
        assertEquals(H, flipped.height());
        assertEquals(W, flipped.width());
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    assertEquals(TestImages.at(image, c, y, x), TestImages.at(flipped, c, y, W - 1 - x),
                            "c " + c + " y " + y + " x " + x);
                }
            }
        }
    }

    @Test
    void cropsShowTheFourCornersAndTheCentreAtSevenEighthsResizedBack() {
        List<FloatImage> crops = new TtaViews(List.of("crops")).apply(ramps());
        // box origins (x, y) in pixels: side 7/8 leaves W/8 = 2 and H/8 = 3 to the far edges, half of that centred
        double[][] origins = {{0, 0}, {2, 0}, {0, 3}, {2, 3}, {1, 1.5}};
        assertEquals(origins.length, crops.size());
        for (int k = 0; k < origins.length; k++) {
            FloatImage crop = crops.get(k);
            assertEquals(H, crop.height(), "crop " + k);
            assertEquals(W, crop.width(), "crop " + k);
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    String at = "crop " + k + " y " + y + " x " + x;
                    assertEquals(0.25f, TestImages.at(crop, 2, y, x), 1e-6f, "a constant stays constant: " + at);
                    // output pixel centre (x + 0.5) samples the source at origin + (x + 0.5) * 7/8; the border
                    // pixels fall outside the outermost source centres, where resampling clamps
                    if (x > 0 && x < W - 1) {
                        double u = origins[k][0] + (x + 0.5) * 7 / 8;
                        assertEquals(u / W, TestImages.at(crop, 0, y, x), 1e-5, at);
                    }
                    if (y > 0 && y < H - 1) {
                        double v = origins[k][1] + (y + 0.5) * 7 / 8;
                        assertEquals(v / H, TestImages.at(crop, 1, y, x), 1e-5, at);
                    }
                }
            }
        }
        // the top-left crop never reaches the right or bottom eighth, the bottom-right one never the top-left one
        assertTrue(max(crops.get(0), 0) < 7.0 / 8 + 1e-6 && max(crops.get(0), 1) < 7.0 / 8 + 1e-6);
        assertTrue(min(crops.get(3), 0) > 1.0 / 8 - 1e-6 && min(crops.get(3), 1) > 1.0 / 8 - 1e-6);
    }

    private static float max(FloatImage image, int channel) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < H * W; i++) {
            max = Math.max(max, image.data()[channel * H * W + i]);
        }
        return max;
    }

    private static float min(FloatImage image, int channel) {
        float min = Float.POSITIVE_INFINITY;
        for (int i = 0; i < H * W; i++) {
            min = Math.min(min, image.data()[channel * H * W + i]);
        }
        return min;
    }

    @Test
    void unknownAndEmptyViewListsAreRejected() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> new TtaViews(List.of("identity", "rotate")));
        String message = unknown.getMessage();
        assertTrue(message.contains("'rotate'") && message.contains("identity, flip or crops"), message);
        assertThrows(IllegalArgumentException.class, () -> new TtaViews(List.of("Flip")));
        assertThrows(IllegalArgumentException.class, () -> new TtaViews(List.of()));
    }
}
