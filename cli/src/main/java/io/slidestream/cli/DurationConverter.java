package io.slidestream.cli;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.time.Duration;
import org.apache.flink.util.TimeUtils;
import picocli.CommandLine.ITypeConverter;

/**
 * Reads durations on the command line as the configuration files write them ({@code 2s}, {@code 500
 * ms}, {@code 1 min}), through Flink's parser, and insists on a positive value.
 */
final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        Duration d;
        try {
            d = TimeUtils.parseDuration(value);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "'" + value + "' is not a duration: write e.g. 2s, 500ms or 1min");
        }
        if (d.isZero() || d.isNegative()) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST, "duration '" + value + "' must be positive");
        }
        return d;
    }
}
