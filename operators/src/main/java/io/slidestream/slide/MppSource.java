package io.slidestream.slide;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * Where a slide's microns-per-pixel came from, in order of preference. Serialised in JSON and
 * records as the lower-case name ({@code openslide_mpp}, {@code tiff_resolution}, ...).
 */
public enum MppSource {
    /** {@code openslide.mpp-x/y}: the vendor's own calibration, as OpenSlide reports it. */
    OPENSLIDE_MPP,
    /** {@code tiff.XResolution/YResolution} with a centimeter or inch {@code ResolutionUnit}. */
    TIFF_RESOLUTION,
    /** {@code openslide.objective-power}: mpp = 10 / power (a 20x objective is 0.5 µm/px). */
    OBJECTIVE_POWER,
    /** The slide said nothing; the configured default resolution was used. */
    CONFIGURED_DEFAULT;

    /** The lower-case name used in JSON, Avro and table columns. */
    @JsonValue
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
