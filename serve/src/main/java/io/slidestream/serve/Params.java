package io.slidestream.serve;

import io.javalin.http.Context;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/** Query parameters, parsed once with an error that names the parameter and what it takes. */
final class Params {
    private Params() {}

    /** Longest slide id the API takes (ids are file names or accession numbers). */
    static final int MAX_SLIDE_ID = 256;

    /**
     * The {@code {id}} path parameter: at most {@value #MAX_SLIDE_ID} characters and none of them a
     * control character; a refusal does not repeat it.
     */
    static String slideId(Context ctx) {
        String id = ctx.pathParam("id");
        if (id.isEmpty() || id.length() > MAX_SLIDE_ID) {
            throw ApiError.badRequest(
                    "A slide id has 1 to "
                            + MAX_SLIDE_ID
                            + " characters; this one has "
                            + id.length());
        }
        for (int i = 0; i < id.length(); i++) {
            if (Character.isISOControl(id.charAt(i))) {
                throw ApiError.badRequest(
                        "A slide id holds no control characters; this one has U+"
                                + String.format("%04X", (int) id.charAt(i))
                                + " at position "
                                + i);
            }
        }
        return id;
    }

    static String required(Context ctx, String name, String what) {
        String value = ctx.queryParam(name);
        if (value == null || value.isBlank()) {
            throw ApiError.badRequest("Missing query parameter '" + name + "': " + what);
        }
        return value;
    }

    static String optional(Context ctx, String name) {
        String value = ctx.queryParam(name);
        return value == null || value.isBlank() ? null : value;
    }

    static long requiredLong(Context ctx, String name, String what) {
        String value = required(ctx, name, what);
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(
                    "Query parameter '" + name + "' must be an integer, got '" + value + "'");
        }
    }

    static Integer optionalInt(Context ctx, String name) {
        String value = optional(ctx, name);
        if (value == null) {
            return null;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(
                    "Query parameter '" + name + "' must be an integer, got '" + value + "'");
        }
    }

    /** An int parameter within [min, max], {@code fallback} when absent. */
    static int bounded(Context ctx, String name, int fallback, int min, int max) {
        Integer value = optionalInt(ctx, name);
        if (value == null) {
            return fallback;
        }
        if (value < min || value > max) {
            throw ApiError.badRequest(
                    "Query parameter '"
                            + name
                            + "' must be between "
                            + min
                            + " and "
                            + max
                            + ", got "
                            + value);
        }
        return value;
    }

    /**
     * A point in time: an ISO instant ({@code 2026-11-30T10:00:00Z}) or a day ({@code 2026-11-30},
     * its start in UTC; as an upper bound, the end of that day).
     */
    static Instant instant(Context ctx, String name, boolean endOfDay) {
        String value = optional(ctx, name);
        if (value == null) {
            return null;
        }
        try {
            if (value.length() == 10) {
                LocalDate day = LocalDate.parse(value);
                return (endOfDay ? day.plusDays(1) : day).atStartOfDay(ZoneOffset.UTC).toInstant();
            }
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw ApiError.badRequest(
                    "Query parameter '"
                            + name
                            + "' must be a day (2026-11-30) or an instant"
                            + " (2026-11-30T10:00:00Z), got '"
                            + value
                            + "'");
        }
    }
}
