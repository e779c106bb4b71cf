package io.slidestream.aggregate;

import io.slidestream.errors.SlideFailures;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.SlideHead;
import io.slidestream.runtime.JobClassLoaderCleanup;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.AttentionTile;
import io.slidestream.schemas.avro.ClassFraction;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.types.SlideStreamTypes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.GlobalWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the tiles of one slide, when its window fires, into one {@link SlideResult}: the mean
 * embedding, the ABMIL slide head's logits, probabilities (softmax), predicted class and its name
 * ({@code predicted_label}, from the head's card) with the head's id, the top-k tiles by attention,
 * and the tissue composition (share of tiles whose tile-head argmax is each class). {@code
 * completed_at} is the operator's processing time.
 *
 * <p><b>Failed tiles.</b> The window also receives {@linkplain TileEmbedding#failed failed-tile
 * markers} for tiles that could not be read or embedded; the trigger counts them as arrived, so a
 * slide with failed tiles closes as soon as every tile is accounted for. When it fires, markers are
 * left out of the aggregate: {@code complete} is false whenever fewer than {@code tile_count} tiles
 * have an embedding (the timeout or the end of input came first, or some tiles failed) and {@code
 * tiles_received} counts only the tiles with an embedding. A slide whose every arrived tile is a
 * marker gets no result and no dead-letter record of its own: the stage that failed already sent
 * its {@code SlideFailed}, and a result without a single embedding would say nothing.
 *
 * <p><b>State:</b> none of its own. The window operator keeps the tiles in a {@code ListState} (one
 * append per tile, cheap in RocksDB; an {@code AggregateFunction} accumulator would be rewritten
 * whole on every tile, O(n^2) for a 60 MB slide). This function reads the list once when the slide
 * fires, drops copies of a tile by {@code tileIndex}, orders the tiles by plan index (so a replay
 * gives the same result) and only then builds one {@code float[n * D]} for the head.
 *
 * <p><b>Slide head:</b> optional, opened from its {@link SlideHeadFactory} in {@code open()} and
 * closed in {@code close()}. Without one, logits and probabilities are empty, the predicted class
 * is -1 and no top tiles are listed. Without tile-head output on the tiles the composition is
 * empty.
 *
 * <p><b>Failures</b> of one slide - tiles from mixed models or plans, a head that rejects the bag
 * or returns the wrong shape, tile-head classes that do not match the configured labels, or any
 * unexpected exception ({@code INTERNAL}) - do not fail the job: the slide goes to the {@link
 * #FAILED} side output as a {@link SlideFailed} with stage {@value #STAGE}, and no result is
 * emitted for it. Failing the job would not help, since after the restart the same tiles would fire
 * the same window again. A failure to open the head fails the task at start.
 */
public class SlideAggregator
        extends ProcessWindowFunction<TileEmbedding, SlideResult, String, GlobalWindow> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(SlideAggregator.class);

    /** The stage named in the {@link SlideFailed} records of this operator. */
    public static final String STAGE = "aggregate";

    /** Each result with its bag, for the live heads ({@code aggregate.live-heads}). */
    public static final OutputTag<SlideBagRecord> BAGS =
            new OutputTag<>("slide-bags", SlideBagRecord.TYPE);

    /** Slides that could not be aggregated. */
    public static final OutputTag<SlideFailed> FAILED =
            new OutputTag<>("slide-aggregate-failed", SlideStreamTypes.SLIDE_FAILED);

    private final int topK;
    private final List<String> tissueClasses;
    private final Duration slideTimeout;
    private final Duration slideMaxDuration;
    private final SlideHeadFactory headFactory;
    private final boolean emitBags;

    private transient SlideHead head;

    /**
     * @param config top-k and tissue-class labels
     * @param headFactory opens the ABMIL slide head, or null to aggregate without one
     */
    public SlideAggregator(AggregateConfig config, SlideHeadFactory headFactory) {
        this.topK = config.topK();
        this.tissueClasses = config.tissueClasses();
        this.slideTimeout = config.slideTimeout();
        this.slideMaxDuration = config.slideMaxDuration();
        this.headFactory = headFactory;
        this.emitBags = config.liveHeads();
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        JobClassLoaderCleanup.register(getRuntimeContext());
        if (headFactory != null) {
            head = headFactory.open();
        }
    }

    @Override
    public void close() throws Exception {
        if (head != null) {
            head.close();
            head = null;
        }
    }

    @Override
    public void process(
            String slideId,
            Context context,
            Iterable<TileEmbedding> contents,
            Collector<SlideResult> out) {
        long now = context.currentProcessingTime();
        SlideResult result;
        ValueState<String> closeReason =
                context.windowState().getState(SlideCompleteTrigger.CLOSE_REASON);
        String reason;
        try {
            reason = closeReason.value();
            closeReason.clear();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            SlideBag bag = SlideBag.assemble(slideId, contents);
            if (bag == null) {
                LOG.info(
                        "Slide {}: every tile failed to be read or embedded; no result (its failure"
                                + " is in the dead letter)",
                        slideId);
                return;
            }
            result = aggregate(bag, now, reason);
            if (emitBags) {
                context.output(BAGS, bagRecord(bag, result));
            }
        } catch (SlideStreamException e) {
            LOG.warn("Slide {} could not be aggregated: {}", slideId, e.describe());
            context.output(FAILED, failure(slideId, firstUri(contents), e, now));
            return;
        } catch (RuntimeException e) {
            // Failing the job would not help: after the restart the same tiles fire the same
            // window again. One slide goes to the dead letter instead.
            LOG.error("Slide {} could not be aggregated", slideId, e);
            SlideStreamException internal =
                    new SlideStreamException(
                            ErrorCode.INTERNAL,
                            String.format(
                                    "Unexpected failure while aggregating slide %s: %s. Report"
                                            + " it with the task manager log.",
                                    slideId, e),
                            e);
            context.output(FAILED, failure(slideId, firstUri(contents), internal, now));
            return;
        }
        out.collect(result);
    }

    /** The slide result of {@code bag}, completed at {@code completedAtMillis}. */
    SlideResult aggregate(SlideBag bag, long completedAtMillis) {
        return aggregate(bag, completedAtMillis, null);
    }

    /**
     * The slide result of {@code bag}, completed at {@code completedAtMillis}; {@code closeReason}
     * is the trigger's {@link SlideCompleteTrigger.CloseReason} when it fired early, else null.
     */
    SlideResult aggregate(SlideBag bag, long completedAtMillis, String closeReason) {
        int n = bag.size();
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) {
            rows[i] = bag.tiles[i].embedding;
        }
        float[] mean = SlideStatistics.mean(rows, bag.dimension);

        float[] logits = new float[0];
        float[] probabilities = new float[0];
        int predicted = -1;
        String headId = "";
        String label = "";
        List<AttentionTile> topTiles = new ArrayList<>();
        List<Float> tileAttention = new ArrayList<>();
        if (head != null) {
            SlideHead.Output output = runHead(bag);
            logits = output.logits;
            probabilities = SlideStatistics.softmax(logits);
            predicted = SlideStatistics.argmax(logits);
            headId = head.headId();
            List<String> names = head.classNames();
            label = predicted < names.size() ? names.get(predicted) : "class " + predicted;
            for (int i : SlideStatistics.topK(output.attention, topK)) {
                topTiles.add(
                        new AttentionTile(bag.tiles[i].x, bag.tiles[i].y, output.attention[i]));
            }
            float[] byIndex = new float[bag.tileCount];
            for (int i = 0; i < n; i++) {
                int index = bag.tiles[i].tileIndex;
                if (index >= 0 && index < byIndex.length) {
                    byIndex[index] = output.attention[i];
                }
            }
            tileAttention = boxed(byIndex);
        }

        String incompleteReason = bag.complete() ? "" : incompleteReason(bag, closeReason);
        if (!bag.complete()) {
            LOG.warn("Slide {} is incomplete: {}", bag.slideId, incompleteReason);
        }
        return SlideResult.newBuilder()
                .setSlideId(bag.slideId)
                .setUri(bag.uri == null ? "" : bag.uri)
                .setModelId(bag.modelId == null ? "" : bag.modelId)
                .setComplete(bag.complete())
                .setTileCount(bag.tileCount)
                .setTilesReceived(n)
                .setLevel(bag.level)
                .setTilePx(bag.tilePx)
                .setMpp(bag.mpp)
                .setScannedAt(Instant.ofEpochMilli(bag.scannedAtMillis))
                .setCompletedAt(Instant.ofEpochMilli(completedAtMillis))
                .setLogits(boxed(logits))
                .setProbabilities(boxed(probabilities))
                .setPredictedClass(predicted)
                .setMeanEmbedding(boxed(mean))
                .setTissueComposition(composition(bag))
                .setTopTiles(topTiles)
                .setTileAttention(tileAttention)
                .setIncompleteReason(incompleteReason)
                .setHeadId(headId)
                .setPredictedLabel(label)
                .build();
    }

    private static SlideBagRecord bagRecord(SlideBag bag, SlideResult result) {
        SlideBagRecord r = new SlideBagRecord();
        r.result = result;
        r.embeddings = bag.embeddings();
        r.dimension = bag.dimension;
        int n = bag.size();
        r.coords = new long[2 * n];
        r.tileIndices = new int[n];
        for (int i = 0; i < n; i++) {
            r.coords[2 * i] = bag.tiles[i].x;
            r.coords[2 * i + 1] = bag.tiles[i].y;
            r.tileIndices[i] = bag.tiles[i].tileIndex;
        }
        return r;
    }

    private SlideHead.Output runHead(SlideBag bag) {
        if (head.dimension() != bag.dimension) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    String.format(
                            "The slide head expects embeddings of %d values but the tiles of slide"
                                    + " %s (model %s) have %d: configure a slide head trained on"
                                    + " this tile model.",
                            head.dimension(), bag.slideId, bag.modelId, bag.dimension));
        }
        SlideHead.Output output;
        try {
            output = head.predict(bag.embeddings(), bag.size());
        } catch (SlideStreamException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new SlideStreamException(
                    ErrorCode.INFERENCE_FAILED,
                    String.format(
                            "The slide head failed on slide %s (%d tiles): %s",
                            bag.slideId, bag.size(), e),
                    e);
        }
        if (output == null
                || output.logits == null
                || output.logits.length == 0
                || output.attention == null
                || output.attention.length != bag.size()) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    String.format(
                            "The slide head returned %s logits and %s attention weights for slide"
                                    + " %s; expected at least one logit and one weight per tile"
                                    + " (%d). Check that the model is an ABMIL head.",
                            output == null || output.logits == null ? "no" : output.logits.length,
                            output == null || output.attention == null
                                    ? "no"
                                    : output.attention.length,
                            bag.slideId,
                            bag.size()));
        }
        return output;
    }

    private List<ClassFraction> composition(SlideBag bag) {
        int[] classes = bag.tileClasses();
        List<ClassFraction> composition = new ArrayList<>();
        if (classes == null) {
            return composition;
        }
        if (!tissueClasses.isEmpty() && tissueClasses.size() != bag.headClasses) {
            throw new SlideStreamException(
                    ErrorCode.MODEL_INVALID,
                    String.format(
                            "The tile head gives %d classes for slide %s but %s names %d (%s): set"
                                    + " one label per tile-head class, in output order.",
                            bag.headClasses,
                            bag.slideId,
                            AggregateOptions.TISSUE_CLASSES.key(),
                            tissueClasses.size(),
                            String.join(";", tissueClasses)));
        }
        float[] shares = SlideStatistics.shares(classes, bag.headClasses);
        for (int c = 0; c < shares.length; c++) {
            String label = tissueClasses.isEmpty() ? "class_" + c : tissueClasses.get(c);
            composition.add(new ClassFraction(label, shares[c]));
        }
        return composition;
    }

    private static SlideFailed failure(
            String slideId, String uri, SlideStreamException e, long failedAtMillis) {
        return SlideFailures.of(slideId, uri, e.code(), e.getMessage(), STAGE, failedAtMillis);
    }

    private static String firstUri(Iterable<TileEmbedding> contents) {
        for (TileEmbedding tile : contents) {
            return tile.uri;
        }
        return null;
    }

    /** A partial result's {@code incomplete_reason}: its code, a colon, what happened. */
    private String incompleteReason(SlideBag bag, String closeReason) {
        int embedded = bag.size();
        String counts = String.format(" (%d of %d tiles embedded)", embedded, bag.tileCount);
        if (closeReason == null) {
            return String.format(
                    "TILES_FAILED: %d of %d tiles could not be read or embedded (see slide_errors)",
                    bag.tileCount - embedded, bag.tileCount);
        }
        switch (SlideCompleteTrigger.CloseReason.valueOf(closeReason)) {
            case STALLED:
                return "STALLED: no new tile for "
                        + slideTimeout
                        + " ("
                        + AggregateOptions.SLIDE_TIMEOUT.key()
                        + ")"
                        + counts;
            case MAX_DURATION:
                return "MAX_DURATION: open for "
                        + slideMaxDuration
                        + " since its first tile ("
                        + AggregateOptions.SLIDE_MAX_DURATION.key()
                        + ")"
                        + counts;
            default:
                return "END_OF_INPUT: the input ended before every tile arrived" + counts;
        }
    }

    static List<Float> boxed(float[] values) {
        List<Float> list = new ArrayList<>(values.length);
        for (float v : values) {
            list.add(v);
        }
        return list;
    }
}
