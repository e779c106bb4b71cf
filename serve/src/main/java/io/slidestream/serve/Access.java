package io.slidestream.serve;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.SameSite;
import io.slidestream.config.ServeOptions.Auth;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Who may reach the service and from where. Every request's {@code Host} must be an allowed host
 * (421 otherwise), and a request with an {@code Origin} must come from one (403): a page on another
 * site, or a name rebound to this address, gets nothing. With {@code serve.auth=token} or {@code
 * oidc} every {@code /api} request needs a token the {@link Credentials} accept ({@link TokenFile},
 * {@link OidcTokens}) as {@code Authorization: Bearer} or in the dashboard's session cookie (401
 * otherwise); {@code POST /api/session} with the token sets that cookie (HttpOnly, SameSite=Strict,
 * Secure over HTTPS) and {@code DELETE /api/session} clears it. The user found is put on the
 * request for the audit log.
 */
final class Access {
    static final String COOKIE = "slidestream_session";

    private final Auth auth;
    private final Credentials credentials;
    private final Set<String> hosts;

    /** {@code credentials}: null for {@code serve.auth=none}. */
    Access(Auth auth, Credentials credentials, List<String> allowedHosts, String boundHost) {
        this.auth = auth;
        this.credentials = credentials;
        this.hosts = new HashSet<>();
        if (allowedHosts.isEmpty()) {
            hosts.addAll(List.of("localhost", "127.0.0.1", "::1", "[::1]"));
            if (!boundHost.equals("0.0.0.0") && !boundHost.equals("::")) {
                hosts.add(boundHost.toLowerCase(Locale.ROOT));
            } else {
                try {
                    hosts.add(InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT));
                } catch (UnknownHostException e) {
                    // Only the loopback names then.
                }
            }
        } else {
            allowedHosts.forEach(h -> hosts.add(h.toLowerCase(Locale.ROOT)));
        }
    }

    /** Whether {@code host} is a loopback address or name. */
    static boolean loopback(String host) {
        try {
            return host.equals("localhost") || InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    void register(Javalin app) {
        app.before(this::checkHost);
        app.before("/api/*", this::authenticate);
        app.post("/api/session", this::openSession);
        app.delete("/api/session", this::closeSession);
    }

    private void checkHost(Context ctx) {
        String host = hostName(ctx.host());
        if (host == null || !hosts.contains(host)) {
            throw new ApiError(
                    421,
                    "MISDIRECTED_REQUEST",
                    "This service does not answer to that host name; serve.allowed-hosts lists"
                            + " the ones it does");
        }
        String origin = ctx.header("Origin");
        if (origin != null && !origin.equals("null")) {
            String from;
            try {
                from = URI.create(origin).getHost();
            } catch (IllegalArgumentException e) {
                from = null;
            }
            if (from == null || !hosts.contains(from.toLowerCase(Locale.ROOT))) {
                throw new ApiError(
                        403,
                        "ORIGIN_NOT_ALLOWED",
                        "Requests from pages of another site are refused");
            }
        }
    }

    /** The host name of a Host header ("name:port", "[::1]:8080"), lower case, or null. */
    private static String hostName(String header) {
        if (header == null || header.isBlank()) {
            return null;
        }
        String h = header.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? null : h.substring(0, end + 1);
        }
        int colon = h.indexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }

    private void authenticate(Context ctx) {
        if (auth == Auth.NONE || ctx.path().equals("/api/session")) {
            return;
        }
        String token = null;
        String header = ctx.header("Authorization");
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            token = header.substring(7).strip();
        } else if (ctx.cookie(COOKIE) != null) {
            token = ctx.cookie(COOKIE);
        }
        String user = token == null || token.isEmpty() ? null : credentials.user(token);
        if (user == null) {
            ctx.header("WWW-Authenticate", "Bearer realm=\"slidestream\"");
            throw new ApiError(
                    401,
                    "UNAUTHENTICATED",
                    token == null
                            ? "Send 'Authorization: Bearer TOKEN' with "
                                    + credentials.expected()
                                    + " (the dashboard asks for one)"
                            : "That token is not " + credentials.expected());
        }
        ctx.attribute(AuditLog.USER, user);
    }

    private void openSession(Context ctx) {
        if (auth == Auth.NONE) {
            ctx.status(204);
            return;
        }
        String token = ctx.formParam("token");
        if (token == null) {
            token = ctx.body().strip();
        }
        String user = token.isEmpty() ? null : credentials.user(token);
        if (user == null) {
            throw new ApiError(
                    401, "UNAUTHENTICATED", "That token is not " + credentials.expected());
        }
        ctx.cookie(
                new Cookie(
                        COOKIE,
                        token,
                        "/",
                        -1,
                        ctx.scheme().equals("https"),
                        0,
                        true,
                        null,
                        null,
                        SameSite.STRICT));
        ctx.attribute(AuditLog.USER, user);
        ctx.status(204);
    }

    private void closeSession(Context ctx) {
        ctx.removeCookie(COOKIE, "/");
        ctx.status(204);
    }
}
