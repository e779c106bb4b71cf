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
    void upsertTablesArePartitionedOnlyByTheirKeyColumns() {
        assertThat(IcebergTables.TILES_PARTITIONING.fields())
                .extracting(f -> f.transform().toString())
                .containsExactly("bucket[" + IcebergTables.TILE_BUCKETS + "]");
        assertThat(IcebergTables.TILES_TABLE.upsertKey())
                .containsExactly("slide_id", "model_id", "level", "x", "y");
        assertThat(IcebergTables.SLIDES_PARTITIONING.isUnpartitioned()).isTrue();
        assertThat(IcebergTables.SLIDES_TABLE.upsertKey())
                .containsExactly("slide_id", "model_id", "head_id");
        assertThat(IcebergTables.SLIDE_ERRORS_TABLE.upsertKey()).isEmpty();
        // Equality deletes reach only rows of their partition: every partition source must be
        // part of the upsert key.
        for (var table : java.util.List.of(IcebergTables.TILES_TABLE, IcebergTables.SLIDES_TABLE)) {
            for (var field : table.partitioning().fields()) {
                assertThat(table.schema().identifierFieldIds()).contains(field.sourceId());
            }
        }
    }
}
