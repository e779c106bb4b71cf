package io.slidestream.slide;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.util.Map;

/**
 * JNA mapping of the part of {@code openslide.h} (OpenSlide 3.4.1, {@code libopenslide.so.0}) that
 * SlideStream uses. Package-private: everything else goes through {@link OpenSlide}.
 *
 * <p>Strings are UTF-8 both ways (OpenSlide's property values and file names are UTF-8). Pointers
 * to {@code openslide_t} are kept as raw {@link Pointer}s; every function but {@code
 * openslide_close} is thread-safe on one handle.
 */
interface OpenSlideLibrary extends Library {

    /** {@code const char *openslide_detect_vendor(const char *filename)}; NULL if not a slide. */
    String openslide_detect_vendor(String filename);

    /**
     * {@code openslide_t *openslide_open(const char *filename)}: NULL if no driver recognises the
     * file; a handle in an error state if a driver recognised it but opening failed.
     */
    Pointer openslide_open(String filename);

    void openslide_close(Pointer osr);

    /** {@code const char *openslide_get_error(openslide_t *osr)}: NULL while the handle is fine. */
    String openslide_get_error(Pointer osr);

    int openslide_get_level_count(Pointer osr);

    void openslide_get_level_dimensions(
            Pointer osr, int level, LongByReference w, LongByReference h);

    double openslide_get_level_downsample(Pointer osr, int level);

    int openslide_get_best_level_for_downsample(Pointer osr, double downsample);

    /**
     * {@code void openslide_read_region(openslide_t *osr, uint32_t *dest, int64_t x, int64_t y,
     * int32_t level, int64_t w, int64_t h)}: premultiplied ARGB, native byte order.
     */
    void openslide_read_region(
            Pointer osr, Pointer dest, long x, long y, int level, long w, long h);

    /** NULL-terminated array of property names. */
    Pointer openslide_get_property_names(Pointer osr);

    String openslide_get_property_value(Pointer osr, String name);

    /** NULL-terminated array of associated image names. */
    Pointer openslide_get_associated_image_names(Pointer osr);

    void openslide_get_associated_image_dimensions(
            Pointer osr, String name, LongByReference w, LongByReference h);

    void openslide_read_associated_image(Pointer osr, String name, Pointer dest);

    String openslide_get_version();

    /** Loads the library once per JVM; see {@link #instance()}. */
    final class Holder {
        private static final Object LOCK = new Object();
        private static volatile OpenSlideLibrary instance;

        private Holder() {}
    }

    /**
     * The loaded library.
     *
     * @throws SlideStreamException with {@code OPENSLIDE_UNAVAILABLE} when libopenslide.so.0 is not
     *     installed
     */
    static OpenSlideLibrary instance() {
        OpenSlideLibrary lib = Holder.instance;
        if (lib != null) {
            return lib;
        }
        synchronized (Holder.LOCK) {
            if (Holder.instance == null) {
                // The soname first: it pins the 3.x ABI and needs no -dev package's symlink.
                Holder.instance = load("libopenslide.so.0", "openslide");
            }
            return Holder.instance;
        }
    }

    /**
     * Loads the first of {@code names} that the dynamic linker finds.
     *
     * @throws SlideStreamException with {@code OPENSLIDE_UNAVAILABLE} when none is found
     */
    static OpenSlideLibrary load(String... names) {
        // JNA records the class loader it loads a library for in the NativeLibrary it caches for
        // the
        // whole JVM; on a cluster JNA sits in lib/ and outlives every job, so it is given its own
        // class loader rather than the job's (which it would otherwise keep from being unloaded).
        Map<String, Object> options =
                Map.of(
                        Library.OPTION_STRING_ENCODING,
                        "UTF-8",
                        Library.OPTION_CLASSLOADER,
                        Native.class.getClassLoader());
        UnsatisfiedLinkError failure = null;
        for (String name : names) {
            try {
                return Native.load(name, OpenSlideLibrary.class, options);
            } catch (UnsatisfiedLinkError e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        throw new SlideStreamException(
                ErrorCode.OPENSLIDE_UNAVAILABLE,
                "the native OpenSlide library (tried "
                        + String.join(", ", names)
                        + ") could not be loaded; install it with `apt-get install libopenslide0`"
                        + " (Debian/Ubuntu) or put it on the library path (-Djna.library.path=DIR)",
                failure);
    }
}
