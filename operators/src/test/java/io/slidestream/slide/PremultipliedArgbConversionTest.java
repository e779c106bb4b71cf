package io.slidestream.slide;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PremultipliedArgbConversionTest {

    @Test
    void compositesPremultipliedArgbOverWhite() {
        int[] pixels = {
            0x00000000, // transparent (outside the scanned area)
            0xFF123456, // opaque
            0x80402010, // half transparent, premultiplied
            0x01000000, // almost transparent black
            0xFFFFFFFF, // opaque white
        };
        OpenSlide.premultipliedArgbToRgbOverWhite(pixels, 4);

        assertThat(pixels[0]).isEqualTo(0xFFFFFF);
        assertThat(pixels[1]).isEqualTo(0x123456);
        // c + (255 - a): 0x40 + 0x7F, 0x20 + 0x7F, 0x10 + 0x7F.
        assertThat(pixels[2]).isEqualTo(0xBF9F8F);
        assertThat(pixels[3]).isEqualTo(0xFEFEFE);
        // Only the first n pixels are converted.
        assertThat(pixels[4]).isEqualTo(0xFFFFFFFF);
    }
}
