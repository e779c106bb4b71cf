package io.slidestream.preprocess;

import io.slidestream.errors.SlideFailures;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.inference.SharedInferenceEngines;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.records.PreprocessedTile;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.schemas.records.TileTask;
import io.slidestream.slide.OpenSlide;
import io.slidestream.slide.SlideOpener;
import io.slidestream.types.SlideStreamTypes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads each tile task's region from its slide and turns it into the model's input tensor (PIL
 * bicubic resize to the model's input size, ImageNet normalisation, CHW float32). Chained with the
 * asynchronous embed operator, so the pixels never cross the network.
 *
 * <p>State: none in Flink state. Each subtask keeps a small LRU of open slide handles (tiles of one
 * slide arrive close together; a handle is shared by all reads of the subtask) and the set of
 * slides whose reads already failed, so a corrupt slide gives one {@code SlideFailed} (stage {@code
 * read}) on the {@link #FAILED} side output instead of one per tile, and its remaining tiles are
 * skipped.
 *
 * <p><b>Failed-tile markers.</b> For the tile whose read failed and for every tile of that slide it
 * skips afterwards, the reader emits a {@linkplain TileEmbedding#failed failed-tile marker} (the
 * failure's error code) on the {@link #FAILED_TILE_MARKERS} side output. The job routes these
 * straight to the slide window, which counts them as accounted for: once every tile of the slide is
 * either embedded or marked failed, the window closes at once instead of waiting for its timeout,
 * and a slide none of whose tiles was read gets no result (its failure is already in the dead
 * letter). Since tile tasks are spread over all subtasks, each subtask remembers failed slides on
 * its own: a subtask that has not seen the failure yet tries the read itself (and, if it fails too,
 * adds a dead-letter record of its own), so every task yields exactly one tile or one marker either
 * way. The remembered set is bounded; a slide that fell out of it is simply read (and fails) again.
 */
public class TileReader extends ProcessFunction<TileTask, PreprocessedTile> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(TileReader.class);

    public static final String UID = "read-tiles";
    public static final String NAME = "Read + preprocess tiles";

    public static final OutputTag<SlideFailed> FAILED =
            new OutputTag<>("tile-read-failed", SlideStreamTypes.SLIDE_FAILED);

    /** One failed-tile marker per tile that was not read because its slide failed. */
    public static final OutputTag<TileEmbedding> FAILED_TILE_MARKERS =
            new OutputTag<>("tile-read-failed-markers", TypeInformation.of(TileEmbedding.class));

    /**
     * Open handles per subtask: enough for the slides in flight, bounded for OpenSlide's caches.
     */
    static final int MAX_OPEN_SLIDES = 4;

    private static final int MAX_REMEMBERED_FAILURES = 1024;

    private final InferenceConfig inference;
    private final List<String> allowedRoots;

    private transient SlideOpener opener;
    private transient TilePreprocessor preprocessor;
    private transient int[] rgb;
    private transient LinkedHashMap<String, OpenSlide> slides;

    /** Slide id to the error code of its failed read. */
    private transient LinkedHashMap<String, ErrorCode> failedSlides;

    private transient Counter tilesRead;
    private transient SharedInferenceEngines.Lease lease;

    /**
     * @param inference the model's configuration: the reader takes the model's input size from the
     *     TaskManager's shared engine, so tensors always fit the model
     * @param allowedRoots folders slides may be opened from; empty allows any path
     */
    public TileReader(InferenceConfig inference, List<String> allowedRoots) {
        this.inference = inference;
        this.allowedRoots = new ArrayList<>(allowedRoots);
    }

    @Override
    public void open(OpenContext context) {
        SlideOpener.Builder b = SlideOpener.builder();
        if (allowedRoots.isEmpty()) {
            b.allowAnyPath();
        } else {
            allowedRoots.forEach(root -> b.allowedRoot(Path.of(root)));
        }
        opener = b.build();
        // Held for the operator's life (reserving no queue places): the embedder chained after this
        // reader shares the engine, which would otherwise be loaded twice.
        lease = SharedInferenceEngines.acquire(inference, 0);
        int tileValues = lease.engine().tileValues();
        preprocessor = new TilePreprocessor((int) Math.round(Math.sqrt(tileValues / 3.0)));
        slides = new LinkedHashMap<>(16, 0.75f, true);
        failedSlides =
                new LinkedHashMap<>(16, 0.75f, true) {
                    private static final long serialVersionUID = 1L;

                    @Override
                    protected boolean removeEldestEntry(Map.Entry<String, ErrorCode> eldest) {
                        return size() > MAX_REMEMBERED_FAILURES;
                    }
                };
        tilesRead = getRuntimeContext().getMetricGroup().counter("tilesRead");
    }

    @Override
    public void processElement(TileTask task, Context ctx, Collector<PreprocessedTile> out) {
        ErrorCode failed = failedSlides.get(task.slideId);
        if (failed != null) {
            ctx.output(FAILED_TILE_MARKERS, TileEmbedding.failed(task, failed));
            return;
        }
        float[] chw;
        try {
            OpenSlide slide = handle(task.uri);
            int pixels = task.readPx * task.readPx;
            if (rgb == null || rgb.length < pixels) {
                rgb = new int[pixels];
            }
            slide.readRegion(rgb, task.x, task.y, task.level, task.readPx, task.readPx);
            chw = preprocessor.preprocess(rgb, task.readPx, task.readPx);
        } catch (RuntimeException e) {
            ErrorCode code =
                    e instanceof SlideStreamException
                            ? ((SlideStreamException) e).code()
                            : ErrorCode.INTERNAL;
            failedSlides.put(task.slideId, code);
            closeHandle(task.uri);
            LOG.warn(
                    "Slide {}: reading tile {} at ({}, {}) failed, skipping its other tiles: {}",
                    task.slideId,
                    task.tileIndex,
                    task.x,
                    task.y,
                    e.getMessage());
            ctx.output(
                    FAILED,
                    SlideFailures.of(
                            task.slideId,
                            task.uri,
                            e,
                            SlideFailures.STAGE_READ,
                            ctx.timerService().currentProcessingTime()));
            ctx.output(FAILED_TILE_MARKERS, TileEmbedding.failed(task, code));
            return;
        }
        tilesRead.inc();
        out.collect(new PreprocessedTile(task, chw));
    }

    private OpenSlide handle(String uri) {
        OpenSlide slide = slides.get(uri);
        if (slide == null) {
            slide = opener.open(uri);
            slides.put(uri, slide);
            if (slides.size() > MAX_OPEN_SLIDES) {
                Iterator<Map.Entry<String, OpenSlide>> eldest = slides.entrySet().iterator();
                eldest.next().getValue().close();
                eldest.remove();
            }
        }
        return slide;
    }

    private void closeHandle(String uri) {
        OpenSlide slide = slides.remove(uri);
        if (slide != null) {
            slide.close();
        }
    }

    @Override
    public void close() {
        if (slides != null) {
            slides.values().forEach(OpenSlide::close);
            slides.clear();
        }
        if (lease != null) {
            lease.close();
        }
    }
}
