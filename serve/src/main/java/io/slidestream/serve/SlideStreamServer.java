package io.slidestream.serve;

import io.javalin.Javalin;
import io.javalin.http.HttpResponseException;
import io.javalin.http.staticfiles.Location;
import io.slidestream.config.ServeOptions;
import io.slidestream.config.SlideStreamConfig;
import io.slidestream.errors.InvalidConfig;
import io.slidestream.errors.SlideStreamException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The retrieval service and the lab's dashboard in one process ({@code slidestream serve}): the
 * JSON API of {@link SearchRoutes}, {@link SlideRoutes} and {@link ImageRoutes} under {@code /api},
 * and the dashboard's static files (HTML, JavaScript, OpenSeadragon) from the jar at {@code /}.
 * Every refusal is JSON {@code {"error": {"code", "message"}}} with its HTTP status - the web
 * server's own too ({@link JsonErrorHandler}), and 405 for a method a path does not take; nothing
 * answers with a stack trace or an exception's text (those go to the log). At most {@code
 * serve.max-expensive-requests} searches and image reads run at once ({@link ExpensiveRequests},
 * {@link ServeLimits}). Every API request is written to the audit log ({@link AuditLog}); who may
 * ask is {@link Access}'s to decide.
 */
public final class SlideStreamServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SlideStreamServer.class);

    private final ServeStores stores;
    private final AuditLog audit;
    private final Javalin app;

    private SlideStreamServer(ServeStores stores, AuditLog audit, Javalin app) {
        this.stores = stores;
        this.audit = audit;
        this.app = app;
    }

    /** Starts the service on {@code host}:{@code port} (0: any free port). */
    public static SlideStreamServer start(SlideStreamConfig config, String host, int port) {
        return start(ServeConfig.of(config), host, port);
    }

    /** Starts the service on {@code host}:{@code port} (0: any free port). */
    public static SlideStreamServer start(ServeConfig config, String host, int port) {
        return start(config, host, port, false);
    }

    /**
     * Starts the service on {@code host}:{@code port} (0: any free port); without authentication
     * ({@code serve.auth=none}) only on a loopback address, unless {@code insecure}.
     */
    public static SlideStreamServer start(
            ServeConfig config, String host, int port, boolean insecure) {
        if (config.access().auth() == ServeOptions.Auth.NONE
                && !Access.loopback(host)
                && !insecure) {
            throw InvalidConfig.because(
                    "serve.auth=none on "
                            + host
                            + " would show every slide to anyone who reaches the port: set"
                            + " serve.auth=token with serve.auth-tokens FILE (or"
                            + " serve.auth=oidc), bind --host"
                            + " 127.0.0.1 behind an authenticating proxy, or pass --insecure");
        }
        Access access =
                new Access(
                        config.access().auth(),
                        switch (config.access().auth()) {
                            case NONE -> null;
                            case TOKEN -> new TokenFile(config.access().authTokens());
                            case OIDC -> new OidcTokens(config.access().oidc());
                        },
                        config.access().allowedHosts(),
                        host);
        ServeStores stores = new ServeStores(config);
        AuditLog audit = null;
        try {
            audit = new AuditLog(config.access().auditLog());
            Javalin app =
                    Javalin.create(
                            cfg -> {
                                cfg.showJavalinBanner = false;
                                cfg.http.maxRequestSize = 2L * config.limits().uploadBytes();
                                cfg.http.prefer405over404 = true;
                                cfg.jetty.modifyServer(
                                        server -> server.setErrorHandler(new JsonErrorHandler()));
                                if (config.access().tls() != null) {
                                    cfg.jetty.addConnector(
                                            (server, http) ->
                                                    HttpsConnector.connector(
                                                            server,
                                                            http,
                                                            config.access().tls(),
                                                            host,
                                                            port));
                                }
                                cfg.jetty.modifyServletContextHandler(
                                        h -> h.setErrorHandler(new JsonErrorHandler()));
                                cfg.staticFiles.add(
                                        s -> {
                                            s.hostedPath = "/";
                                            s.directory = "/dashboard";
                                            s.location = Location.CLASSPATH;
                                        });
                            });
            SlideRoutes slides = new SlideRoutes(stores);
            slides.register(app);
            access.register(app);
            app.after("/api/*", audit::record);
            ExpensiveRequests expensive = new ExpensiveRequests(config.limits().expensiveAtOnce());
            new SearchRoutes(stores, expensive, config.limits()).register(app);
            new ImageRoutes(stores, slides, expensive, config.limits().readPixels()).register(app);
            app.exception(
                    ApiError.class,
                    (e, ctx) -> {
                        if (e.status() == 429) {
                            ctx.header("Retry-After", "1");
                        }
                        ServeJson.error(ctx, e.status(), e.code(), e.getMessage());
                    });
            app.exception(
                    SlideStreamException.class,
                    (e, ctx) ->
                            ServeJson.error(
                                    ctx,
                                    e.code().httpStatus(),
                                    e.code().name(),
                                    withoutPaths(e.getMessage())));
            app.exception(
                    HttpResponseException.class,
                    (e, ctx) -> {
                        int status = e.getStatus();
                        if (status == 405) {
                            ServeJson.error(
                                    ctx,
                                    405,
                                    "METHOD_NOT_ALLOWED",
                                    ctx.method()
                                            + " is not allowed on "
                                            + shortPath(ctx.path())
                                            + "; the API only reads (GET), and searches by image"
                                            + " with POST");
                        } else if (status == 404) {
                            ServeJson.error(
                                    ctx,
                                    404,
                                    "NO_SUCH_ROUTE",
                                    "No route "
                                            + ctx.method()
                                            + " "
                                            + shortPath(ctx.path())
                                            + "; docs/retrieval.md lists the API");
                        } else {
                            ServeJson.error(
                                    ctx,
                                    status,
                                    status == 413 ? "IMAGE_TOO_LARGE" : "INVALID_REQUEST",
                                    e.getMessage());
                        }
                    });
            app.exception(
                    Exception.class,
                    (e, ctx) -> {
                        LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
                        ServeJson.error(
                                ctx,
                                500,
                                "INTERNAL",
                                "The service failed on this request; the service log has the"
                                        + " details");
                    });
            app.start(host, port);
            return new SlideStreamServer(stores, audit, app);
        } catch (RuntimeException e) {
            stores.close();
            if (audit != null) {
                audit.close();
            }
            throw e;
        }
    }

    /**
     * {@code message} without the server's file paths (a slide's, the allowed roots'): an answer
     * says what is wrong, the log says where.
     */
    static String withoutPaths(String message) {
        return message == null
                ? null
                : ServeStores.redacted(message)
                        .replaceAll("(?<![\\w/])(/[\\w.@%+~-]+)+/?", "<path>")
                        .replaceAll("file:<path>", "<path>");
    }

    /** A request path as an answer may repeat it: at most 100 characters. */
    private static String shortPath(String path) {
        return path.length() <= 100 ? path : path.substring(0, 100) + "...";
    }

    /** The port the service listens on. */
    public int port() {
        return app.port();
    }

    /** The model the service embeds uploaded images with. */
    public String modelId() {
        return stores.modelId();
    }

    @Override
    public void close() {
        app.stop();
        stores.close();
        audit.close();
    }
}
