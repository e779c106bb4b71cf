package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.slidestream.config.ServeOptions;
import io.slidestream.serve.ServeConfig;
import io.slidestream.serve.SlideStreamServer;
import io.slidestream.testing.TestSlides;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.Alert;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The service with {@code serve.auth=token}, as a hospital runs it: no token, a wrong token or a
 * revoked one gets 401 JSON; a token of the file (bearer header, or the dashboard's session cookie)
 * passes and names the user in the audit log; the file is read again when it changes; another Host
 * gets 421 and another site's Origin 403; {@code none} is refused on a non-loopback address without
 * {@code --insecure}. In Chromium the dashboard asks for the token once and then works on its
 * session cookie.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ServeAuthITCase {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir static Path dir;

    private Path tokens;
    private Path audit;
    private SlideStreamServer server;

    @BeforeAll
    void start() throws Exception {
        tokens = dir.resolve("tokens");
        Files.writeString(tokens, "# users of the test\nalice:alice-secret-1\n");
        audit = dir.resolve("audit.jsonl");
        server = SlideStreamServer.start(config(ServeOptions.Auth.TOKEN), "127.0.0.1", 0);
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private ServeConfig config(ServeOptions.Auth auth) throws Exception {
        Configuration conf = new Configuration();
        conf.setString(
                "inference.model-path", TestSlides.gpfmTiny().resolve("gpfm-tiny.onnx").toString());
        conf.setString("milvus.uri", "http://127.0.0.1:1");
        Path iceberg = Files.createDirectories(dir.resolve("iceberg"));
        conf.setString("iceberg.uri", "jdbc:sqlite:" + iceberg.resolve("catalog.db"));
        conf.setString("iceberg.warehouse", iceberg.resolve("warehouse").toUri().toString());
        conf.setString("serve.auth", auth.name().toLowerCase());
        conf.setString("serve.auth-tokens", tokens.toString());
        conf.setString("serve.audit-log", audit.toString());
        return ServeConfig.from(conf);
    }

    @Test
    void aRequestWithoutAValidTokenGets401AndOneWithAValidTokenPasses() throws Exception {
        HttpResponse<String> none = get("/api/models", null);
        ApiAnswers.assertError(none, 401, "UNAUTHENTICATED");
        assertThat(none.headers().firstValue("WWW-Authenticate"))
                .contains("Bearer realm=\"slidestream\"");
        ApiAnswers.assertError(get("/api/models", "Bearer wrong"), 401, "UNAUTHENTICATED");

        HttpResponse<String> alice = get("/api/slides/a/dzi", "Bearer alice-secret-1");
        assertThat(alice.statusCode()).as(alice.body()).isNotEqualTo(401).isNotEqualTo(403);

        List<JsonNode> lines = ApiAnswers.auditLines(audit);
        assertThat(lines)
                .anySatisfy(
                        l -> {
                            assertThat(l.path("user").asText()).isEqualTo("alice");
                            assertThat(l.path("slide_id").asText()).isEqualTo("a");
                        })
                .anySatisfy(l -> assertThat(l.path("status").asInt()).isEqualTo(401));
        assertThat(Files.readString(audit))
                .doesNotContain("alice-secret-1")
                .doesNotContain("wrong");
    }

    @Test
    void theTokenFileIsReadAgainWhenItChanges() throws Exception {
        Path bobTokens = tokens;
        Files.writeString(bobTokens, "alice:alice-secret-1\nbob:bob-secret-2\n");
        Files.setLastModifiedTime(bobTokens, FileTime.from(Instant.now().plusSeconds(5)));
        assertThat(get("/api/slides/a/dzi", "Bearer bob-secret-2").statusCode()).isNotEqualTo(401);

        Files.writeString(bobTokens, "alice:alice-secret-1\n");
        Files.setLastModifiedTime(bobTokens, FileTime.from(Instant.now().plusSeconds(10)));
        ApiAnswers.assertError(
                get("/api/slides/a/dzi", "Bearer bob-secret-2"), 401, "UNAUTHENTICATED");
    }

    @Test
    void theSessionCookieCarriesTheTokenForTheDashboard() throws Exception {
        HttpResponse<String> session =
                HTTP.send(
                        HttpRequest.newBuilder(uri("/api/session"))
                                .POST(HttpRequest.BodyPublishers.ofString("alice-secret-1"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(session.statusCode()).isEqualTo(204);
        String cookie = session.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(cookie).contains("HttpOnly").containsIgnoringCase("SameSite=Strict");
        HttpResponse<String> withCookie =
                HTTP.send(
                        HttpRequest.newBuilder(uri("/api/slides/a/dzi"))
                                .header("Cookie", cookie.substring(0, cookie.indexOf(';')))
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(withCookie.statusCode()).isNotEqualTo(401);
        HttpResponse<String> wrong =
                HTTP.send(
                        HttpRequest.newBuilder(uri("/api/session"))
                                .POST(HttpRequest.BodyPublishers.ofString("guess"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        ApiAnswers.assertError(wrong, 401, "UNAUTHENTICATED");
    }

    @Test
    void anotherHostGets421AndAnotherSitesOrigin403() throws Exception {
        // The JDK's client will not send another Host: a raw request, as a rebinding page's is.
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(
                    ("GET /api/models HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(response).startsWith("HTTP/1.1 421").contains("MISDIRECTED_REQUEST");
        }
        HttpResponse<String> crossSite =
                HTTP.send(
                        HttpRequest.newBuilder(uri("/api/models"))
                                .header("Origin", "https://evil.example")
                                .header("Authorization", "Bearer alice-secret-1")
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        ApiAnswers.assertError(crossSite, 403, "ORIGIN_NOT_ALLOWED");
    }

    @Test
    void noAuthenticationIsRefusedOnEveryInterfaceUnlessInsecure() throws Exception {
        ServeConfig open = config(ServeOptions.Auth.NONE);
        assertThatThrownBy(() -> SlideStreamServer.start(open, "0.0.0.0", 0))
                .hasMessageContaining("serve.auth=none on 0.0.0.0")
                .hasMessageContaining("--insecure");
        try (SlideStreamServer insecure = SlideStreamServer.start(open, "0.0.0.0", 0, true)) {
            assertThat(insecure.port()).isPositive();
        }
    }

    @Test
    void theDashboardAsksForTheTokenOnceAndWorksOnItsSession() throws Exception {
        WebDriver browser = HeadlessChrome.start();
        try {
            browser.get("http://127.0.0.1:" + server.port() + "/");
            Alert prompt =
                    new WebDriverWait(browser, Duration.ofSeconds(30))
                            .until(ExpectedConditions.alertIsPresent());
            assertThat(prompt.getText()).contains("access token");
            prompt.sendKeys("alice-secret-1");
            prompt.accept();
            Awaitility.await()
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> browser.manage().getCookieNamed("slidestream_session") != null);
            assertThat(browser.manage().getCookieNamed("slidestream_session").isHttpOnly())
                    .isTrue();
            ApiAnswers.awaitAudited(audit, "alice", "/api/slides");
        } finally {
            browser.quit();
        }
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    private HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).GET();
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
