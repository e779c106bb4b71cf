package io.slidestream.aggregate;

import io.slidestream.inference.InferenceConfig;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.inference.OnnxSlideHead;
import io.slidestream.inference.SlideHead;
import io.slidestream.schemas.avro.AttentionTile;
import io.slidestream.schemas.avro.SlideResult;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.co.BroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The slide heads a lab deployed into the running job ({@link HeadAnnouncement}s of {@code
 * kafka.topic.heads}, broadcast to every instance): for each slide the window completed, every live
 * head of the slide's model predicts from the slide's bag and adds one {@link SlideResult} beside
 * the job's own (its {@code head_id}, logits, probabilities, class, {@code predicted_label}, top
 * tiles and attention; the rest as the job's result). The set of live heads is broadcast state: it
 * is checkpointed, so a failover or a savepoint restore keeps it even though the announcements are
 * not read again.
 *
 * <p>Heads are opened from their path on first use in each instance and checked against the
 * announcement (the card's head id must be the announced one). A head that cannot be opened, or
 * that fails on a slide, is logged and skipped for that slide; it never stops the job or the other
 * heads' predictions. A malformed announcement is logged and ignored.
 */
public class LiveHeads extends BroadcastProcessFunction<SlideBagRecord, String, SlideResult> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(LiveHeads.class);

    public static final String UID = "live-heads";
    public static final String NAME = "Live slide heads (kafka.topic.heads)";

    /** The live heads by head id: the job's broadcast state. */
    public static final MapStateDescriptor<String, HeadAnnouncement> STATE =
            new MapStateDescriptor<>(
                    "live-heads", Types.STRING, TypeInformation.of(HeadAnnouncement.class));

    private final int topK;
    private final InferenceConfig inference;
    private transient Map<String, OnnxSlideHead> opened;
    private transient Map<String, String> unusable;

    public LiveHeads(AggregateConfig config, InferenceConfig inference) {
        this.topK = config.topK();
        this.inference = inference;
    }

    @Override
    public void processBroadcastElement(String json, Context ctx, Collector<SlideResult> out)
            throws Exception {
        HeadAnnouncement a;
        try {
            a = HeadAnnouncement.parse(json);
        } catch (IllegalArgumentException e) {
            LOG.warn("Ignoring a malformed head announcement ({}): {}", e.getMessage(), json);
            return;
        }
        BroadcastState<String, HeadAnnouncement> live = ctx.getBroadcastState(STATE);
        if (a.retired) {
            live.remove(a.headId);
            LOG.info("Slide head {} retired: later slides get no prediction of it", a.headId);
        } else {
            live.put(a.headId, a);
            LOG.info("Slide head {} live for model {} from {}", a.headId, a.modelId, a.path);
        }
        forget(a.headId);
    }

    @Override
    public void processElement(SlideBagRecord bag, ReadOnlyContext ctx, Collector<SlideResult> out)
            throws Exception {
        SlideResult base = bag.result;
        for (Map.Entry<String, HeadAnnouncement> e :
                ctx.getBroadcastState(STATE).immutableEntries()) {
            HeadAnnouncement a = e.getValue();
            if (!a.modelId.equals(base.getModelId())
                    || a.dimension != bag.dimension
                    || a.headId.equals(base.getHeadId())) {
                continue;
            }
            OnnxSlideHead head = open(a);
            if (head == null) {
                continue;
            }
            try {
                out.collect(predict(head, a, bag));
            } catch (RuntimeException ex) {
                LOG.warn(
                        "Slide head {} failed on slide {}; no prediction of it for this slide: {}",
                        a.headId,
                        base.getSlideId(),
                        ex.toString());
            }
        }
    }

    private SlideResult predict(OnnxSlideHead head, HeadAnnouncement a, SlideBagRecord bag) {
        SlideHead.Output o = head.predict(bag.embeddings, bag.tiles());
        float[] probabilities = SlideStatistics.softmax(o.logits);
        int predicted = SlideStatistics.argmax(o.logits);
        List<AttentionTile> top = new ArrayList<>();
        for (int i : SlideStatistics.topK(o.attention, topK)) {
            top.add(new AttentionTile(bag.coords[2 * i], bag.coords[2 * i + 1], o.attention[i]));
        }
        float[] byIndex = new float[bag.result.getTileCount()];
        for (int i = 0; i < bag.tiles(); i++) {
            int index = bag.tileIndices[i];
            if (index >= 0 && index < byIndex.length) {
                byIndex[index] = o.attention[i];
            }
        }
        List<String> names = head.classNames();
        return SlideResult.newBuilder(bag.result)
                .setHeadId(a.headId)
                .setPredictedClass(predicted)
                .setPredictedLabel(
                        predicted < names.size() ? names.get(predicted) : "class " + predicted)
                .setLogits(SlideAggregator.boxed(o.logits))
                .setProbabilities(SlideAggregator.boxed(probabilities))
                .setTopTiles(top)
                .setTileAttention(SlideAggregator.boxed(byIndex))
                .setCompletedAt(Instant.now())
                .build();
    }

    /** The head of {@code a}, opened once per instance; null (logged once) when unusable. */
    private OnnxSlideHead open(HeadAnnouncement a) {
        if (opened == null) {
            opened = new HashMap<>();
            unusable = new HashMap<>();
        }
        OnnxSlideHead head = opened.get(a.headId);
        if (head != null || unusable.containsKey(a.headId)) {
            return head;
        }
        try {
            Path path = Path.of(a.path);
            head =
                    OnnxSlideHead.open(
                            path,
                            inference.toBuilder().set(InferenceOptions.MODEL_PATH, path).build());
            if (!head.headId().equals(a.headId) || head.dimension() != a.dimension) {
                String found = head.headId() + " (D=" + head.dimension() + ")";
                head.close();
                throw new IllegalStateException(
                        a.path + " holds head " + found + ", not the announced one");
            }
            opened.put(a.headId, head);
            return head;
        } catch (RuntimeException e) {
            unusable.put(a.headId, e.toString());
            LOG.error(
                    "Slide head {} cannot be used on this TaskManager; its predictions are"
                            + " skipped until it is announced again: {}",
                    a.headId,
                    e.toString());
            return null;
        }
    }

    private void forget(String headId) {
        if (opened != null) {
            OnnxSlideHead head = opened.remove(headId);
            if (head != null) {
                head.close();
            }
            unusable.remove(headId);
        }
    }

    @Override
    public void close() throws Exception {
        if (opened != null) {
            opened.values().forEach(OnnxSlideHead::close);
            opened.clear();
        }
    }
}
