package io.slidestream.heads;

import io.slidestream.aggregate.SlideStatistics;
import io.slidestream.heads.StoredBags.StoredSlide;
import io.slidestream.inference.HeadCard;
import io.slidestream.inference.InferenceConfig;
import io.slidestream.inference.InferenceOptions;
import io.slidestream.inference.OnnxSlideHead;
import io.slidestream.inference.SlideHead;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;

/**
 * A trained head over the stored bags of its model: each slide's prediction from the embeddings the
 * tiles table holds, with no slide re-read and no re-embedding. Refuses a head whose card names
 * another model or dimension.
 */
public final class HeadScorer implements AutoCloseable {

    /**
     * One slide's prediction: logits, the class, its name and probabilities, the attention of each
     * tile of the bag (in bag order) and the most-attended tile.
     */
    public record Prediction(
            FeatureBag bag,
            float[] logits,
            int predictedClass,
            String predictedLabel,
            float[] probabilities,
            float[] attention,
            long topX,
            long topY) {

        public String slideId() {
            return bag.slideId();
        }
    }

    private final HeadCard card;
    private final OnnxSlideHead head;

    private HeadScorer(HeadCard card, OnnxSlideHead head) {
        this.card = card;
        this.head = head;
    }

    /** Opens the head {@code heads train} wrote into {@code dir}. */
    public static HeadScorer open(Path dir) {
        HeadCard card = HeadCard.read(dir);
        Path model = dir.resolve(HeadCard.MODEL_FILE);
        InferenceConfig config =
                InferenceConfig.builder().set(InferenceOptions.MODEL_PATH, model).build();
        OnnxSlideHead head = OnnxSlideHead.open(model, config);
        try {
            card.requireFits(card.modelId(), head.dimension());
            if (head.classes() != card.classes().size()) {
                throw new io.slidestream.errors.SlideStreamException(
                        io.slidestream.schemas.ErrorCode.INVALID_REQUEST,
                        model
                                + " gives "
                                + head.classes()
                                + " classes but its card names "
                                + card.classes().size()
                                + ": the folder mixes files of two trainings; train again");
            }
        } catch (RuntimeException e) {
            head.close();
            throw e;
        }
        return new HeadScorer(card, head);
    }

    public HeadCard card() {
        return card;
    }

    /** The slides of the head's model to score: {@code slideIds} or, when empty, all of them. */
    public List<StoredSlide> select(StoredBags store, Collection<String> slideIds) {
        return BagExport.select(store, card.modelId(), slideIds);
    }

    /** Scores {@code slides}, one bag in memory at a time. */
    public void score(StoredBags store, List<StoredSlide> slides, Consumer<Prediction> out) {
        for (StoredSlide slide : slides) {
            out.accept(predict(store.load(slide)));
        }
    }

    /** The head's prediction for one bag. */
    public Prediction predict(FeatureBag bag) {
        card.requireFits(bag.modelId(), bag.dimension());
        SlideHead.Output o = head.predict(bag.features(), bag.tiles());
        float[] p = SlideStatistics.softmax(o.logits);
        int best = 0;
        for (int c = 1; c < p.length; c++) {
            if (p[c] > p[best]) {
                best = c;
            }
        }
        int top = 0;
        for (int t = 1; t < o.attention.length; t++) {
            if (o.attention[t] > o.attention[top]) {
                top = t;
            }
        }
        return new Prediction(
                bag,
                o.logits,
                best,
                card.classes().get(best),
                p,
                o.attention,
                bag.coords()[2 * top],
                bag.coords()[2 * top + 1]);
    }

    @Override
    public void close() {
        head.close();
    }
}
