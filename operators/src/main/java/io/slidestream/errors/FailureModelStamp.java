package io.slidestream.errors;

import io.slidestream.inference.ModelCard;
import io.slidestream.schemas.avro.SlideFailed;
import java.nio.file.Path;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;

/**
 * Names the job's model on every failure that does not name one yet: a slide fails for a model (a
 * backfill with a new model records its own {@code SLIDE_NOT_FOUND} beside the old model's
 * results), so {@code slide_errors} and the dead letter carry the model id. The id is the one the
 * engine records ({@link ModelCard#idOf}), computed once per subtask from the model file.
 */
public final class FailureModelStamp extends RichMapFunction<SlideFailed, SlideFailed> {
    private static final long serialVersionUID = 1L;

    public static final String UID = "failure-model";
    public static final String NAME = "Name the model of each failure";

    private final String modelPath;
    private transient String modelId;

    public FailureModelStamp(Path model) {
        this.modelPath = model.toString();
    }

    @Override
    public void open(OpenContext context) {
        try {
            modelId = ModelCard.idOf(Path.of(modelPath));
        } catch (SlideStreamException e) {
            // A missing model fails the embed stage on its own; its failures go out unnamed.
            modelId = "";
        }
    }

    @Override
    public SlideFailed map(SlideFailed failed) {
        if (failed.getModelId() == null || failed.getModelId().isEmpty()) {
            failed.setModelId(modelId);
        }
        return failed;
    }
}
