package io.slidestream.serve;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

/**
 * The web server's own refusals (a request line it cannot parse, a URI too long, an ambiguous or
 * illegal path such as one with a NUL) answered as the API answers: {@code {"error": {"code",
 * "message"}}}, never Jetty's HTML page, and never repeating the request.
 */
final class JsonErrorHandler extends ErrorHandler {

    @Override
    protected void generateAcceptableResponse(
            Request baseRequest,
            HttpServletRequest request,
            HttpServletResponse response,
            int code,
            String message)
            throws IOException {
        baseRequest.setHandled(true);
        response.setContentType("application/json");
        response.getOutputStream().write(body(code, message));
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        return ByteBuffer.wrap(body(status, reason));
    }

    static byte[] body(int status, String reason) {
        ObjectNode error = JsonNodeFactory.instance.objectNode();
        error.put("code", status == 414 || status == 431 ? "REQUEST_TOO_LARGE" : "INVALID_REQUEST");
        String why = reason == null ? "" : reason.replaceAll("[^\\x20-\\x7e]", "?");
        if (why.length() > 120) {
            why = why.substring(0, 120);
        }
        error.put(
                "message",
                "The web server refused the request (HTTP "
                        + status
                        + (why.isEmpty() ? "" : ": " + why)
                        + "); docs/retrieval.md lists the API");
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.set("error", error);
        return root.toString().getBytes(StandardCharsets.UTF_8);
    }
}
