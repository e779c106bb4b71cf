package io.slidestream.slide;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * What the tiler needs to know about a slide, read once when it is opened: vendor, the pyramid
 * (dimensions and downsample per level), the resolution in microns per pixel with where it came
 * from ({@link MppSource}), the objective power and the associated image names. Immutable.
 *
 * <p>The resolution is taken from the first source that gives a positive number: {@code
 * openslide.mpp-x/y}; {@code tiff.XResolution/YResolution} with a {@code tiff.ResolutionUnit} of
 * centimeter or inch (OpenSlide 3.4.1 reports no {@code openslide.mpp-x} for generic TIFF); {@code
 * openslide.objective-power} (mpp = 10 / power); the configured default. When none does, reading
 * the metadata fails with {@link ErrorCode#UNKNOWN_RESOLUTION}.
 *
 * <p>Serialises to JSON with snake_case names ({@code mpp_source}: {@code openslide_mpp}, ...).
 */
@JsonPropertyOrder({
    "vendor",
    "level_count",
    "levels",
    "mpp_x",
    "mpp_y",
    "mpp_source",
    "objective_power",
    "associated_images"
})
@JsonInclude(JsonInclude.Include.NON_NULL)
public final class SlideMetadata {

    /**
     * Scanner pyramids are not exact: a level meant as 4x may report 4.0161 (dimensions rounded at
     * every level). A level within this relative tolerance of the requested downsample counts as
     * "not coarser than requested".
     */
    static final double DOWNSAMPLE_TOLERANCE = 0.01;

    public static final String PROPERTY_MPP_X = "openslide.mpp-x";
    public static final String PROPERTY_MPP_Y = "openslide.mpp-y";
    public static final String PROPERTY_OBJECTIVE_POWER = "openslide.objective-power";
    public static final String PROPERTY_TIFF_X_RESOLUTION = "tiff.XResolution";
    public static final String PROPERTY_TIFF_Y_RESOLUTION = "tiff.YResolution";
    public static final String PROPERTY_TIFF_RESOLUTION_UNIT = "tiff.ResolutionUnit";

    /** One pyramid level: its size in its own pixels and its downsample from level 0. */
    @JsonPropertyOrder({"width", "height", "downsample"})
    public record Level(
            @JsonProperty("width") long width,
            @JsonProperty("height") long height,
            @JsonProperty("downsample") double downsample) {}

    private final String vendor;
    private final List<Level> levels;
    private final double mppX;
    private final double mppY;
    private final MppSource mppSource;
    private final Double objectivePower;
    private final List<String> associatedImageNames;

    public SlideMetadata(
            String vendor,
            List<Level> levels,
            double mppX,
            double mppY,
            MppSource mppSource,
            OptionalDouble objectivePower,
            List<String> associatedImageNames) {
        this.vendor = Objects.requireNonNull(vendor, "vendor");
        this.levels = List.copyOf(levels);
        if (this.levels.isEmpty()) {
            throw new IllegalArgumentException("a slide has at least one level");
        }
        if (!(mppX > 0) || !(mppY > 0) || Double.isInfinite(mppX) || Double.isInfinite(mppY)) {
            throw new IllegalArgumentException("mpp must be positive, got " + mppX + ", " + mppY);
        }
        this.mppX = mppX;
        this.mppY = mppY;
        this.mppSource = Objects.requireNonNull(mppSource, "mppSource");
        this.objectivePower = objectivePower.isPresent() ? objectivePower.getAsDouble() : null;
        this.associatedImageNames = List.copyOf(associatedImageNames);
    }

    /**
     * Reads the metadata of a slide.
     *
     * @param slideName names the slide in error messages (its path or id)
     * @param defaultMpp the configured resolution for slides that carry none
     * @throws SlideStreamException {@code UNKNOWN_RESOLUTION} when neither the slide nor {@code
     *     defaultMpp} gives a resolution
     */
    public static SlideMetadata read(
            SlideSource slide, String slideName, OptionalDouble defaultMpp) {
        List<Level> levels = new ArrayList<>(slide.levelCount());
        for (int i = 0; i < slide.levelCount(); i++) {
            levels.add(
                    new Level(slide.levelWidth(i), slide.levelHeight(i), slide.levelDownsample(i)));
        }
        Map<String, String> props = slide.properties();
        double[] mpp = new double[2];
        MppSource source = resolveMpp(props, defaultMpp, mpp, slideName);
        OptionalDouble power = positive(props.get(PROPERTY_OBJECTIVE_POWER));
        return new SlideMetadata(
                slide.vendor(),
                levels,
                mpp[0],
                mpp[1],
                source,
                power,
                new ArrayList<>(slide.associatedImageNames()));
    }

    private static MppSource resolveMpp(
            Map<String, String> props, OptionalDouble defaultMpp, double[] out, String slideName) {
        if (pair(
                positive(props.get(PROPERTY_MPP_X)), positive(props.get(PROPERTY_MPP_Y)), 1, out)) {
            return MppSource.OPENSLIDE_MPP;
        }
        String unit = props.get(PROPERTY_TIFF_RESOLUTION_UNIT);
        // Pixels per unit -> microns per pixel. "none" or a missing unit says nothing physical.
        double micronsPerUnit =
                "centimeter".equals(unit) ? 10_000.0 : "inch".equals(unit) ? 25_400.0 : 0;
        if (micronsPerUnit > 0
                && pair(
                        positive(props.get(PROPERTY_TIFF_X_RESOLUTION)),
                        positive(props.get(PROPERTY_TIFF_Y_RESOLUTION)),
                        micronsPerUnit,
                        out)
                && plausibleMicroscopeMpp(out)) {
            return MppSource.TIFF_RESOLUTION;
        }
        OptionalDouble power = positive(props.get(PROPERTY_OBJECTIVE_POWER));
        if (power.isPresent()) {
            out[0] = out[1] = 10.0 / power.getAsDouble();
            return MppSource.OBJECTIVE_POWER;
        }
        if (defaultMpp.isPresent()) {
            double mpp = defaultMpp.getAsDouble();
            if (!(mpp > 0) || Double.isInfinite(mpp)) {
                throw new IllegalArgumentException("default mpp must be positive, got " + mpp);
            }
            out[0] = out[1] = mpp;
            return MppSource.CONFIGURED_DEFAULT;
        }
        throw new SlideStreamException(
                ErrorCode.UNKNOWN_RESOLUTION,
                String.format(
                        "slide %s does not say its resolution (no %s, no plausible %s with a"
                                + " centimeter or inch %s, no %s); configure a default resolution"
                                + " in microns per pixel for such slides (slides.default-mpp, or"
                                + " --default-mpp on the command line), or re-export the slide"
                                + " with its resolution",
                        slideName,
                        PROPERTY_MPP_X,
                        PROPERTY_TIFF_X_RESOLUTION,
                        PROPERTY_TIFF_RESOLUTION_UNIT,
                        PROPERTY_OBJECTIVE_POWER));
    }

    /**
     * TIFF writers put placeholder resolutions (72 or 96 dpi, i.e. 350 or 265 um/px) into files
     * that were never scanned at a known resolution; a microscope slide is between about 0.05 and
     * 50 um/px. A value outside that range says nothing, so the next source is asked.
     */
    private static boolean plausibleMicroscopeMpp(double[] mpp) {
        return mpp[0] >= 0.05 && mpp[0] <= 50 && mpp[1] >= 0.05 && mpp[1] <= 50;
    }

    /**
     * Writes {@code scale / value} for x and y into {@code out}; a missing axis takes the other's
     * value. False when neither is present.
     */
    private static boolean pair(OptionalDouble x, OptionalDouble y, double scale, double[] out) {
        if (x.isEmpty() && y.isEmpty()) {
            return false;
        }
        double vx = x.orElse(y.orElse(0));
        double vy = y.orElse(vx);
        boolean reciprocal = scale != 1;
        out[0] = reciprocal ? scale / vx : vx;
        out[1] = reciprocal ? scale / vy : vy;
        return true;
    }

    private static OptionalDouble positive(String value) {
        if (value == null) {
            return OptionalDouble.empty();
        }
        try {
            double v = Double.parseDouble(value.trim());
            return v > 0 && Double.isFinite(v) ? OptionalDouble.of(v) : OptionalDouble.empty();
        } catch (NumberFormatException e) {
            return OptionalDouble.empty();
        }
    }

    @JsonProperty("vendor")
    public String vendor() {
        return vendor;
    }

    @JsonProperty("level_count")
    public int levelCount() {
        return levels.size();
    }

    @JsonProperty("levels")
    public List<Level> levels() {
        return levels;
    }

    public Level level(int index) {
        return levels.get(index);
    }

    /** Width of level 0 in pixels. */
    @JsonIgnore
    public long width() {
        return levels.get(0).width();
    }

    /** Height of level 0 in pixels. */
    @JsonIgnore
    public long height() {
        return levels.get(0).height();
    }

    @JsonProperty("mpp_x")
    public double mppX() {
        return mppX;
    }

    @JsonProperty("mpp_y")
    public double mppY() {
        return mppY;
    }

    /** The mean of x and y resolution: the one number the tiler plans with. */
    @JsonIgnore
    public double mpp() {
        return (mppX + mppY) / 2;
    }

    @JsonProperty("mpp_source")
    public MppSource mppSource() {
        return mppSource;
    }

    @JsonIgnore
    public OptionalDouble objectivePower() {
        return objectivePower == null ? OptionalDouble.empty() : OptionalDouble.of(objectivePower);
    }

    @JsonProperty("objective_power")
    Double objectivePowerOrNull() {
        return objectivePower;
    }

    @JsonProperty("associated_images")
    public List<String> associatedImageNames() {
        return associatedImageNames;
    }

    /**
     * The coarsest level whose downsample does not exceed {@code downsample} (within {@value
     * #DOWNSAMPLE_TOLERANCE} relative), so reading there and scaling loses no detail; level 0 when
     * {@code downsample} is below 1.
     */
    public int bestLevelForDownsample(double downsample) {
        int best = 0;
        for (int i = 1; i < levels.size(); i++) {
            if (levels.get(i).downsample() <= downsample * (1 + DOWNSAMPLE_TOLERANCE)) {
                best = i;
            }
        }
        return best;
    }

    /** The level to read for a target resolution: {@link #bestLevelForDownsample} of target/mpp. */
    public int bestLevelForMpp(double targetMpp) {
        return bestLevelForDownsample(targetMpp / mpp());
    }

    @Override
    public String toString() {
        return String.format(
                "SlideMetadata[vendor=%s, levels=%s, mpp=%.5fx%.5f (%s), objective=%s,"
                        + " associated=%s]",
                vendor,
                levels,
                mppX,
                mppY,
                mppSource.jsonName(),
                objectivePower,
                associatedImageNames);
    }
}
