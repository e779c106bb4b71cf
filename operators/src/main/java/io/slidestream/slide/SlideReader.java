package io.slidestream.slide;

import java.util.Locale;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.description.Description;

/**
 * How slide regions are read: {@code auto} decodes the JPEG tiles of Aperio SVS and generic tiled
 * TIFF slides directly with libjpeg-turbo ({@link DirectTiffReader}, pixel-identical to OpenSlide)
 * and reads everything else through OpenSlide; {@code openslide} reads everything through
 * OpenSlide. The configuration key {@code slides.reader} chooses it for every command and the job.
 */
public enum SlideReader {
    AUTO,
    OPENSLIDE;

    public static final ConfigOption<String> OPTION =
            ConfigOptions.key("slides.reader")
                    .stringType()
                    .defaultValue("auto")
                    .withDescription(
                            Description.builder()
                                    .text(
                                            "How slide regions are read. 'auto': the JPEG tiles of"
                                                    + " Aperio SVS and generic tiled TIFF slides are"
                                                    + " decoded directly with libjpeg-turbo"
                                                    + " (libturbojpeg0), pixel-identical to OpenSlide"
                                                    + " and several times cheaper; other formats, and"
                                                    + " regions the direct path cannot reproduce"
                                                    + " exactly, go through OpenSlide. 'openslide':"
                                                    + " everything through OpenSlide.")
                                    .build());

    public static final ConfigOption<Boolean> JPEG_HALF_SCALE =
            ConfigOptions.key("slides.jpeg-half-scale")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Decode JPEG tiles at half size in libjpeg-turbo's DCT domain when a"
                                    + " tile is read at least twice as large as the model's input"
                                    + " (a 40x slide tiled at 0.5 um/px: 512 px reads become 256"
                                    + " px), with slides.reader=auto on JPEG-tiled SVS/TIFF."
                                    + " About a quarter of the decoding work, but not"
                                    + " pixel-identical to the reference pipeline: docs/performance.md"
                                    + " states the embedding cosine to the exact path. Off by"
                                    + " default.");

    /** The configuration value. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a configuration value.
     *
     * @throws io.slidestream.errors.SlideStreamException INVALID_CONFIG naming the accepted values
     */
    public static SlideReader parse(String value) {
        for (SlideReader r : values()) {
            if (r.key().equalsIgnoreCase(value == null ? "" : value.trim())) {
                return r;
            }
        }
        throw io.slidestream.errors.InvalidConfig.because(
                "slides.reader is '"
                        + value
                        + "'; use 'auto' (direct JPEG decoding where it is exact, OpenSlide"
                        + " elsewhere) or 'openslide' (OpenSlide for everything)");
    }
}
