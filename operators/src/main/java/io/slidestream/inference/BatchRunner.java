package io.slidestream.inference;

import java.util.List;

/**
 * Runs a model on one batch for the {@link MicroBatcher}: one result per input, in input order.
 * Called only from the batcher's thread. Throwing fails the batch; the batcher then retries its
 * inputs in halves, so the runner must be safe to call again with a subset.
 */
@FunctionalInterface
public interface BatchRunner<R> {
    List<R> run(List<TileTensor> inputs) throws Exception;
}
