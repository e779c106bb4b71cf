package io.slidestream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.schemas.records.TileEmbeddingResult;
import io.slidestream.schemas.records.TileTask;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.apache.flink.types.PojoTestUtils;
import org.junit.jupiter.api.Test;

class TileEmbeddingRouterTest {

    @Test
    void sendsEmbeddingsOnAndFailuresToTheSideOutput() throws Exception {
        TileTask ok = task(0);
        TileTask bad = task(1);
        TileEmbedding embedding = TileEmbedding.of(ok, "m-1", new float[] {1f, 2f});
        try (OneInputStreamOperatorTestHarness<TileEmbeddingResult, TileEmbedding> harness =
                ProcessFunctionTestHarnesses.forProcessFunction(new TileEmbeddingRouter())) {
            harness.processElement(new StreamRecord<>(TileEmbeddingResult.success(ok, embedding)));
            harness.processElement(
                    new StreamRecord<>(
                            TileEmbeddingResult.failure(bad, ErrorCode.TIMEOUT, "too slow")));

            assertThat(harness.extractOutputValues()).containsExactly(embedding);
            assertThat(harness.getSideOutput(TileEmbeddingRouter.FAILED_TILES))
                    .extracting(StreamRecord::getValue)
                    .singleElement()
                    .satisfies(
                            r -> {
                                assertThat(r.task).isEqualTo(bad);
                                assertThat(r.errorCode).isEqualTo(ErrorCode.TIMEOUT);
                                assertThat(r.errorMessage).isEqualTo("too slow");
                            });
            // The failed tile also goes to the slide window as a marker, never on the main output.
            assertThat(harness.getSideOutput(TileEmbeddingRouter.FAILED_TILE_MARKERS))
                    .extracting(StreamRecord::getValue)
                    .singleElement()
                    .satisfies(
                            m -> {
                                assertThat(m.failed()).isTrue();
                                assertThat(m.failure).isEqualTo(ErrorCode.TIMEOUT);
                                assertThat(m.embedding).isNull();
                                assertThat(m.slideId).isEqualTo("slide-1");
                                assertThat(m.tileIndex).isEqualTo(1);
                                assertThat(m.tileCount).isEqualTo(4);
                            });
        }
    }

    @Test
    void sendsASkippedTileToTheWindowButNotToTheDeadLetter() throws Exception {
        TileTask first = task(0);
        TileTask skipped = task(1);
        try (OneInputStreamOperatorTestHarness<TileEmbeddingResult, TileEmbedding> harness =
                ProcessFunctionTestHarnesses.forProcessFunction(new TileEmbeddingRouter())) {
            harness.processElement(
                    new StreamRecord<>(
                            TileEmbeddingResult.readFailure(
                                    first, ErrorCode.CORRUPT_SLIDE, "bad tile")));
            harness.processElement(
                    new StreamRecord<>(
                            TileEmbeddingResult.skipped(skipped, ErrorCode.CORRUPT_SLIDE)));

            assertThat(harness.extractOutputValues()).isEmpty();
            assertThat(harness.getSideOutput(TileEmbeddingRouter.FAILED_TILES))
                    .extracting(r -> r.getValue().task.tileIndex + "@" + r.getValue().stage)
                    .containsExactly("0@read");
            assertThat(harness.getSideOutput(TileEmbeddingRouter.FAILED_TILE_MARKERS))
                    .extracting(r -> r.getValue().tileIndex + ":" + r.getValue().failure)
                    .containsExactly("0:CORRUPT_SLIDE", "1:CORRUPT_SLIDE");
        }
    }

    @Test
    void flinkTreatsTheTileEmbeddingWithItsFailureFieldAsAPojo() {
        PojoTestUtils.assertSerializedAsPojoWithoutKryo(TileEmbedding.class);
    }

    @Test
    void flinkTreatsTheResultRecordAsAPojo() {
        PojoTestUtils.assertSerializedAsPojoWithoutKryo(TileEmbeddingResult.class);
    }

    static TileTask task(int index) {
        TileTask t = new TileTask();
        t.slideId = "slide-1";
        t.x = 256L * index;
        t.y = 512;
        t.level = 0;
        t.readPx = 256;
        t.tilePx = 256;
        t.mpp = 0.5;
        t.tissue = 0.9f;
        t.tileIndex = index;
        t.tileCount = 4;
        return t;
    }
}
