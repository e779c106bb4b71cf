package io.slidestream.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Batching, timeouts and failure isolation of the {@link MicroBatcher}. The runners here are
 * latch-controlled fakes: the timing and the failures they produce on demand are what the real
 * engine cannot be made to do deterministically. Parity through the batcher with the real model is
 * in {@link MicroBatcherParityTest}.
 */
class MicroBatcherTest {

    private static final Duration LONG = Duration.ofMinutes(1);

    /** Echoes input[0] and records batch sizes; blocks the first batch until released. */
    private static final class GatedRunner implements BatchRunner<Float> {
        final List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch firstBatchStarted = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public List<Float> run(List<TileTensor> inputs) throws InterruptedException {
            sizes.add(inputs.size());
            firstBatchStarted.countDown();
            release.await();
            List<Float> out = new ArrayList<>();
            for (TileTensor in : inputs) {
                out.add(in.floats()[0]);
            }
            return out;
        }
    }

    private static TileTensor tile(float v) {
        return TileTensor.of(new float[] {v});
    }

    @Test
    void formsBatchesUpToTheBatchSizeWhileTheModelIsBusy() throws Exception {
        GatedRunner runner = new GatedRunner();
        try (MicroBatcher<Float> batcher =
                new MicroBatcher<>("test", runner, 4, Duration.ofMillis(50), 100, LONG)) {
            List<CompletableFuture<Float>> futures = new ArrayList<>();
            futures.add(batcher.submit(tile(0)));
            assertThat(runner.firstBatchStarted.await(10, TimeUnit.SECONDS)).isTrue();
            // While batch 1 (one tile) runs, nine more queue up: they must form 4 + 4 + 1.
            for (int i = 1; i < 10; i++) {
                futures.add(batcher.submit(tile(i)));
            }
            runner.release.countDown();
            for (int i = 0; i < 10; i++) {
                assertThat(futures.get(i).get(10, TimeUnit.SECONDS)).isEqualTo((float) i);
            }
            assertThat(runner.sizes).containsExactly(1, 4, 4, 1);
            assertThat(batcher.batches()).isEqualTo(4);
        }
    }

    @Test
    void runsAPartialBatchWhenMaxWaitPasses() throws Exception {
        GatedRunner runner = new GatedRunner();
        runner.release.countDown();
        try (MicroBatcher<Float> batcher =
                new MicroBatcher<>("test", runner, 8, Duration.ofMillis(20), 100, LONG)) {
            CompletableFuture<Float> a = batcher.submit(tile(1));
            CompletableFuture<Float> b = batcher.submit(tile(2));
            assertThat(a.get(10, TimeUnit.SECONDS)).isEqualTo(1f);
            assertThat(b.get(10, TimeUnit.SECONDS)).isEqualTo(2f);
            assertThat(runner.sizes).allSatisfy(size -> assertThat(size).isLessThan(8));
        }
    }

