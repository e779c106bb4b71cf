package io.slidestream.serve;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.ConfigurableJWTProcessor;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.slidestream.config.ServeOptions;
import io.slidestream.errors.InvalidConfig;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.text.ParseException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bearer JWTs of an OpenID Connect provider ({@code serve.auth=oidc}), checked with Nimbus
 * JOSE+JWT: the signature against the issuer's published keys (asymmetric algorithms only, so a
 * token signed with "none" or with the public key as an HMAC secret is refused), the issuer, the
 * audience, and expiry and not-before with a minute of clock skew. The keys come from {@code
 * serve.oidc.jwks-uri} or the issuer's discovery document, are cached, and are fetched again when a
 * token names a key not seen yet, so the provider can rotate them. A provider that cannot be
 * reached answers 503, never 401: the token may well be good.
 */
final class OidcTokens implements Credentials {
    private static final Logger LOG = LoggerFactory.getLogger(OidcTokens.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final ConfigurableJWTProcessor<SecurityContext> processor;
    private final String userClaim;

    /** Whether the provider's keys could not be read last time: its outage is logged once. */
    private final AtomicBoolean providerDown = new AtomicBoolean();

    OidcTokens(ServeAccess.Oidc oidc) {
        if (oidc == null || blank(oidc.issuer()) || blank(oidc.audience())) {
            throw InvalidConfig.because(
                    "serve.auth=oidc needs "
                            + ServeOptions.OIDC_ISSUER.key()
                            + " (the provider's issuer URL) and "
                            + ServeOptions.OIDC_AUDIENCE.key()
                            + " (the client id its tokens are issued for)");
        }
        URL keys = blank(oidc.jwksUri()) ? discover(oidc.issuer()) : url(oidc.jwksUri());
        int timeout = (int) TIMEOUT.toMillis();
        JWKSource<SecurityContext> source =
                JWKSourceBuilder.create(
                                keys,
                                new com.nimbusds.jose.util.DefaultResourceRetriever(
                                        timeout, timeout, 1 << 20))
                        .retrying(true)
                        .build();
        processor = new DefaultJWTProcessor<>();
        processor.setJWSTypeVerifier(
                new DefaultJOSEObjectTypeVerifier<>(
                        JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null));
        processor.setJWSKeySelector(
                new JWSVerificationKeySelector<>(
                        Set.of(
                                JWSAlgorithm.RS256,
                                JWSAlgorithm.RS384,
                                JWSAlgorithm.RS512,
                                JWSAlgorithm.PS256,
                                JWSAlgorithm.PS384,
                                JWSAlgorithm.PS512,
                                JWSAlgorithm.ES256,
                                JWSAlgorithm.ES384,
                                JWSAlgorithm.ES512,
                                JWSAlgorithm.EdDSA),
                        source));
        processor.setJWTClaimsSetVerifier(
                new DefaultJWTClaimsVerifier<>(
                        oidc.audience(),
                        new JWTClaimsSet.Builder().issuer(oidc.issuer()).build(),
                        Set.of("sub", "exp")));
        this.userClaim = oidc.userClaim();
        LOG.info(
                "OpenID Connect tokens of {} for audience {}, keys at {}",
                oidc.issuer(),
                oidc.audience(),
                keys);
    }

    @Override
    public String user(String token) {
        JWTClaimsSet claims;
        try {
            claims = processor.process(token, null);
        } catch (ParseException | BadJOSEException e) {
            LOG.debug("Refused a bearer token: {}", e.getMessage());
            return null;
        } catch (JOSEException e) {
            if (providerDown.compareAndSet(false, true)) {
                LOG.warn(
                        "Could not check a bearer token against the provider's keys; requests"
                                + " with tokens are answered 503 until they can be read again",
                        e);
            } else {
                LOG.debug("The provider's keys still cannot be read: {}", e.toString());
            }
            throw new ApiError(
                    503,
                    "IDENTITY_PROVIDER_UNAVAILABLE",
                    "The identity provider's keys could not be read, so the token cannot be"
                            + " checked now; try again shortly");
        }
        if (providerDown.compareAndSet(true, false)) {
            LOG.info("The identity provider's keys can be read again");
        }
        Object user = userClaim == null ? null : claims.getClaim(userClaim);
        return user instanceof String name && !name.isBlank() ? name : claims.getSubject();
    }

    @Override
    public String expected() {
        return "a token of the OpenID Connect provider "
                + ServeOptions.OIDC_ISSUER.key()
                + " for "
                + ServeOptions.OIDC_AUDIENCE.key();
    }

    /** The {@code jwks_uri} of the issuer's discovery document, which must name that issuer. */
    private static URL discover(String issuer) {
        URI document =
                URI.create(
                        (issuer.endsWith("/") ? issuer : issuer + "/")
                                + ".well-known/openid-configuration");
        try {
            HttpResponse<String> answer =
                    HttpClient.newBuilder()
                            .connectTimeout(TIMEOUT)
                            .build()
                            .send(
                                    HttpRequest.newBuilder(document).timeout(TIMEOUT).GET().build(),
                                    HttpResponse.BodyHandlers.ofString());
            if (answer.statusCode() != 200) {
                throw new IOException("HTTP " + answer.statusCode());
            }
            Map<String, Object> metadata = JSONObjectUtils.parse(answer.body());
            if (!issuer.equals(metadata.get("issuer"))) {
                throw InvalidConfig.because(
                        document
                                + " names the issuer "
                                + metadata.get("issuer")
                                + ", not "
                                + issuer
                                + ": set "
                                + ServeOptions.OIDC_ISSUER.key()
                                + " to the provider's issuer exactly");
            }
            Object keys = metadata.get("jwks_uri");
            if (!(keys instanceof String uri)) {
                throw new IOException("no jwks_uri in it");
            }
            return url(uri);
        } catch (IOException | ParseException e) {
            throw InvalidConfig.because(
                    "Could not read the OpenID Connect discovery document "
                            + document
                            + " ("
                            + e.getMessage()
                            + "): check "
                            + ServeOptions.OIDC_ISSUER.key()
                            + ", or set "
                            + ServeOptions.OIDC_JWKS_URI.key());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw InvalidConfig.because("Interrupted while reading " + document);
        }
    }

    private static URL url(String uri) {
        try {
            return URI.create(uri).toURL();
        } catch (IllegalArgumentException | MalformedURLException e) {
            throw InvalidConfig.because(ServeOptions.OIDC_JWKS_URI.key() + " is not a URL: " + uri);
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
