package io.slidestream.serve;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who asked for what: one JSON line per API request - time, user, client address, method, route
 * (the path pattern, e.g. {@code /api/slides/{id}/dzi_files/{level}/{tile}}), slide id (from the
 * path or the {@code slide_id} parameter) and status - appended to {@code serve.audit-log}, or to
 * the log {@code io.slidestream.serve.audit} when none is set. Headers, tokens and other parameters
 * are never written. The user is the one authentication set on the request ({@link #USER}), {@code
 * anonymous} without.
 */
final class AuditLog implements AutoCloseable {
    /** The request attribute that names the authenticated user. */
    static final String USER = "slidestream.user";

    private static final Logger LOG = LoggerFactory.getLogger("io.slidestream.serve.audit");

    private final BufferedWriter file;

    AuditLog(Path file) {
        try {
            this.file =
                    file == null
                            ? null
                            : Files.newBufferedWriter(
                                    file,
                                    StandardCharsets.UTF_8,
                                    StandardOpenOption.CREATE,
                                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot open serve.audit-log " + file + " for appending", e);
        }
    }

    void record(Context ctx) {
        ObjectNode line = JsonNodeFactory.instance.objectNode();
        line.put("time", Instant.now().toString());
        Object user = ctx.attribute(USER);
        line.put("user", user == null ? "anonymous" : user.toString());
        line.put("client", ctx.ip());
        line.put("method", ctx.method().name());
        String route = ctx.endpointHandlerPath();
        line.put("route", route.isEmpty() || route.equals("*") ? shortPath(ctx.path()) : route);
        String slide = ctx.pathParamMap().get("id");
        if (slide == null) {
            slide = ctx.queryParam("slide_id");
        }
        if (slide != null) {
            line.put("slide_id", slide.length() > Params.MAX_SLIDE_ID ? "(too long)" : slide);
        }
        line.put("status", ctx.statusCode());
        String text = line.toString();
        if (file == null) {
            LOG.info(text);
            return;
        }
        synchronized (file) {
            try {
                file.write(text);
                file.newLine();
                file.flush();
            } catch (IOException e) {
                LOG.error("Writing the audit log failed; the line was {}", text, e);
            }
        }
    }

    private static String shortPath(String path) {
        return path.length() <= 100 ? path : path.substring(0, 100) + "...";
    }

    @Override
    public void close() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException e) {
                LOG.warn("Closing the audit log failed: {}", e.toString());
            }
        }
    }
}
