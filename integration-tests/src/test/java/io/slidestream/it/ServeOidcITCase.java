package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.slidestream.config.ServeOptions;
import io.slidestream.serve.ServeConfig;
import io.slidestream.serve.SlideStreamServer;
import io.slidestream.testing.TestSlides;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
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
 * The service with {@code serve.auth=oidc} over HTTPS, as a hospital behind its identity provider
 * runs it. The test is the provider: it makes an RSA key, publishes it as a JWK set beside a
 * discovery document, and signs tokens. A token signed by that key for the service's audience
 * passes and names its user in the audit log; one signed by another key, with "none", with the
 * public key as an HMAC secret, for another issuer or audience, or expired gets 401 JSON; a
 * provider that cannot be reached gets 503. The service speaks only TLS from the keystore the test
 * made (a plain HTTP request gets no answer), its session cookie is Secure, and in Chromium the
 * dashboard takes the JWT at its prompt.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ServeOidcITCase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String AUDIENCE = "slidestream-dashboard";
    private static final String PASSWORD = "keystore-secret";

    @TempDir static Path dir;

    private HttpServer provider;
    private String issuer;
    private RSAKey key;
    private Path keystore;
    private Path audit;
    private HttpClient https;
    private SlideStreamServer server;

    @BeforeAll
    void start() throws Exception {
        key = new RSAKeyGenerator(2048).keyID("lab-key-1").generate();
        provider = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        issuer = "http://127.0.0.1:" + provider.getAddress().getPort() + "/realms/pathology";
        String keys = new JWKSet(key.toPublicJWK()).toString();
        String discovery =
                JSON.writeValueAsString(
                        Map.of("issuer", issuer, "jwks_uri", issuer + "/protocol/certs"));
        provider.createContext(
                "/realms/pathology/.well-known/openid-configuration",
                exchange -> answer(exchange, discovery));
        provider.createContext(
                "/realms/pathology/protocol/certs", exchange -> answer(exchange, keys));
        provider.start();

        keystore = dir.resolve("serve.p12");
        TestKeys.keystore(keystore, PASSWORD, "localhost");
        https =
                HttpClient.newBuilder()
                        .sslContext(TestKeys.trustingContext(keystore, PASSWORD))
                        .build();
        audit = dir.resolve("audit.jsonl");
        server = SlideStreamServer.start(config(issuer, null), "127.0.0.1", 0);
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
        if (provider != null) {
            provider.stop(0);
        }
    }

    @Test
    void aTokenOfTheProviderForThisAudiencePassesAndNamesItsUser() throws Exception {
        HttpResponse<String> alice = get("/api/slides/a/dzi", "Bearer " + token(claims()));
        assertThat(alice.statusCode()).as(alice.body()).isNotEqualTo(401).isNotEqualTo(403);
        assertThat(ApiAnswers.auditLines(audit))
                .anySatisfy(
                        l -> {
                            assertThat(l.path("user").asText()).isEqualTo("alice");
                            assertThat(l.path("slide_id").asText()).isEqualTo("a");
                        });
        assertThat(Files.readString(audit)).doesNotContain(token(claims()).substring(0, 40));
    }

    @Test
    void forgedExpiredOrMisdirectedTokensGet401() throws Exception {
        RSAKey other = new RSAKeyGenerator(2048).keyID("lab-key-1").generate();
        Map<String, String> refused =
                Map.of(
                        "signed by another key",
                        token(claims().build(), other),
                        "unsigned",
                        new PlainJWT(claims().build()).serialize(),
                        "HMAC with the public key",
                        hmacWithPublicKey(),
                        "another issuer",
                        token(claims().issuer("https://evil.example/realms/pathology")),
                        "another audience",
                        token(claims().audience("another-service")),
                        "expired",
                        token(claims().expirationTime(Date.from(Instant.now().minusSeconds(600)))),
                        "no expiry",
                        token(claims().expirationTime(null)),
                        "not a JWT",
                        "alice-secret-1");
        refused.forEach(
                (what, token) -> {
                    try {
                        ApiAnswers.assertError(
                                get("/api/models", "Bearer " + token), 401, "UNAUTHENTICATED");
                    } catch (Exception e) {
                        throw new AssertionError(what, e);
                    }
                });
        ApiAnswers.assertError(get("/api/models", null), 401, "UNAUTHENTICATED");
    }

    @Test
    void plainHttpGetsNoAnswerAndTheSessionCookieIsSecure() throws Exception {
        assertThatThrownBy(
                        () ->
                                HttpClient.newHttpClient()
                                        .send(
                                                HttpRequest.newBuilder(
                                                                URI.create(
                                                                        "http://localhost:"
                                                                                + server.port()
                                                                                + "/api/models"))
                                                        .timeout(Duration.ofSeconds(20))
                                                        .build(),
                                                HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(IOException.class);
        HttpResponse<String> session =
                https.send(
                        HttpRequest.newBuilder(uri("/api/session"))
                                .POST(HttpRequest.BodyPublishers.ofString(token(claims())))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(session.statusCode()).as(session.body()).isEqualTo(204);
        String cookie = session.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(cookie).contains("Secure").contains("HttpOnly");
    }

    @Test
    void aProviderThatCannotBeReachedGets503NotA401() throws Exception {
        try (SlideStreamServer unreachable =
                SlideStreamServer.start(
                        config(issuer, "http://127.0.0.1:1/realms/pathology/protocol/certs"),
                        "127.0.0.1",
                        0)) {
            HttpResponse<String> answer =
                    https.send(
                            HttpRequest.newBuilder(
                                            URI.create(
                                                    "https://localhost:"
                                                            + unreachable.port()
                                                            + "/api/models"))
                                    .header("Authorization", "Bearer " + token(claims()))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            ApiAnswers.assertError(answer, 503, "IDENTITY_PROVIDER_UNAVAILABLE");
        }
    }

    @Test
    void aWrongIssuerOrKeystoreStopsTheStartWithTheKeyToFix() throws Exception {
        assertThatThrownBy(
                        () -> SlideStreamServer.start(config(issuer + "x", null), "127.0.0.1", 0))
                .hasMessageContaining(ServeOptions.OIDC_ISSUER.key());
        Configuration conf = configuration(issuer, null);
        conf.set(ServeOptions.TLS_KEYSTORE_PASSWORD, "wrong");
        assertThatThrownBy(() -> SlideStreamServer.start(ServeConfig.from(conf), "127.0.0.1", 0))
                .hasMessageContaining(ServeOptions.TLS_KEYSTORE.key())
                .hasMessageNotContaining("wrong");
    }

    @Test
    void theDashboardTakesTheProvidersTokenAtItsPrompt() throws Exception {
        WebDriver browser = HeadlessChrome.start();
        try {
            browser.get("https://localhost:" + server.port() + "/");
            Alert prompt =
                    new WebDriverWait(browser, Duration.ofSeconds(30))
                            .until(ExpectedConditions.alertIsPresent());
            prompt.sendKeys(token(claims().claim("preferred_username", "bob")));
            prompt.accept();
            ApiAnswers.awaitAudited(audit, "bob", "/api/slides");
        } finally {
            browser.quit();
        }
    }

    private JWTClaimsSet.Builder claims() {
        return new JWTClaimsSet.Builder()
                .issuer(issuer)
                .audience(AUDIENCE)
                .subject("3f1c9a5e-user-id")
                .claim("preferred_username", "alice")
                .issueTime(new Date())
                .expirationTime(Date.from(Instant.now().plusSeconds(600)));
    }

    private String token(JWTClaimsSet.Builder claims) throws Exception {
        return token(claims.build(), key);
    }

    private static String token(JWTClaimsSet claims, RSAKey signer) throws Exception {
        SignedJWT jwt =
                new SignedJWT(
                        new JWSHeader.Builder(JWSAlgorithm.RS256)
                                .keyID(signer.getKeyID())
                                .type(JOSEObjectType.JWT)
                                .build(),
                        claims);
        jwt.sign(new RSASSASigner(signer));
        return jwt.serialize();
    }

    /** The classic forgery: HS256 with the provider's public key as the secret. */
    private String hmacWithPublicKey() throws Exception {
        SignedJWT jwt =
                new SignedJWT(
                        new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(key.getKeyID()).build(),
                        claims().build());
        jwt.sign(new MACSigner(key.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }

    private ServeConfig config(String issuer, String jwks) throws Exception {
        return ServeConfig.from(configuration(issuer, jwks));
    }

    private Configuration configuration(String issuer, String jwks) throws Exception {
        Configuration conf = new Configuration();
        conf.setString(
                "inference.model-path", TestSlides.gpfmTiny().resolve("gpfm-tiny.onnx").toString());
        conf.setString("milvus.uri", "http://127.0.0.1:1");
        Path iceberg = Files.createDirectories(dir.resolve("iceberg"));
        conf.setString("iceberg.uri", "jdbc:sqlite:" + iceberg.resolve("catalog.db"));
        conf.setString("iceberg.warehouse", iceberg.resolve("warehouse").toUri().toString());
        conf.set(ServeOptions.AUTH, ServeOptions.Auth.OIDC);
        conf.set(ServeOptions.OIDC_ISSUER, issuer);
        conf.set(ServeOptions.OIDC_AUDIENCE, AUDIENCE);
        if (jwks != null) {
            conf.set(ServeOptions.OIDC_JWKS_URI, jwks);
        }
        conf.set(ServeOptions.OIDC_USER_CLAIM, "preferred_username");
        conf.set(ServeOptions.TLS_KEYSTORE, keystore.toString());
        conf.set(ServeOptions.TLS_KEYSTORE_PASSWORD, PASSWORD);
        conf.set(ServeOptions.AUDIT_LOG, audit.toString());
        return conf;
    }

    private static void answer(com.sun.net.httpserver.HttpExchange exchange, String body)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    private URI uri(String path) {
        return URI.create("https://localhost:" + server.port() + path);
    }

    private HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).GET();
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return https.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
