package io.slidestream.slide;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;

/**
 * JNA binding of the part of libjpeg-turbo's TurboJPEG 2.x API ({@code libturbojpeg.so.0}, Debian's
 * {@code libturbojpeg0}) that the direct TIFF reader needs, and the per-thread {@link Decoder} that
 * owns a decompressor and its reusable native buffers.
 *
 * <p>Direct mapping ({@link Native#register}) rather than a JNA interface: a tile is decoded with
 * two calls, and direct calls cost a fraction of interface-mapped ones. {@code unsigned long}
 * arguments are mapped to Java {@code long}, which is right on the LP64 platforms SlideStream runs
 * on (Linux x86-64 and aarch64).
 *
 * <p>The decoder uses TurboJPEG's defaults, the same as OpenSlide's libjpeg calls: the accurate
 * integer IDCT and fancy (smooth) chroma upsampling, so both decode the same bytes to the same
 * pixels.
 */
final class TurboJpeg {

    /** {@code TJPF_BGRX}: B, G, R, pad in memory, which a little-endian int reads as 0xXXRRGGBB. */
    static final int TJPF_BGRX = 3;

    /** {@code TJPF_XRGB}: pad, R, G, B in memory, which a big-endian int reads as 0xXXRRGGBB. */
    static final int TJPF_XRGB = 5;

    private static final String LOAD_ERROR = load();

    private TurboJpeg() {}

    private static String load() {
        try {
            Native.register(TurboJpeg.class, NativeLibrary.getInstance("turbojpeg"));
            return null;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return e.getMessage();
        }
    }

    /** Whether libturbojpeg could be loaded; when not, {@link #unavailableReason()} says why. */
    static boolean available() {
        return LOAD_ERROR == null;
    }

    static String unavailableReason() {
        return LOAD_ERROR == null
                ? null
                : "libturbojpeg.so.0 could not be loaded ("
                        + LOAD_ERROR
                        + "); install it with: apt-get install libturbojpeg0";
    }

    static native Pointer tjInitDecompress();

    static native int tjDecompressHeader3(
            Pointer handle,
            Pointer jpegBuf,
            long jpegSize,
            int[] width,
            int[] height,
            int[] subsamp,
            int[] colorspace);

    static native int tjDecompress2(
            Pointer handle,
            Pointer jpegBuf,
            long jpegSize,
            Pointer dstBuf,
            int width,
            int pitch,
            int height,
            int pixelFormat,
            int flags);

    static native String tjGetErrorStr2(Pointer handle);

    static native int tjDestroy(Pointer handle);

    /**
     * One thread's decompressor with its input buffer (the compressed stream) and output buffer
     * (one tile of 32-bit pixels). Both grow to the largest tile seen and are reused; nothing is
     * allocated per tile. Not thread-safe: get one per thread with {@link #forThisThread()}.
     */
    static final class Decoder {
        private static final ThreadLocal<Decoder> PER_THREAD = new ThreadLocal<>();
        private static final int PIXEL_FORMAT =
                ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? TJPF_BGRX : TJPF_XRGB;

        private final Pointer handle;
        private final int[] width = new int[1];
        private final int[] height = new int[1];
        private final int[] subsamp = new int[1];
        private final int[] colorspace = new int[1];
        private Memory input = new Memory(64 * 1024);
        private ByteBuffer inputView = input.getByteBuffer(0, input.size());
        private Memory output = new Memory(256 * 256 * 4);
        private IntBuffer outputView = intView(output);

        private Decoder(Pointer handle) {
            this.handle = handle;
        }

        /**
         * This thread's decoder. The decompressor lives as long as the thread (a few KiB of native
         * memory; Flink's task threads end with the job).
         */
        static Decoder forThisThread() {
            Decoder decoder = PER_THREAD.get();
            if (decoder == null) {
                Pointer handle = tjInitDecompress();
                if (handle == null) {
                    throw new IllegalStateException("tjInitDecompress failed");
                }
                decoder = new Decoder(handle);
                PER_THREAD.set(decoder);
            }
            return decoder;
        }

        /** The input buffer, at least {@code bytes} long, as a byte buffer at position 0. */
        ByteBuffer input(int bytes) {
            if (input.size() < bytes) {
                input.close();
                input = new Memory(Math.max(bytes, input.size() * 2));
                inputView = input.getByteBuffer(0, input.size());
            }
            return inputView.clear();
        }

        /**
         * Decodes the first {@code length} bytes of the input buffer, a complete JPEG stream of
         * exactly {@code tileWidth x tileHeight} pixels, into the output buffer at {@code outWidth
         * x outHeight}: the tile's size, or a scaling factor libjpeg-turbo applies in the DCT
         * domain (half the size: 1/2).
         *
         * @return null on success, otherwise what went wrong (a size mismatch or TurboJPEG's
         *     message, warnings included)
         */
        String decode(int length, int tileWidth, int tileHeight, int outWidth, int outHeight) {
            if (tjDecompressHeader3(handle, input, length, width, height, subsamp, colorspace)
                    != 0) {
                return tjGetErrorStr2(handle);
            }
            if (width[0] != tileWidth || height[0] != tileHeight) {
                return String.format(
                        "the JPEG is %dx%d, the tile %dx%d",
                        width[0], height[0], tileWidth, tileHeight);
            }
            long bytes = (long) outWidth * outHeight * 4;
            if (output.size() < bytes) {
                output.close();
                output = new Memory(bytes);
                outputView = intView(output);
            }
            if (tjDecompress2(
                            handle,
                            input,
                            length,
                            output,
                            outWidth,
                            outWidth * 4,
                            outHeight,
                            PIXEL_FORMAT,
                            0)
                    != 0) {
                return tjGetErrorStr2(handle);
            }
            return null;
        }

        /**
         * Copies the decoded tile into {@code dest} as {@code 0x00RRGGBB} (the pad byte cleared).
         */
        void copyDecoded(int[] dest, int pixels) {
            outputView.clear().get(dest, 0, pixels);
            for (int i = 0; i < pixels; i++) {
                dest[i] &= 0xFFFFFF;
            }
        }

        private static IntBuffer intView(Memory memory) {
            return memory.getByteBuffer(0, memory.size())
                    .order(ByteOrder.nativeOrder())
                    .asIntBuffer();
        }
    }
}
