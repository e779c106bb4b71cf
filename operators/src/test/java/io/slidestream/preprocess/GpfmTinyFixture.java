package io.slidestream.preprocess;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The gpfm-tiny reference data copied from {@code shared/fixtures/gpfm-tiny} into the test
 * resources ({@code /gpfm-tiny/...}): the nine CMU-1-Small-Region tiles and the tensors the PyTorch
 * reference pipeline computed from two of them. Shared with other modules through the operators
 * test-jar.
 */
public final class GpfmTinyFixture {

    /** Every tile PNG of the fixture, 256 px tiles then the 512 px one. */
    public static final List<String> TILES =
            List.of(
                    "tile_00_x0_y0_256.png",
                    "tile_01_x512_y512_256.png",
                    "tile_02_x768_y1024_256.png",
                    "tile_03_x1024_y1536_256.png",
                    "tile_04_x1280_y768_256.png",
                    "tile_05_x1536_y2048_256.png",
                    "tile_06_x256_y2560_256.png",
                    "tile_07_x1792_y256_256.png",
                    "tile_08_x1024_y1024_512.png");

    private GpfmTinyFixture() {}

    /** A tile PNG decoded by ImageIO. */
    public static BufferedImage tile(String fileName) {
        try (InputStream in = open("/gpfm-tiny/tiles/" + fileName)) {
            BufferedImage image = ImageIO.read(in);
            if (image == null) {
                throw new IllegalStateException("Not a readable image: " + fileName);
            }
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A float32 little-endian tensor file such as {@code preprocessed_tile_03.f32}. */
    public static float[] floats(String fileName) {
        try (InputStream in = open("/gpfm-tiny/" + fileName)) {
            ByteBuffer bytes = ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
            float[] values = new float[bytes.remaining() / Float.BYTES];
            bytes.asFloatBuffer().get(values);
            return values;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InputStream open(String resource) {
        InputStream in = GpfmTinyFixture.class.getResourceAsStream(resource);
        if (in == null) {
            throw new IllegalStateException("Missing test resource " + resource);
        }
        return in;
    }
}
