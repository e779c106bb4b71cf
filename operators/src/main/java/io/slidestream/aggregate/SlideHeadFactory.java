package io.slidestream.aggregate;

import io.slidestream.inference.SlideHead;
import java.io.Serializable;

/**
 * Opens a {@link SlideHead} inside a task. The job serialises the factory (not the head, which
 * holds a native ONNX Runtime session) into the slide aggregate, which calls {@link #open()} once
 * per parallel instance in {@code open()} and closes the head in {@code close()}.
 *
 * <p>Implementations must be serializable: capture only paths and settings, for example {@code ()
 * -> OnnxSlideHead.open(modelPath, options)}.
 */
@FunctionalInterface
public interface SlideHeadFactory extends Serializable {

    /**
     * Opens the head. Throws a {@code SlideStreamException} (for example {@code MODEL_INVALID})
     * when the model cannot be loaded; the task then fails to start.
     */
    SlideHead open() throws Exception;
}
