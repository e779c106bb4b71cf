package io.slidestream.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** JSON answers of the service (Jackson, written here rather than through Javalin's mapper). */
final class ServeJson {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private ServeJson() {}

    static void send(Context ctx, JsonNode body) {
        try {
            ctx.contentType("application/json").result(MAPPER.writeValueAsString(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unserialisable answer", e);
        }
    }

    static void error(Context ctx, int status, String code, String message) {
        var root = MAPPER.createObjectNode();
        var error = root.putObject("error");
        error.put("code", code);
        error.put("message", message);
        ctx.status(status);
        send(ctx, root);
    }

    static String urlEncode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
