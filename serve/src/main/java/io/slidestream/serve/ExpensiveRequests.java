package io.slidestream.serve;

import java.util.concurrent.Semaphore;
import java.util.function.Supplier;

/**
 * At most {@value #AT_ONCE} expensive requests at once (searches, uploads embedded by the model,
 * regions and thumbnails read from slides): one more is answered 429 with {@code Retry-After} at
 * once instead of queueing, so a burst cannot take the process's memory or its threads.
 */
final class ExpensiveRequests {
    static final int AT_ONCE = 4;

    private final Semaphore permits = new Semaphore(AT_ONCE);

    <T> T run(Supplier<T> work) {
        if (!permits.tryAcquire()) {
            throw new ApiError(
                    429,
                    "TOO_MANY_REQUESTS",
                    "The service is answering "
                            + AT_ONCE
                            + " searches and image reads already; retry in a second");
        }
        try {
            return work.get();
        } finally {
            permits.release();
        }
    }

    void run(Runnable work) {
        run(
                () -> {
                    work.run();
                    return null;
                });
    }
}
