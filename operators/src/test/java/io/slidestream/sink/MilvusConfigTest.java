package io.slidestream.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.milvus.v2.common.IndexParam;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

class MilvusConfigTest {

    @Test
    void readsEveryKeyFromTheFlinkConfiguration() {
        Configuration conf = new Configuration();
        conf.setString("milvus.uri", "http://milvus:19530");
        conf.setString("milvus.database", "pathology");
        conf.setString("milvus.index-type", "ivf_flat");
        conf.setString("milvus.metric-type", "L2");
        conf.setString("milvus.index-params", "nlist:128");
        conf.setString("milvus.search-params", "nprobe:16");
        conf.setString("milvus.batch-size", "64");
        conf.setString("milvus.retry.max-wait", "30 s");

        MilvusConfig config = MilvusConfig.from(conf);

        assertThat(config.uri()).isEqualTo("http://milvus:19530");
        assertThat(config.database()).contains("pathology");
        assertThat(config.indexType()).isEqualTo(IndexParam.IndexType.IVF_FLAT);
        assertThat(config.metricType()).isEqualTo(IndexParam.MetricType.L2);
        assertThat(config.indexParams()).containsEntry("nlist", "128");
        assertThat(config.searchParams()).containsEntry("nprobe", "16");
        assertThat(config.toBuilder().build().searchParams()).containsEntry("nprobe", "16");
        assertThat(config.batchSize()).isEqualTo(64);
        assertThat(config.maxRetryWait()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void defaultsSuitMilvusLite() {
        MilvusConfig config = MilvusConfig.from(new Configuration());
        assertThat(config.indexType()).isEqualTo(IndexParam.IndexType.AUTOINDEX);
        assertThat(config.metricType()).isEqualTo(IndexParam.MetricType.COSINE);
        assertThat(config.database()).isEmpty();
        assertThat(config.token()).isEmpty();
        assertThat(config.tilesCollection()).isEqualTo("tiles_v2");
        assertThat(config.slidesCollection()).isEqualTo("slides_v2");
    }

    @Test
    void rejectsAnUnknownIndexTypeNamingTheKey() {
        assertThatThrownBy(
                        () -> MilvusConfig.builder().set(MilvusOptions.INDEX_TYPE, "HNSWX").build())
                .isInstanceOf(SlideStreamException.class)
                .hasMessageContaining("milvus.index-type = 'HNSWX'")
                .hasMessageContaining("AUTOINDEX")
                .extracting(e -> ((SlideStreamException) e).code())
                .isEqualTo(ErrorCode.INVALID_CONFIG);
    }

    @Test
    void rejectsAMetricThatFloatVectorsCannotUse() {
        assertThatThrownBy(
                        () ->
                                MilvusConfig.builder()
                                        .set(MilvusOptions.METRIC_TYPE, "HAMMING")
                                        .build())
                .hasMessageContaining("milvus.metric-type = 'HAMMING'");
    }

    @Test
    void rejectsALocalFileAsUri() {
        assertThatThrownBy(
                        () -> MilvusConfig.builder().set(MilvusOptions.URI, "./milvus.db").build())
                .hasMessageContaining("milvus.uri = './milvus.db'");
    }

    @Test
    void rejectsBatchSizeOutOfRange() {
        assertThatThrownBy(() -> MilvusConfig.builder().set(MilvusOptions.BATCH_SIZE, 0).build())
                .hasMessageContaining("milvus.batch-size = '0'");
        assertThatThrownBy(
                        () -> MilvusConfig.builder().set(MilvusOptions.BATCH_SIZE, 10_001).build())
                .hasMessageContaining("milvus.batch-size = '10001'");
    }

    @Test
    void rejectsMaxBackoffShorterThanInitial() {
        assertThatThrownBy(
                        () ->
                                MilvusConfig.builder()
                                        .set(
                                                MilvusOptions.RETRY_INITIAL_BACKOFF,
                                                Duration.ofSeconds(5))
                                        .set(MilvusOptions.RETRY_MAX_BACKOFF, Duration.ofSeconds(1))
                                        .build())
                .hasMessageContaining("milvus.retry.max-backoff");
    }

    @Test
    void rejectsTheSameNameForBothCollections() {
        assertThatThrownBy(
                        () ->
                                MilvusConfig.builder()
                                        .set(MilvusOptions.TILES_COLLECTION, "vectors")
                                        .set(MilvusOptions.SLIDES_COLLECTION, "vectors")
                                        .build())
                .hasMessageContaining("milvus.slides-collection = 'vectors'");
    }

    @Test
    void rejectsACollectionNameMilvusDoesNotAccept() {
        assertThatThrownBy(
                        () ->
                                MilvusConfig.builder()
                                        .set(MilvusOptions.TILES_COLLECTION, "tiles-v2")
                                        .build())
                .hasMessageContaining("milvus.tiles-collection = 'tiles-v2'");
    }

    @Test
    void neverPrintsTheToken() {
        MilvusConfig config =
                MilvusConfig.builder().set(MilvusOptions.TOKEN, "root:Milvus").build();
        assertThat(config.toString()).doesNotContain("Milvus\"").doesNotContain("root:Milvus");
        assertThat(config.token()).contains("root:Milvus");
    }
}
