package io.slidestream.errors;

import io.slidestream.schemas.ErrorCode;
import org.apache.flink.configuration.ConfigOption;

/**
 * The one way SlideStream refuses its configuration: {@link ErrorCode#INVALID_CONFIG} with a
 * message that names the key, the value it got and what it expects, e.g. {@code tiling.tile-px =
 * '0' is invalid: expected a tile edge in pixels from 1 to 16384, e.g. 256}. Every {@code *Config}
 * class and the configuration loading answer through it, so the same mistake always gets the same
 * code and the same kind of message.
 */
public final class InvalidConfig {

    private InvalidConfig() {}

    /**
     * {@code key} holds {@code value}, and {@code why} says what is wrong with it, as the rest of
     * the sentence: {@code "must be at least 1"}, {@code "is invalid: expected ..."}.
     */
    public static SlideStreamException of(String key, Object value, String why) {
        return new SlideStreamException(
                ErrorCode.INVALID_CONFIG, key + " = '" + value + "' " + why);
    }

    /** {@code option} holds {@code value}; {@code why} says what is wrong with it. */
    public static SlideStreamException of(ConfigOption<?> option, Object value, String why) {
        return of(option.key(), value, why);
    }

    /**
     * Refuses {@code value} of {@code option} unless {@code ok}: it is not what is {@code
     * expected}.
     */
    public static void check(boolean ok, ConfigOption<?> option, Object value, String expected) {
        if (!ok) {
            throw of(option, value, "is invalid: expected " + expected);
        }
    }

    /** {@code key} is required and not set; {@code expected} says what to give. */
    public static SlideStreamException missing(String key, String expected) {
        return new SlideStreamException(ErrorCode.INVALID_CONFIG, key + " is not set: " + expected);
    }

    /** Any other refusal of the configuration, with its whole {@code message}. */
    public static SlideStreamException because(String message) {
        return new SlideStreamException(ErrorCode.INVALID_CONFIG, message);
    }

    /** As {@link #because(String)}, with the failure that caused it. */
    public static SlideStreamException because(String message, Throwable cause) {
        return new SlideStreamException(ErrorCode.INVALID_CONFIG, message, cause);
    }
}
