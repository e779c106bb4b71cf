package io.slidestream.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SharedInferenceEnginesTest {

    @Test
    void sharesOneEngineBetweenSubtasksAndKeepsItLoadedForARestartUntilClosedIdle()
            throws Exception {
        InferenceConfig config =
                GpfmTinyFixture.config(5)
                        .set(InferenceOptions.CAPACITY, 8)
                        .set(InferenceOptions.QUEUE_CAPACITY, 16)
                        .build();
        int before = SharedInferenceEngines.loadedEngines();
        SharedInferenceEngines.Lease first = SharedInferenceEngines.acquire(config);
        SharedInferenceEngines.Lease second = SharedInferenceEngines.acquire(config);
        assertThat(second.engine()).isSameAs(first.engine());
        assertThat(SharedInferenceEngines.loadedEngines()).isEqualTo(before + 1);

        first.close();
        first.close(); // a second close of the same lease gives nothing back twice
        float[] tile = GpfmTinyFixture.preprocessed(GpfmTinyFixture.PREPROCESSED_03);
        assertThat(second.engine().submit(tile).get(60, TimeUnit.SECONDS).embedding).hasSize(256);

        second.close();
        assertThat(SharedInferenceEngines.leases()).isZero();
        assertThat(SharedInferenceEngines.reservedPlaces()).isZero();
        // A failover: the restarted subtask leases the loaded engine instead of loading the model.
        assertThat(SharedInferenceEngines.loadedEngines()).isEqualTo(before + 1);
        try (SharedInferenceEngines.Lease restarted = SharedInferenceEngines.acquire(config)) {
            assertThat(restarted.engine()).isSameAs(second.engine());
            assertThat(restarted.engine().submit(tile).get(60, TimeUnit.SECONDS).embedding)
                    .hasSize(256);
        }

        // The job left the TaskManager: idle engines close.
        assertThat(SharedInferenceEngines.closeIdle()).isEqualTo(1);
        assertThat(SharedInferenceEngines.loadedEngines()).isEqualTo(before);
        assertThat(second.engine().submit(tile)).isCompletedExceptionally();
    }

    @Test
    void neverClosesAnEngineThatIsLeased() {
        InferenceConfig config =
                GpfmTinyFixture.config(4).set(InferenceOptions.WARM_UP, false).build();
        try (SharedInferenceEngines.Lease lease = SharedInferenceEngines.acquire(config)) {
            assertThat(SharedInferenceEngines.closeIdle()).isZero();
            assertThat(lease.engine().batcher().accepting()).isTrue();
        }
        assertThat(SharedInferenceEngines.closeIdle()).isEqualTo(1);
    }

    @Test
    void refusesASubtaskWhoseCapacityNoLongerFitsTheQueue() {
        InferenceConfig config =
                GpfmTinyFixture.config(6)
                        .set(InferenceOptions.CAPACITY, 8)
                        .set(InferenceOptions.QUEUE_CAPACITY, 12)
                        .build();
        try (SharedInferenceEngines.Lease first = SharedInferenceEngines.acquire(config)) {
            assertThatThrownBy(() -> SharedInferenceEngines.acquire(config))
                    .isInstanceOfSatisfying(
                            SlideStreamException.class,
                            e -> {
                                assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
                                assertThat(e.getMessage())
                                        .contains(
                                                "inference.queue-capacity=12", "already reserve 8");
                            });
            assertThat(first.engine().batcher().queued()).isZero();
        } finally {
            SharedInferenceEngines.closeIdle();
        }
    }

    @Test
    void loadsSeparateEnginesForDifferentSettings() {
        InferenceConfig a = GpfmTinyFixture.config(2).set(InferenceOptions.WARM_UP, false).build();
        InferenceConfig b = GpfmTinyFixture.config(7).set(InferenceOptions.WARM_UP, false).build();
        try (SharedInferenceEngines.Lease la = SharedInferenceEngines.acquire(a);
                SharedInferenceEngines.Lease lb = SharedInferenceEngines.acquire(b)) {
            assertThat(la.engine()).isNotSameAs(lb.engine());
            assertThat(la.engine().modelId()).isEqualTo(lb.engine().modelId());
        } finally {
            SharedInferenceEngines.closeIdle();
        }
    }
}
