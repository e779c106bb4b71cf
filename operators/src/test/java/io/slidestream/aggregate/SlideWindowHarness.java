package io.slidestream.aggregate;

import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.records.TileEmbedding;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.transformations.OneInputTransformation;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

/**
 * Builds the slide window operator exactly as {@link SlideWindows#aggregate} wires it (through the
 * DataStream API) and puts it in a keyed operator test harness.
 */
final class SlideWindowHarness {

    private SlideWindowHarness() {}

    /** A harness around a fresh slide window operator; call {@code open()} or restore first. */
    @SuppressWarnings("unchecked")
    static KeyedOneInputStreamOperatorTestHarness<String, TileEmbedding, SlideResult> create(
            AggregateConfig config, SlideHeadFactory head) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        DataStream<TileEmbedding> tiles =
                env.fromData(
                        TypeInformation.of(TileEmbedding.class),
                        TileEmbeddings.tile("unused", 0, 1, 2));
        OneInputTransformation<TileEmbedding, SlideResult> window =
                (OneInputTransformation<TileEmbedding, SlideResult>)
                        SlideWindows.aggregate(tiles, config, head).getTransformation();
        OneInputStreamOperator<TileEmbedding, SlideResult> operator = window.getOperator();
        return new KeyedOneInputStreamOperatorTestHarness<>(
                operator,
                (KeySelector<TileEmbedding, String>) window.getStateKeySelector(),
                Types.STRING);
    }

    /** An opened harness with processing time at {@code processingTime}. */
    static KeyedOneInputStreamOperatorTestHarness<String, TileEmbedding, SlideResult> open(
            AggregateConfig config, SlideHeadFactory head, long processingTime) throws Exception {
        KeyedOneInputStreamOperatorTestHarness<String, TileEmbedding, SlideResult> harness =
                create(config, head);
        harness.setProcessingTime(processingTime);
        harness.open();
        return harness;
    }

    static List<SlideFailed> failures(
            KeyedOneInputStreamOperatorTestHarness<String, TileEmbedding, SlideResult> harness) {
        return harness.getSideOutput(SlideAggregator.FAILED) == null
                ? List.of()
                : harness.getSideOutput(SlideAggregator.FAILED).stream()
                        .map(StreamRecord::getValue)
                        .collect(Collectors.toList());
    }
}