    @Test
    void isolatesABadTileByRetryingTheFailedBatchInHalves() throws Exception {
        CountDownLatch queued = new CountDownLatch(1);
        List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        BatchRunner<Float> poisoned =
                inputs -> {
                    queued.await();
                    sizes.add(inputs.size());
                    for (TileTensor in : inputs) {
                        if (Float.isNaN(in.floats()[0])) {
                            throw new IllegalArgumentException("NaN tile");
                        }
                    }
                    List<Float> out = new ArrayList<>();
                    inputs.forEach(in -> out.add(in.floats()[0]));
                    return out;
                };
        try (MicroBatcher<Float> batcher =
                new MicroBatcher<>("test", poisoned, 8, Duration.ofMillis(200), 100, LONG)) {
            List<CompletableFuture<Float>> futures = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                futures.add(batcher.submit(tile(i == 5 ? Float.NaN : i)));
            }
            queued.countDown();
            for (int i = 0; i < 8; i++) {
                if (i == 5) {
                    CompletableFuture<Float> bad = futures.get(i);
                    assertThatThrownBy(() -> bad.get(10, TimeUnit.SECONDS))
                            .isInstanceOf(ExecutionException.class)
                            .cause()
                            .isInstanceOfSatisfying(
                                    SlideStreamException.class,
                                    e -> {
                                        assertThat(e.code()).isEqualTo(ErrorCode.INFERENCE_FAILED);
                                        assertThat(e.getCause())
                                                .isInstanceOf(IllegalArgumentException.class)
                                                .hasMessage("NaN tile");
                                    });
                } else {
                    assertThat(futures.get(i).get(10, TimeUnit.SECONDS)).isEqualTo((float) i);
                }
            }
            // Depth first: 8 fails -> 0..3 ok, 4..7 fails -> 4..5 fails -> 4 ok, 5 fails ->
            // the known-good probe runs fine (so tile 5 is to blame) -> 6..7 ok
            assertThat(sizes).containsExactly(8, 4, 4, 2, 1, 1, 1, 2);
            assertThat(batcher.failedRuns()).isEqualTo(4);
        }
    }

    @Test
    void blamesTheEngineNotTheTilesWhenAKnownGoodInputFailsToo() throws Exception {
        BatchRunner<Float> broken =
                inputs -> {
                    throw new IllegalStateException("CUDA error: device lost");
                };
        try (MicroBatcher<Float> batcher =
                new MicroBatcher<>("test", broken, 4, Duration.ofMillis(50), 100, LONG)) {
            List<CompletableFuture<Float>> futures = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                futures.add(batcher.submit(tile(i)));
            }
            for (CompletableFuture<Float> f : futures) {
                assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .cause()
                        .isInstanceOfSatisfying(
                                SlideStreamException.class,
                                e -> {
                                    assertThat(e.code()).isEqualTo(ErrorCode.ENGINE_FAILED);
                                    assertThat(e.getMessage()).contains("device lost");
                                });
            }
        }
    }

    @Test
    void failsACallThatDoesNotFinishWithinTheTimeout() throws Exception {
        GatedRunner runner = new GatedRunner();
        try (MicroBatcher<Float> batcher =
                new MicroBatcher<>("test", runner, 2, Duration.ZERO, 100, Duration.ofMillis(100))) {
            CompletableFuture<Float> stuck = batcher.submit(tile(1));
            assertThatThrownBy(() -> stuck.get(10, TimeUnit.SECONDS))
                    .cause()
                    .isInstanceOfSatisfying(
                            SlideStreamException.class,
                            e -> {
                                assertThat(e.code()).isEqualTo(ErrorCode.TIMEOUT);
                                assertThat(e.getMessage()).contains("inference.timeout=PT0.1S");
                            });
            runner.release.countDown();
        }
    }

    @Test
    void dropsTilesWhoseCallerGaveUpBeforeTheyReachABatch() throws Exception {
        GatedRunner runner = new GatedRunner();
        try (MicroBatcher<Float> batcher =
                new MicroBatcher<>("test", runner, 4, Duration.ZERO, 100, LONG)) {
            CompletableFuture<Float> first = batcher.submit(tile(0));
            assertThat(runner.firstBatchStarted.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Float> cancelled = batcher.submit(tile(1));
            CompletableFuture<Float> kept = batcher.submit(tile(2));
            cancelled.cancel(false);
            runner.release.countDown();
            assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(0f);
            assertThat(kept.get(10, TimeUnit.SECONDS)).isEqualTo(2f);
            assertThat(runner.sizes).containsExactly(1, 1);
        }
    }

    @Test
    void failsFastInsteadOfBlockingWhenTheQueueIsFull() throws Exception {
        GatedRunner runner = new GatedRunner();
        try (MicroBatcher<Float> batcher =
                new MicroBatcher<>("test", runner, 1, Duration.ZERO, 2, LONG)) {
            batcher.submit(tile(0));
            assertThat(runner.firstBatchStarted.await(10, TimeUnit.SECONDS)).isTrue();
            batcher.submit(tile(1));
            batcher.submit(tile(2));
            CompletableFuture<Float> rejected = batcher.submit(tile(3));
            assertThat(rejected).isCompletedExceptionally();
            assertThatThrownBy(rejected::join)
                    .cause()
                    .isInstanceOfSatisfying(
                            SlideStreamException.class,
                            e -> assertThat(e.getMessage()).contains("inference queue is full"));
            runner.release.countDown();
        }
    }

    @Test
    void failsQueuedTilesWhenClosed() throws Exception {
        GatedRunner runner = new GatedRunner();
        MicroBatcher<Float> batcher =
                new MicroBatcher<>("test", runner, 1, Duration.ZERO, 10, LONG);
        CompletableFuture<Float> running = batcher.submit(tile(0));
        assertThat(runner.firstBatchStarted.await(10, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Float> queued = batcher.submit(tile(1));
        CompletableFuture<Void> closing = CompletableFuture.runAsync(batcher::close);
        // Release the running batch only once close has begun, so the queued tile stays queued.
        Awaitility.await("close has begun")
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(1))
                .until(() -> !batcher.accepting());
        runner.release.countDown();
        closing.get(10, TimeUnit.SECONDS);
        assertThat(running.get()).isEqualTo(0f);
        assertThatThrownBy(queued::join)
                .cause()
                .isInstanceOfSatisfying(
                        SlideStreamException.class,
                        e -> assertThat(e.getMessage()).contains("was closed"));
        assertThat(batcher.submit(tile(2))).isCompletedExceptionally();
    }
}
