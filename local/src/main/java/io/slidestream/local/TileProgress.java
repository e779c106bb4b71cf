package io.slidestream.local;

import io.slidestream.schemas.records.TileEmbedding;
import java.util.BitSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Per-slide progress of a job running on a local MiniCluster in this JVM (the demo and the pipeline
 * benchmark): which tiles of each slide have been embedded. Distinct tiles are counted, so a replay
 * after a restart does not overshoot. Only meaningful in-process; a cluster job reports progress
 * through its metrics instead.
 */
public final class TileProgress {

    private static final Map<String, Slide> SLIDES = new ConcurrentHashMap<>();

    private TileProgress() {}

    /** Progress of one slide. */
    public static final class Slide {
        private final BitSet done = new BitSet();
        private volatile int tileCount;
        private volatile long firstTileNanos;
        private volatile long lastTileNanos;

        synchronized void record(int tileIndex, int count) {
            if (firstTileNanos == 0) {
                firstTileNanos = System.nanoTime();
            }
            lastTileNanos = System.nanoTime();
            tileCount = count;
            done.set(tileIndex);
        }

        public synchronized int tilesDone() {
            return done.cardinality();
        }

        public int tileCount() {
            return tileCount;
        }

        public long firstTileNanos() {
            return firstTileNanos;
        }

        public long lastTileNanos() {
            return lastTileNanos;
        }
    }

    /** The slide's progress, or null when none of its tiles has been embedded yet. */
    public static Slide of(String slideId) {
        return SLIDES.get(slideId);
    }

    /** Total distinct tiles embedded, over all slides. */
    public static long totalTiles() {
        return SLIDES.values().stream().mapToLong(Slide::tilesDone).sum();
    }

    /** Forgets everything (a new run in the same JVM). */
    public static void reset() {
        SLIDES.clear();
    }

    /** A sink that records each embedded tile in this JVM's progress registry. */
    public static final class ProgressSink implements Sink<TileEmbedding> {
        private static final long serialVersionUID = 1L;

        @Override
        public SinkWriter<TileEmbedding> createWriter(WriterInitContext context) {
            return new SinkWriter<>() {
                @Override
                public void write(TileEmbedding tile, Context context) {
                    if (tile.removed) {
                        return;
                    }
                    SLIDES.computeIfAbsent(tile.slideId, id -> new Slide())
                            .record(tile.tileIndex, tile.tileCount);
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }
}
