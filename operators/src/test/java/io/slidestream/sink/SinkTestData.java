package io.slidestream.sink;

import io.slidestream.schemas.avro.AttentionTile;
import io.slidestream.schemas.avro.ClassFraction;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.records.TileEmbedding;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic records for the sink tests: embeddings seeded from slide id and tile index, named
 * instants, known grids. Shared with the integration tests through the operators test-jar.
 */
public final class SinkTestData {

    public static final Instant SCANNED_AT = Instant.parse("2026-11-20T09:30:00Z");
    public static final Instant ONE_MINUTE_LATER = SCANNED_AT.plusSeconds(60);
    public static final String MODEL_ID = "gpfm-tiny@0123abcd";

    private SinkTestData() {}

    /** Tile {@code index} of a {@code columns}-wide grid of 256 px tiles with a D-long vector. */
    public static TileEmbedding tile(String slideId, int index, int count, int columns, int d) {
        TileEmbedding t = new TileEmbedding();
        t.slideId = slideId;
        t.x = (long) (index % columns) * 256;
        t.y = (long) (index / columns) * 256;
        t.uri = "/slides/" + slideId + ".svs";
        t.level = 0;
        // As on a 0.25 µm/px (40x) slide: 512 px read at level 0, resized to 256 px at 0.5 µm/px.
        t.readPx = 512;
        t.extentPx = 512;
        t.tilePx = 256;
        t.mpp = 0.5;
        t.tissue = 0.75f;
        t.tileIndex = index;
        t.tileCount = count;
        t.scannedAtMillis = SCANNED_AT.toEpochMilli();
        t.modelId = MODEL_ID;
        t.embedding = vector(slideId.hashCode() * 31L + index, d);
        t.headProbabilities = new float[] {0.1f, 0.7f, 0.2f};
        return t;
    }

    /** Every tile of a slide. */
    public static List<TileEmbedding> tiles(String slideId, int count, int columns, int d) {
        List<TileEmbedding> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(tile(slideId, i, count, columns, d));
        }
        return out;
    }

    /** A seeded Gaussian vector. */
    public static float[] vector(long seed, int d) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[d];
        for (int i = 0; i < d; i++) {
            // Box-Muller keeps it dependency-free and deterministic.
            double u1 = random.nextDouble(Double.MIN_VALUE, 1.0);
            double u2 = random.nextDouble();
            v[i] = (float) (Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
        }
        return v;
    }

    public static SlideResult slideResult(String slideId, int tiles, int d) {
        List<Float> mean = new ArrayList<>();
        for (float f : vector(slideId.hashCode(), d)) {
            mean.add(f);
        }
        return SlideResult.newBuilder()
                .setSlideId(slideId)
                .setUri("file:/slides/" + slideId + ".tiff")
                .setModelId(MODEL_ID)
                .setComplete(true)
                .setTileCount(tiles)
                .setTilesReceived(tiles)
                .setLevel(0)
                .setTilePx(256)
                .setMpp(0.5)
                .setScannedAt(SCANNED_AT)
                .setCompletedAt(ONE_MINUTE_LATER)
                .setLogits(List.of(0.5f, 1.5f))
                .setProbabilities(List.of(0.25f, 0.75f))
                .setPredictedClass(1)
                .setMeanEmbedding(mean)
                .setTissueComposition(
                        List.of(
                                new ClassFraction("tumour", 0.6f),
                                new ClassFraction("stroma", 0.4f)))
                .setTopTiles(List.of(new AttentionTile(512L, 768L, 0.3f)))
                .build();
    }

    public static SlideFailed slideFailed(String slideId, String code) {
        return SlideFailed.newBuilder()
                .setSlideId(slideId)
                .setUri("file:/slides/" + slideId + ".tiff")
                .setCode(code)
                .setMessage("The file is truncated; rescan it.")
                .setStage("plan")
                .setFailedAt(ONE_MINUTE_LATER)
                .build();
    }
}
