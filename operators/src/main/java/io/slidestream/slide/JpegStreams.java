package io.slidestream.slide;

import java.nio.ByteBuffer;

/**
 * Byte-level edits of the JPEG streams in TIFF tiles, so that the TurboJPEG API decodes them as
 * OpenSlide's libjpeg calls do.
 *
 * <p>A TIFF tile is an abbreviated stream: its quantisation and Huffman tables live once in the
 * directory's JPEGTables field. {@link #tablesPrefix} turns those tables into the start of a
 * complete stream, to which the tile's bytes after its own start-of-image marker are appended.
 *
 * <p>OpenSlide sets libjpeg's {@code jpeg_color_space} from the TIFF photometric tag (RGB for
 * Aperio's RGB-coded tiles, YCbCr otherwise); TurboJPEG 2.1 always lets libjpeg guess it. libjpeg
 * guesses from a JFIF marker (YCbCr), an Adobe marker (its transform flag), then the component ids
 * (1, 2, 3 is YCbCr; 'R', 'G', 'B' is RGB). {@link #forceColourSpace} therefore renames JFIF and
 * Adobe markers to APP15, which libjpeg skips, and renumbers the components 1, 2, 3 or 'R', 'G',
 * 'B' in the frame header and the scan header alike; ids only pair scan components with frame
 * components, so the decoded pixels are exactly those of a decode with the colour space set.
 */
final class JpegStreams {

    private static final int SOI = 0xD8;
    private static final int EOI = 0xD9;
    private static final int SOS = 0xDA;
    private static final int APP0 = 0xE0;
    private static final int APP14 = 0xEE;
    private static final int APP15 = 0xEF;
    private static final byte[] YCBCR_IDS = {1, 2, 3};
    private static final byte[] RGB_IDS = {'R', 'G', 'B'};

    private JpegStreams() {}

    /**
     * The start of a complete stream: the tables without their end-of-image marker (just a
     * start-of-image marker when there are none), JFIF/Adobe markers disabled; {@code null} when
     * the tables are not a well-formed tables-only stream.
     */
    static byte[] tablesPrefix(byte[] tables, boolean rgb) {
        if (tables == null) {
            return new byte[] {(byte) 0xFF, (byte) SOI};
        }
        int n = tables.length;
        if (n < 4
                || (tables[0] & 0xFF) != 0xFF
                || (tables[1] & 0xFF) != SOI
                || (tables[n - 2] & 0xFF) != 0xFF
                || (tables[n - 1] & 0xFF) != EOI) {
            return null;
        }
        byte[] prefix = new byte[n - 2];
        System.arraycopy(tables, 0, prefix, 0, n - 2);
        ByteBuffer buf = ByteBuffer.wrap(prefix);
        return forceColourSpace(buf, 2, prefix.length, rgb) ? prefix : null;
    }

    /**
     * Edits the markers between {@code from} and the first scan's data (or {@code end}) in place:
     * JFIF and Adobe markers become APP15, component ids in the frame and scan headers become 1, 2,
     * 3 (YCbCr) or 'R', 'G', 'B' ({@code rgb}).
     *
     * @return {@code false} when the headers are malformed or not a baseline/extended Huffman frame
     *     of three components (progressive and arithmetic streams are left to OpenSlide)
     */
    static boolean forceColourSpace(ByteBuffer buf, int from, int end, boolean rgb) {
        byte[] ids = rgb ? RGB_IDS : YCBCR_IDS;
        byte[] original = null;
        int pos = from;
        while (pos + 1 < end) {
            if ((buf.get(pos) & 0xFF) != 0xFF) {
                return false;
            }
            int marker = buf.get(pos + 1) & 0xFF;
            if (marker == 0xFF) {
                pos++; // fill byte
                continue;
            }
            if (marker == SOI || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
                pos += 2;
                continue;
            }
            if (marker == EOI || pos + 3 >= end) {
                return marker == EOI;
            }
            int length = ((buf.get(pos + 2) & 0xFF) << 8) | (buf.get(pos + 3) & 0xFF);
            if (length < 2 || pos + 2 + length > end) {
                return false;
            }
            if (marker == APP0 || marker == APP14) {
                buf.put(pos + 1, (byte) APP15);
            } else if (isFrame(marker)) {
                if (marker != 0xC0 && marker != 0xC1) {
                    return false;
                }
                int components = buf.get(pos + 9) & 0xFF;
                if (components != 3 || length < 8 + 3 * components) {
                    return false;
                }
                original = new byte[3];
                for (int c = 0; c < 3; c++) {
                    original[c] = buf.get(pos + 10 + 3 * c);
                    buf.put(pos + 10 + 3 * c, ids[c]);
                }
            } else if (marker == SOS) {
                int components = buf.get(pos + 4) & 0xFF;
                if (original == null || length < 6 + 2 * components) {
                    return false;
                }
                for (int c = 0; c < components; c++) {
                    int at = pos + 5 + 2 * c;
                    int which = indexOf(original, buf.get(at));
                    if (which < 0) {
                        return false;
                    }
                    buf.put(at, ids[which]);
                }
                return true; // entropy-coded data follows; a baseline stream has one scan
            }
            pos += 2 + length;
        }
        return true;
    }

    /** Start-of-frame markers: C0..CF except DHT (C4), JPG (C8) and DAC (CC). */
    private static boolean isFrame(int marker) {
        return marker >= 0xC0
                && marker <= 0xCF
                && marker != 0xC4
                && marker != 0xC8
                && marker != 0xCC;
    }

    private static int indexOf(byte[] ids, byte id) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == id) {
                return i;
            }
        }
        return -1;
    }
}
