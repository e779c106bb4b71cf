package io.slidestream.serve;

import java.util.concurrent.Semaphore;
import java.util.function.Supplier;

/**
 * At most {@code serve.max-expensive-requests} expensive requests at once (searches, uploads
 * embedded by the model, regions and thumbnails read from slides): one more is answered 429 with
 * {@code Retry-After} at once instead of queueing, so a burst cannot take the process's memory or
 * its threads.
 */
final class ExpensiveRequests {
    private final int atOnce;
    private final Semaphore permits;

    ExpensiveRequests(int atOnce) {
        this.atOnce = atOnce;
        this.permits = new Semaphore(atOnce);
    }

    <T> T run(Supplier<T> work) {
        if (!permits.tryAcquire()) {
            throw new ApiError(
                    429,
                    "TOO_MANY_REQUESTS",
                    "The service is answering "
                            + atOnce
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
