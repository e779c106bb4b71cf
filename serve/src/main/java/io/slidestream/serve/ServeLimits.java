package io.slidestream.serve;

import io.slidestream.config.ServeOptions;
import io.slidestream.errors.InvalidConfig;
import org.apache.flink.configuration.ReadableConfig;

/**
 * What keeps the service up under load and hostile requests ({@code serve.max-*}): expensive
 * requests answered at once, the largest upload in bytes and in declared pixels, and the most
 * pixels one picture may read from a slide.
 */
public record ServeLimits(
        int expensiveAtOnce, long uploadBytes, long uploadPixels, long readPixels) {

    /** The defaults of the keys. */
    public static final ServeLimits DEFAULTS =
            new ServeLimits(
                    ServeOptions.MAX_EXPENSIVE_REQUESTS.defaultValue(),
                    ServeOptions.MAX_UPLOAD_SIZE.defaultValue().getBytes(),
                    ServeOptions.MAX_UPLOAD_PIXELS.defaultValue(),
                    ServeOptions.MAX_READ_PIXELS.defaultValue());

    public ServeLimits {
        InvalidConfig.check(
                expensiveAtOnce >= 1,
                ServeOptions.MAX_EXPENSIVE_REQUESTS,
                expensiveAtOnce,
                "at least 1");
        InvalidConfig.check(
                uploadBytes >= 1 && uploadBytes <= Integer.MAX_VALUE / 2,
                ServeOptions.MAX_UPLOAD_SIZE,
                uploadBytes,
                "1 byte to 1 GiB");
        InvalidConfig.check(
                uploadPixels >= 1, ServeOptions.MAX_UPLOAD_PIXELS, uploadPixels, "at least 1");
        InvalidConfig.check(
                readPixels >= 1 && readPixels <= Integer.MAX_VALUE,
                ServeOptions.MAX_READ_PIXELS,
                readPixels,
                "1 to 2^31 - 1 (one picture's array)");
    }

    static ServeLimits from(ReadableConfig conf) {
        return new ServeLimits(
                conf.get(ServeOptions.MAX_EXPENSIVE_REQUESTS),
                conf.get(ServeOptions.MAX_UPLOAD_SIZE).getBytes(),
                conf.get(ServeOptions.MAX_UPLOAD_PIXELS),
                conf.get(ServeOptions.MAX_READ_PIXELS));
    }
}
