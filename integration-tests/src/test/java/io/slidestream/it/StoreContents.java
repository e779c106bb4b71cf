package io.slidestream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.config.SlideStreamConfig;
import io.slidestream.sink.IcebergTableReader;
import io.slidestream.sink.MilvusStoreReader;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.iceberg.data.Record;

/**
 * What the job wrote, read back from the stores themselves (Iceberg tables through the catalog,
 * Milvus through its SDK), never from the sinks' own counters: the exactly-once checks of the
 * ITCases.
 */
final class StoreContents {
    private StoreContents() {}

    /** Whether Iceberg and Milvus hold at least the planned tiles and a slide row per slide. */
    static boolean reached(SlideStreamConfig config, Map<String, Integer> planned) {
        var iceberg = config.iceberg();
        Map<String, Long> tiles = IcebergTableReader.countPerSlide(iceberg, iceberg.tilesTable());
        Map<String, Long> slides = IcebergTableReader.countPerSlide(iceberg, iceberg.slidesTable());
        try (MilvusStoreReader milvus = MilvusStoreReader.open(config.milvus())) {
            for (var e : planned.entrySet()) {
                if (tiles.getOrDefault(e.getKey(), 0L) < e.getValue()
                        || slides.getOrDefault(e.getKey(), 0L) < 1
                        || milvus.countTiles(e.getKey()) < e.getValue()
                        || milvus.countSlides(e.getKey()) < 1) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Every planned slide exactly once: as many Iceberg tile rows as planned tiles, no tile twice,
     * one slide row, and the same counts of Milvus tile and slide entities; no other slide.
     */
    static void assertExactlyOnce(SlideStreamConfig config, Map<String, Integer> planned) {
        var iceberg = config.iceberg();
        List<Record> tiles =
                IcebergTableReader.rows(iceberg, iceberg.tilesTable(), "slide_id", "x", "y");
        Map<String, Long> expected = new TreeMap<>();
        Map<String, Long> one = new TreeMap<>();
        planned.forEach(
                (slide, n) -> {
                    expected.put(slide, (long) n);
                    one.put(slide, 1L);
                });
        assertThat(EndToEndStack.countBySlide(tiles)).as("Iceberg tiles").isEqualTo(expected);
        Set<String> distinct = new HashSet<>();
        tiles.forEach(
                t ->
                        distinct.add(
                                t.getField("slide_id")
                                        + "@"
                                        + t.getField("x")
                                        + ","
                                        + t.getField("y")));
        assertThat(distinct).as("distinct Iceberg tiles").hasSize(tiles.size());
        assertThat(IcebergTableReader.countPerSlide(iceberg, iceberg.slidesTable()))
                .as("Iceberg slides")
                .isEqualTo(one);
        try (MilvusStoreReader milvus = MilvusStoreReader.open(config.milvus())) {
            for (var e : planned.entrySet()) {
                assertThat(milvus.countTiles(e.getKey()))
                        .as("Milvus tiles of %s", e.getKey())
                        .isEqualTo(e.getValue().longValue());
                assertThat(milvus.countSlides(e.getKey()))
                        .as("Milvus slides of %s", e.getKey())
                        .isEqualTo(1);
            }
        }
    }
}
