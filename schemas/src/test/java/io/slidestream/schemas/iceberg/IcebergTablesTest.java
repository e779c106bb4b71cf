package io.slidestream.schemas.iceberg;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideResult;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class IcebergTablesTest {

    @Test
    void slidesTableHasAColumnForEverySlideResultField() {
        for (Schema.Field field : SlideResult.getClassSchema().getFields()) {
            assertThat(IcebergTables.SLIDES_SCHEMA.findField(field.name()))
                    .as("column %s", field.name())
                    .isNotNull();
        }
    }

    @Test
    void slideErrorsTableHasAColumnForEverySlideFailedField() {
        for (Schema.Field field : SlideFailed.getClassSchema().getFields()) {
            assertThat(IcebergTables.SLIDE_ERRORS_SCHEMA.findField(field.name()))
                    .as("column %s", field.name())
                    .isNotNull();
        }
    }

    @Test
    void tilesArePartitionedByScanDayAndSlideBucket() {
        assertThat(IcebergTables.TILES_PARTITIONING.fields())
                .extracting(f -> f.transform().toString())
                .containsExactly("day", "bucket[" + IcebergTables.TILE_BUCKETS + "]");
        assertThat(IcebergTables.TILES_SCHEMA.identifierFieldNames())
                .containsExactlyInAnyOrder("slide_id", "model_id", "level", "x", "y");
    }
}
