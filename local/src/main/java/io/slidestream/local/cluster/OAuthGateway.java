package io.slidestream.local.cluster;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An OAuth2 front for Iceberg's REST catalog fixture, which checks nobody: the way a lab's catalog
 * sits behind its identity provider or API gateway. {@code POST /v1/oauth/tokens} issues a random
 * bearer token for the one client it knows (client credentials in the form or HTTP Basic, as RFC
 * 6749 section 2.3.1 allows; the token-exchange grant Iceberg uses to refresh is answered the same
 * way for a valid bearer); every other request must carry a bearer token it issued and is then
 * passed to the catalog unchanged. Anything else gets 401 with Iceberg's error body, as a real
 * catalog answers. Tokens live as long as the gateway.
 */
public final class OAuthGateway implements AutoCloseable {
    private static final String TOKENS = "/v1/oauth/tokens";

    /** Headers the JDK's HTTP client sets itself and refuses from callers. */
    private static final Set<String> HOP_BY_HOP =
            Set.of(
                    "authorization",
                    "connection",
                    "content-length",
                    "expect",
                    "host",
                    "upgrade",
                    "transfer-encoding",
                    "keep-alive");

    private final HttpServer server;
    private final ExecutorService executor;
    private final HttpClient client;
    private final URI upstream;
    private final String clientId;
    private final byte[] secretDigest;
    private final Set<String> issued = ConcurrentHashMap.newKeySet();
    private final SecureRandom random = new SecureRandom();

    private OAuthGateway(String upstream, String clientId, String clientSecret) throws IOException {
        this.upstream = URI.create(upstream);
        this.clientId = clientId;
        this.secretDigest = digest(clientSecret);
        this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        this.executor = Executors.newFixedThreadPool(8);
        this.server =
                HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /**
     * Starts a gateway on a free loopback port in front of {@code upstream} (the catalog's base
     * URI) that knows one client.
     */
    public static OAuthGateway start(String upstream, String clientId, String clientSecret) {
        try {
            return new OAuthGateway(upstream, clientId, clientSecret);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the OAuth gateway", e);
        }
    }

    /** The catalog's URI behind the gateway (for {@code iceberg.uri}). */
    public String uri() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try {
            if (TOKENS.equals(exchange.getRequestURI().getPath())) {
                token(exchange);
            } else if (bearer(exchange) != null && issued.contains(bearer(exchange))) {
                forward(exchange);
            } else {
                refuse(
                        exchange,
                        401,
                        "{\"error\":{\"message\":\"Authentication required: no valid bearer"
                                + " token\",\"type\":\"NotAuthorizedException\",\"code\":401}}");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            exchange.close();
        }
    }

    private void token(HttpExchange exchange) throws IOException {
        Map<String, String> form =
                form(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        String grant = form.getOrDefault("grant_type", "");
        boolean valid;
        if ("client_credentials".equals(grant)) {
            String[] basic = basic(exchange);
            String id = basic != null ? basic[0] : form.get("client_id");
            String secret = basic != null ? basic[1] : form.get("client_secret");
            valid =
                    clientId.equals(id)
                            && secret != null
                            && MessageDigest.isEqual(secretDigest, digest(secret));
        } else if ("urn:ietf:params:oauth:grant-type:token-exchange".equals(grant)) {
            valid =
                    issued.contains(form.getOrDefault("subject_token", ""))
                            || issued.contains(String.valueOf(bearer(exchange)));
        } else {
            valid = false;
        }
        if (!valid) {
            refuse(
                    exchange,
                    401,
                    "{\"error\":\"invalid_client\",\"error_description\":\"unknown client or"
                            + " wrong secret\"}");
            return;
        }
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String token = HexFormat.of().formatHex(bytes);
        issued.add(token);
        send(
                exchange,
                200,
                ("{\"access_token\":\""
                                + token
                                + "\",\"token_type\":\"bearer\",\"expires_in\":3600,"
                                + "\"issued_token_type\":"
                                + "\"urn:ietf:params:oauth:token-type:access_token\"}")
                        .getBytes(StandardCharsets.UTF_8));
    }

    private void forward(HttpExchange exchange) throws IOException, InterruptedException {
        URI target = upstream.resolve(exchange.getRequestURI().getRawPath());
        if (exchange.getRequestURI().getRawQuery() != null) {
            target = URI.create(target + "?" + exchange.getRequestURI().getRawQuery());
        }
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readAllBytes();
        }
        HttpRequest.Builder request =
                HttpRequest.newBuilder(target)
                        .timeout(Duration.ofSeconds(60))
                        .method(
                                exchange.getRequestMethod(),
                                body.length == 0
                                        ? HttpRequest.BodyPublishers.noBody()
                                        : HttpRequest.BodyPublishers.ofByteArray(body));
        exchange.getRequestHeaders()
                .forEach(
                        (name, values) -> {
                            if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT))) {
                                values.forEach(v -> request.header(name, v));
                            }
                        });
        HttpResponse<byte[]> response =
                client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        response.headers()
                .map()
                .forEach(
                        (name, values) -> {
                            if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT))
                                    && !name.startsWith(":")) {
                                exchange.getResponseHeaders().put(name, List.copyOf(values));
                            }
                        });
        send(exchange, response.statusCode(), response.body());
    }

    private static void refuse(HttpExchange exchange, int status, String json) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
        send(exchange, status, json.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
        if (!exchange.getResponseHeaders().containsKey("Content-Type")) {
            exchange.getResponseHeaders().set("Content-Type", "application/json");
        }
        if (status == 204 || body.length == 0) {
            exchange.sendResponseHeaders(status, -1);
        } else {
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    private static String bearer(HttpExchange exchange) {
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return header.substring(7).strip();
    }

    /** The client id and secret of an HTTP Basic header, or null. */
    private static String[] basic(HttpExchange exchange) {
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        String decoded;
        try {
            decoded =
                    new String(
                            Base64.getDecoder().decode(header.substring(6).strip()),
                            StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return null;
        }
        return new String[] {
            URLDecoder.decode(decoded.substring(0, colon), StandardCharsets.UTF_8),
            URLDecoder.decode(decoded.substring(colon + 1), StandardCharsets.UTF_8)
        };
    }

    private static Map<String, String> form(String body) {
        Map<String, String> form = new HashMap<>();
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                form.put(
                        URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return form;
    }

    private static byte[] digest(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256")
                    .digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
