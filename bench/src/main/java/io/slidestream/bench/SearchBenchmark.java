package io.slidestream.bench;

import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.schemas.records.TileEmbedding;
import io.slidestream.sink.MilvusCollectionAdmin;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.sink.MilvusStoreReader;
import io.slidestream.sink.MilvusStoreReader.TileHit;
import io.slidestream.sink.MilvusTileSink;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Retrieval quality and speed of the configured Milvus index: writes {@code n} clustered synthetic
 * vectors of dimension D as tile entities through the job's own Milvus sink ({@link
 * MilvusTileSink}, in a local Flink job), then for {@code queries} query vectors drawn from the
 * same clusters measures recall@k of Milvus's search against an exact brute-force search of the
 * same vectors (cosine), and the p50/p99 latency of plain searches and of searches filtered on the
 * tile's predicted class.
 *
 * <p>The vectors are reproducible from the seed: vector {@code i} belongs to cluster {@code i %
 * clusters}, is the cluster's centre plus Gaussian noise, normalised; entity {@code i} is tile
 * {@code (i % 1000) * 256, 0} of slide {@code bench-(i / 1000)}, class {@code i % 9}.
 */
public final class SearchBenchmark {

    /** The figures of one run. */
    public record Figures(
            int vectors,
            int dimension,
            String index,
            double writeSeconds,
            double vectorsPerSecond,
            int queries,
            int k,
            double recall,
            double plainP50Millis,
            double plainP99Millis,
            double filteredP50Millis,
            double filteredP99Millis) {}

    private static final int TILES_PER_SLIDE = 1000;
    private static final int CLASSES = 9;
    private static final double NOISE = 0.6;

    private SearchBenchmark() {}

    /**
     * Runs the benchmark in a fresh collection {@code config.tilesCollection()} (dropped first if
     * it exists) and prints its progress and figures on {@code out}.
     */
    public static Figures run(
            MilvusConfig config,
            int n,
            int dimension,
            int clusters,
            int queries,
            int k,
            long seed,
            int parallelism,
            PrintStream out)
            throws Exception {
        var client = MilvusCollectionAdmin.connect(config);
        try {
            if (MilvusCollectionAdmin.hasCollection(client, config.tilesCollection())) {
                client.dropCollection(
                        io.milvus.v2.service.collection.request.DropCollectionReq.builder()
                                .collectionName(config.tilesCollection())
                                .build());
            }
            MilvusCollectionAdmin.ensureCollection(
                    client, config, config.tilesCollection(), MilvusCollections.TILES, dimension);
        } finally {
            client.close();
        }
        SyntheticTiles tiles = new SyntheticTiles(seed, dimension, clusters);
        out.printf(
                Locale.ROOT,
                "Writing %,d vectors (D=%d, %d clusters) through the Milvus sink to %s ...%n",
                n,
                dimension,
                clusters,
                config.tilesCollection());
        long begin = System.nanoTime();
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(parallelism);
        env.fromSequence(0, n - 1L)
                .map(tiles, TypeInformation.of(TileEmbedding.class))
                .name("Synthetic tiles")
                .sinkTo(new MilvusTileSink(config))
                .name("Milvus tiles");
        env.execute("bench search: write");
        double writeSeconds = (System.nanoTime() - begin) / 1e9;

        try (MilvusStoreReader milvus = MilvusStoreReader.open(config)) {
            long stored =
                    milvus.countWhere(
                            config.tilesCollection(),
                            MilvusCollections.MODEL_ID + " == \"" + tiles.modelId() + "\"");
            if (stored != n) {
                throw new IllegalStateException(
                        "Milvus holds " + stored + " of the " + n + " vectors written");
            }
            out.printf(
                    Locale.ROOT,
                    "Wrote %,d vectors in %.1f s (%,.0f vectors/s); searching with %d queries ...%n",
                    n,
                    writeSeconds,
                    n / writeSeconds,
                    queries);
            float[] all = new float[n * dimension];
            for (int i = 0; i < n; i++) {
                System.arraycopy(tiles.vector(i), 0, all, i * dimension, dimension);
            }
            String model = MilvusCollections.MODEL_ID + " == \"" + tiles.modelId() + "\"";
            double[] plain = new double[queries];
            double[] filtered = new double[queries];
            double recallSum = 0;
            SplittableRandom random = new SplittableRandom(seed * 7 + 1);
            for (int q = 0; q < queries; q++) {
                float[] query = tiles.noisy(q % clusters, random);
                long t0 = System.nanoTime();
                var hits = milvus.searchTiles(query, k, model);
                plain[q] = (System.nanoTime() - t0) / 1e6;
                recallSum += overlap(hits, exactTopK(all, n, dimension, query, k)) / (double) k;
                long t1 = System.nanoTime();
                milvus.searchTiles(query, k, model + " and predicted_class == " + (q % CLASSES));
                filtered[q] = (System.nanoTime() - t1) / 1e6;
            }
            Figures f =
                    new Figures(
                            n,
                            dimension,
                            config.indexType().name(),
                            writeSeconds,
                            n / writeSeconds,
                            queries,
                            k,
                            recallSum / queries,
                            percentile(plain, 0.50),
                            percentile(plain, 0.99),
                            percentile(filtered, 0.50),
                            percentile(filtered, 0.99));
            out.printf(
                    Locale.ROOT,
                    "%,d vectors, D=%d, index %s: recall@%d %.4f; search p50 %.1f ms, p99 %.1f"
                            + " ms; filtered (predicted_class) p50 %.1f ms, p99 %.1f ms%n",
                    f.vectors(),
                    f.dimension(),
                    f.index(),
                    k,
                    f.recall(),
                    f.plainP50Millis(),
                    f.plainP99Millis(),
                    f.filteredP50Millis(),
                    f.filteredP99Millis());
            return f;
        }
    }

