package io.slidestream.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The service's limits that need no server: concurrency, credentials, Deep Zoom arithmetic. */
class ServeLimitsTest {

    @Test
    void oneExpensiveRequestMoreThanAllowedIsRefusedAt429AndAFreedPermitServesAgain()
            throws Exception {
        int atOnce = ServeLimits.DEFAULTS.expensiveAtOnce();
        ExpensiveRequests expensive = new ExpensiveRequests(atOnce);
        CountDownLatch running = new CountDownLatch(atOnce);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(atOnce);
        try {
            Future<?>[] busy = new Future<?>[atOnce];
            for (int i = 0; i < busy.length; i++) {
                busy[i] =
                        pool.submit(
                                () ->
                                        expensive.run(
                                                () -> {
                                                    running.countDown();
                                                    await(release);
                                                }));
            }
            assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();

            assertThatThrownBy(() -> expensive.run(() -> "one too many"))
                    .isInstanceOfSatisfying(
                            ApiError.class,
                            e -> {
                                assertThat(e.status()).isEqualTo(429);
                                assertThat(e.code()).isEqualTo("TOO_MANY_REQUESTS");
                            });

            release.countDown();
            for (Future<?> f : busy) {
                f.get(10, TimeUnit.SECONDS);
            }
            assertThat(expensive.run(() -> "served")).isEqualTo("served");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void credentialsInAUriAreMaskedInMessages() {
        assertThat(
                        ServeStores.redacted(
                                "Milvus at http://admin:hunter2@127.0.0.1:1 does not answer:"
                                        + " UNAVAILABLE: io exception"))
                .isEqualTo(
                        "Milvus at http://***@127.0.0.1:1 does not answer: UNAVAILABLE: io"
                                + " exception")
                .doesNotContain("hunter2");
        assertThat(ServeStores.redacted("plain http://127.0.0.1:19530 down"))
                .isEqualTo("plain http://127.0.0.1:19530 down");
    }

    @Test
    void aStoreThatDoesNotAnswerIsA503SayingItsStatusNotItsStackOrPassword() {
        ApiError e =
                ServeStores.unavailable(
                        "Milvus at http://admin:hunter2@127.0.0.1:1",
                        new RuntimeException(
                                "wrapped",
                                new IllegalStateException(
                                        "DEADLINE_EXCEEDED: deadline exceeded after 4.98s."
                                                + " [closed=[], open=[[wait_for_ready]]]")));
        assertThat(e.status()).isEqualTo(503);
        assertThat(e.code()).isEqualTo("STORE_UNAVAILABLE");
        assertThat(e.getMessage())
                .isEqualTo(
                        "Milvus at http://***@127.0.0.1:1 does not answer (DEADLINE_EXCEEDED);"
                                + " try again shortly, the service log has the details");
        assertThat(ServeStores.status(new IllegalStateException("connection refused")))
                .isEqualTo("IllegalStateException");
    }

    @Test
    void answersNameNoServerPaths() {
        assertThat(
                        SlideStreamServer.withoutPaths(
                                "slide /tmp/junit-1/other/c.tiff lies outside the allowed slide"
                                        + " folders [/tmp/junit-1/slides]; move it"))
                .isEqualTo("slide <path> lies outside the allowed slide folders [<path>]; move it");
        assertThat(SlideStreamServer.withoutPaths("read file:/data/s1.svs failed"))
                .isEqualTo("read <path> failed");
        assertThat(SlideStreamServer.withoutPaths("Milvus at http://h:19530/db does not answer"))
                .isEqualTo("Milvus at http://h:19530/db does not answer");
    }

    @Test
    void deepZoomTilesFarOutsideTheSlideDoNotExistInsteadOfOverflowing() {
        DeepZoom zoom = new DeepZoom(100_000, 80_000);
        int top = zoom.maxLevel();
        assertThat(zoom.tile(top, 0, 0)).isNotNull();
        assertThat(zoom.tile(top, 999_999_999, 0)).isNull();
        assertThat(zoom.tile(top, Long.MAX_VALUE / 2, Long.MAX_VALUE / 2)).isNull();
        assertThat(zoom.tile(top, 100_000 / DeepZoom.TILE, 0)).isNotNull();
    }

    @Test
    void theWebServersOwnRefusalIsJsonAndDoesNotRepeatTheRequest() {
        String body =
                new String(
                        JsonErrorHandler.body(414, "URI Too Long " + "x".repeat(5000)),
                        StandardCharsets.UTF_8);
        assertThat(body).startsWith("{\"error\":{\"code\":\"REQUEST_TOO_LARGE\"");
        assertThat(body.length()).isLessThan(300);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void theLimitsAreKeysAndANonsenseValueIsRefusedNamingItsKey() {
        org.apache.flink.configuration.Configuration conf =
                new org.apache.flink.configuration.Configuration();
        conf.setString("serve.max-expensive-requests", "2");
        conf.setString("serve.max-upload-size", "1mb");
        conf.setString("serve.max-upload-pixels", "1048576");
        conf.setString("serve.max-read-pixels", "4194304");
        assertThat(ServeLimits.from(conf)).isEqualTo(new ServeLimits(2, 1 << 20, 1 << 20, 1 << 22));
        assertThat(ServeLimits.from(new org.apache.flink.configuration.Configuration()))
                .isEqualTo(ServeLimits.DEFAULTS)
                .isEqualTo(new ServeLimits(4, 20L << 20, 4096L * 4096L, 4096L * 4096L));

        conf.setString("serve.max-expensive-requests", "0");
        assertThatThrownBy(() -> ServeLimits.from(conf))
                .hasMessageContaining("serve.max-expensive-requests = '0'")
                .extracting(e -> ((io.slidestream.errors.SlideStreamException) e).code())
                .isEqualTo(io.slidestream.schemas.ErrorCode.INVALID_CONFIG);
    }
}
