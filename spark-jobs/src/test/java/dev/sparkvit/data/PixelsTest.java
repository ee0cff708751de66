package dev.sparkvit.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class PixelsTest {

    @Test
    void decodesPngIntoChannelsFirstFloatsInMinusOneToOne() throws IOException {
        BufferedImage image = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, 0xff0000); // red
        image.setRGB(1, 0, 0x0080ff); // (0, 128, 255)
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(image, "png", png);

        float[] chw = Pixels.toChwFloats(Pixels.decode(png.toByteArray(), "two.png"));
        float mid = 128 / 127.5f - 1f;
        // plane R: (1, -1); plane G: (-1, mid); plane B: (-1, 1)
        assertArrayEquals(new float[] {1f, -1f, -1f, mid, -1f, 1f}, chw, 1e-6f);
    }

    @Test
    void bytesThatAreNotAnImageNameTheSource() {
        IOException error = assertThrows(IOException.class,
                () -> Pixels.decode("hello".getBytes(StandardCharsets.UTF_8), "notes/readme.png"));
        assertTrue(error.getMessage().contains("notes/readme.png"), error.getMessage());
    }
}