    /** Indices of the {@code k} vectors with the highest cosine to {@code query} (all normed). */
    static Set<Integer> exactTopK(float[] all, int n, int dimension, float[] query, int k) {
        int[] best = new int[k];
        double[] scores = new double[k];
        Arrays.fill(scores, Double.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i++) {
            double dot = 0;
            int base = i * dimension;
            for (int d = 0; d < dimension; d++) {
                dot += all[base + d] * query[d];
            }
            if (dot > scores[k - 1]) {
                int j = k - 1;
                while (j > 0 && scores[j - 1] < dot) {
                    scores[j] = scores[j - 1];
                    best[j] = best[j - 1];
                    j--;
                }
                scores[j] = dot;
                best[j] = i;
            }
        }
        Set<Integer> out = new HashSet<>();
        for (int i : best) {
            out.add(i);
        }
        return out;
    }

    private static int overlap(java.util.List<TileHit> hits, Set<Integer> exact) {
        int found = 0;
        for (TileHit h : hits) {
            int slide = Integer.parseInt(h.slideId().substring("bench-".length()));
            int index = slide * TILES_PER_SLIDE + (int) (h.x() / 256);
            if (exact.contains(index)) {
                found++;
            }
        }
        return found;
    }

    private static double percentile(double[] values, double p) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    /** Tile entity {@code i} with its clustered vector (see the class comment). */
    static final class SyntheticTiles implements MapFunction<Long, TileEmbedding> {
        private static final long serialVersionUID = 1L;

        private final long seed;
        private final int dimension;
        private final int clusters;
        private transient float[][] centres;

        SyntheticTiles(long seed, int dimension, int clusters) {
            this.seed = seed;
            this.dimension = dimension;
            this.clusters = clusters;
        }

        String modelId() {
            return "bench-synthetic-d" + dimension;
        }

        @Override
        public TileEmbedding map(Long index) {
            int i = index.intValue();
            TileEmbedding t = new TileEmbedding();
            t.slideId = String.format(Locale.ROOT, "bench-%05d", i / TILES_PER_SLIDE);
            t.uri = "bench://synthetic/" + t.slideId;
            t.x = (long) (i % TILES_PER_SLIDE) * 256;
            t.y = 0;
            t.level = 0;
            t.readPx = 256;
            t.extentPx = 256;
            t.tilePx = 256;
            t.mpp = 0.5;
            t.tissue = 1f;
            t.tileIndex = i % TILES_PER_SLIDE;
            t.tileCount = TILES_PER_SLIDE;
            t.scannedAtMillis = 0;
            t.modelId = modelId();
            t.embedding = vector(i);
            t.headProbabilities = new float[CLASSES];
            t.headProbabilities[i % CLASSES] = 1f;
            return t;
        }

        /** Vector {@code i}: its cluster's centre plus noise, normalised. */
        float[] vector(int i) {
            return noisy(i % clusters, new SplittableRandom(seed * 1_000_003L + i));
        }

        float[] noisy(int cluster, SplittableRandom random) {
            float[] centre = centre(cluster);
            float[] v = new float[dimension];
            double norm = 0;
            double sigma = NOISE / Math.sqrt(dimension);
            for (int d = 0; d < dimension; d++) {
                v[d] = (float) (centre[d] + sigma * gaussian(random));
                norm += v[d] * v[d];
            }
            float scale = (float) (1 / Math.sqrt(norm));
            for (int d = 0; d < dimension; d++) {
                v[d] *= scale;
            }
            return v;
        }

        private float[] centre(int cluster) {
            if (centres == null) {
                centres = new float[clusters][];
            }
            if (centres[cluster] == null) {
                SplittableRandom random = new SplittableRandom(seed * 31 + cluster);
                float[] c = new float[dimension];
                double norm = 0;
                for (int d = 0; d < dimension; d++) {
                    c[d] = (float) gaussian(random);
                    norm += c[d] * c[d];
                }
                for (int d = 0; d < dimension; d++) {
                    c[d] /= (float) Math.sqrt(norm);
                }
                centres[cluster] = c;
            }
            return centres[cluster];
        }

        private static double gaussian(SplittableRandom random) {
            // Box-Muller: SplittableRandom has no nextGaussian on Java 17.
            double u = 1 - random.nextDouble();
            double v = random.nextDouble();
            return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
        }
    }
}
