package io.slidestream.aggregate;

import static io.slidestream.aggregate.TileEmbeddings.ONE_MINUTE_LATER;
import static io.slidestream.aggregate.TileEmbeddings.tile;
import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.schemas.records.TileEmbedding;
import java.util.List;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** The wiring of the slide window: types, uid and name, and the RocksDB state backend. */
class SlideWindowsTest {
    private static final long START = ONE_MINUTE_LATER.toEpochMilli();

    @Test
    void treatsTileEmbeddingAsPojoAndSlideResultAsAvro() {
        SerializerConfigImpl noGenericTypes = new SerializerConfigImpl();
        noGenericTypes.setGenericTypes(false);

        TypeInformation<TileEmbedding> tiles = TypeInformation.of(TileEmbedding.class);
        assertThat(tiles).isInstanceOf(PojoTypeInfo.class);
        assertThat(tiles.createSerializer(noGenericTypes)).isNotNull();
        TypeInformation<SlideResult> results = TypeInformation.of(SlideResult.class);
        assertThat(results).isInstanceOf(AvroTypeInfo.class);
        assertThat(SlideAggregator.FAILED.getTypeInfo()).isInstanceOf(AvroTypeInfo.class);
    }

    @Test
    void wiresWindowWithStableUidAndNameWithoutGenericTypes() {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        DataStream<TileEmbedding> tiles =
                env.fromData(TypeInformation.of(TileEmbedding.class), tile("s1", 0, 1, 2));

        SingleOutputStreamOperator<SlideResult> results =
                SlideWindows.aggregate(tiles, AggregateConfig.builder().build(), null);
        SlideWindows.failures(results).print();
        results.print();

        assertThat(results.getTransformation().getUid()).isEqualTo("slide-window");
        assertThat(results.getName()).isEqualTo(SlideWindows.NAME);
        assertThat(results.getType()).isInstanceOf(AvroTypeInfo.class);
        // Building the job graph creates every serializer: it fails on any Kryo fallback.
        assertThat(env.getStreamGraph().getJobGraph().getNumberOfVertices()).isPositive();
    }

    @Test
    void completesSlideOnRocksDbAcrossSnapshotAndRestore() throws Exception {
        AggregateConfig config = AggregateConfig.builder().build();
        KeyedOneInputStreamOperatorTestHarness<String, TileEmbedding, SlideResult> harness =
                SlideWindowHarness.create(config, null);
        harness.setStateBackend(new EmbeddedRocksDBStateBackend());
        harness.setProcessingTime(START);
        harness.open();
        harness.processElement(tile("s1", 1, 3, 4), 0L);
        harness.processElement(tile("s1", 1, 3, 4), 0L);
        harness.processElement(tile("s1", 0, 3, 4), 0L);
        OperatorSubtaskState snapshot = harness.snapshot(1L, START);
        harness.close();

        harness = SlideWindowHarness.create(config, null);
        harness.setStateBackend(new EmbeddedRocksDBStateBackend());
        harness.setProcessingTime(START);
        harness.initializeState(snapshot);
        harness.open();
        harness.processElement(tile("s1", 0, 3, 4), 0L);
        assertThat(harness.extractOutputValues()).isEmpty();
        harness.processElement(tile("s1", 2, 3, 4), 0L);

        List<SlideResult> results = harness.extractOutputValues();
        assertThat(results).hasSize(1);
        assertThat(results.get(0).getComplete()).isTrue();
        assertThat(results.get(0).getMeanEmbedding()).containsExactly(1f, 1.5f, 2f, 2.5f);
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        assertThat(harness.numEventTimeTimers()).isZero();
        harness.close();
    }
}
