package io.slidestream.aggregate;

import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.types.SlideStreamTypes;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.windowing.assigners.GlobalWindows;

/**
 * Wires the slide window into a job: {@code keyBy(slideId)} → {@link GlobalWindows} → {@link
 * SlideCompleteTrigger} → {@link SlideAggregator}, one {@link SlideResult} per slide, with the
 * slides that could not be aggregated on the side output {@link SlideAggregator#FAILED}:
 *
 * <pre>{@code
 * SingleOutputStreamOperator<SlideResult> results =
 *         SlideWindows.aggregate(tileEmbeddings, AggregateConfig.from(conf), head);
 * DataStream<SlideFailed> failed = SlideWindows.failures(results);
 * }</pre>
 *
 * <p>{@code tiles} carries the tiles with an embedding and, merged in, the {@linkplain
 * TileEmbedding#failed failed-tile markers} of tiles that could not be read or embedded, so that a
 * slide with failed tiles closes as soon as all its tiles are accounted for (see {@link
 * SlideCompleteTrigger} and {@link SlideAggregator}).
 *
 * <p>The operator's uid is {@link #UID}; its state (the tiles of open slides, the trigger's
 * counters and done markers) is restored from a savepoint only under that uid, so changing it, the
 * key, or the window/trigger type breaks savepoint compatibility.
 */
public final class SlideWindows {

    /** Stable uid of the slide window operator (savepoint compatibility: never change it). */
    public static final String UID = "slide-window";

    /** Readable operator name in the Flink UI and logs. */
    public static final String NAME = "Slide window: all tiles or timeout -> slide aggregate";

    private SlideWindows() {}

    /**
     * Aggregates {@code tiles} per slide.
     *
     * @param headFactory opens the ABMIL slide head in each task, or null to aggregate without a
     *     slide head (no prediction, no attention tiles)
     */
    public static SingleOutputStreamOperator<SlideResult> aggregate(
            DataStream<TileEmbedding> tiles, AggregateConfig config, SlideHeadFactory headFactory) {
        return aggregate(tiles.keyBy(new SlideIdKey(), Types.STRING), config, headFactory);
    }

    /** Aggregates {@code tiles}, already keyed by {@link SlideIdKey}. */
    public static SingleOutputStreamOperator<SlideResult> aggregate(
            KeyedStream<TileEmbedding, String> tiles,
            AggregateConfig config,
            SlideHeadFactory headFactory) {
        return tiles.window(GlobalWindows.create())
                .trigger(SlideCompleteTrigger.of(config))
                .process(new SlideAggregator(config, headFactory), SlideStreamTypes.SLIDE_RESULT)
                .uid(UID)
                .name(NAME);
    }

    /** The slides of {@code results} that could not be aggregated. */
    public static DataStream<SlideFailed> failures(
            SingleOutputStreamOperator<SlideResult> results) {
        return results.getSideOutput(SlideAggregator.FAILED);
    }

    /** Keys a tile by its slide id. */
    public static final class SlideIdKey implements KeySelector<TileEmbedding, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(TileEmbedding tile) {
            return tile.slideId;
        }
    }
}
