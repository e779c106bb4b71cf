package io.slidestream.heads;

import io.slidestream.aggregate.SlideStatistics;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.heads.HeadScorer.Prediction;
import io.slidestream.heads.StoredBags.StoredSlide;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.IcebergConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.types.TypeUtil;

/**
 * {@code heads rescore}: a trained head's predictions for the archive, written into the {@code
 * slides} table beside the job's own. Each slide's row of this head is the job's result row of the
 * same model and scan (uri, counts, geometry, mean embedding, tissue composition) with the head's
 * {@code head_id}, logits, probabilities, class, {@code predicted_label}, top tiles and every
 * tile's attention, {@code completed_at} the time of the re-score. Rows are upserted on (slide_id,
 * model_id, head_id) in one Iceberg commit (data file plus equality deletes, as the job's sink
 * writes them), so other heads' rows are never touched; a slide whose latest scan already has this
 * head's row is left alone, so a second run commits nothing.
 */
public final class ArchiveRescore {

    /** What a run did: slides scored, rows written, slides already done, slides without result. */
    public record Summary(int scored, int written, int unchanged, List<String> withoutResult) {}

    private ArchiveRescore() {}

    /**
     * Scores {@code slides} with {@code scorer} and upserts the rows of those not done yet; {@code
     * topK} top tiles per row, as the job lists them ({@code aggregate.top-k}).
     */
    public static Summary run(
            IcebergConfig config,
            StoredBags store,
            HeadScorer scorer,
            List<StoredSlide> slides,
            int topK,
            Consumer<Prediction> progress) {
        String headId = scorer.card().headId();
        Catalog catalog = IcebergCatalogs.open(config);
        try {
            Table table;
            try {
                table = catalog.loadTable(IcebergCatalogs.identifier(config, config.slidesTable()));
            } catch (RuntimeException e) {
                throw new SlideStreamException(
                        ErrorCode.STORE_UNAVAILABLE,
                        "could not load the slides table "
                                + config.namespace()
                                + "."
                                + config.slidesTable()
                                + ": "
                                + e.getMessage(),
                        e);
            }
            if (table.schema().findField("head_id") == null) {
                throw new SlideStreamException(
                        ErrorCode.INVALID_REQUEST,
                        "the slides table has no head_id column yet: start the job once with this"
                                + " version (it evolves the table), then re-score");
            }
            Map<String, List<Record>> bySlide = rowsOf(table, scorer.card().modelId());
            List<Record> rows = new ArrayList<>();
            List<String> without = new ArrayList<>();
            int unchanged = 0;
            int scored = 0;
            for (StoredSlide slide : slides) {
                List<Record> existing = bySlide.getOrDefault(slide.slideId(), List.of());
                List<Record> ofScan =
                        existing.stream()
                                .filter(r -> scannedAt(r).equals(slide.scannedAt()))
                                .toList();
                if (ofScan.stream().anyMatch(r -> headId.equals(r.getField("head_id")))) {
                    unchanged++;
                    continue;
                }
                // The job's own result of this scan: the first written.
                Record base =
                        ofScan.stream()
                                .min(Comparator.comparing(ArchiveRescore::completedAt))
                                .orElse(null);
                if (base == null) {
                    without.add(slide.slideId());
                    continue;
                }
                Prediction p = scorer.predict(store.load(slide));
                scored++;
                rows.add(row(base, p, headId, topK));
                progress.accept(p);
            }
            if (!rows.isEmpty()) {
                commit(table, rows);
            }
            return new Summary(scored, rows.size(), unchanged, List.copyOf(without));
        } finally {
            IcebergCatalogs.close(catalog);
        }
    }

    private static Map<String, List<Record>> rowsOf(Table table, String modelId) {
        Map<String, List<Record>> bySlide = new HashMap<>();
        try (CloseableIterable<Record> it =
                IcebergGenerics.read(table).where(Expressions.equal("model_id", modelId)).build()) {
            for (Record r : it) {
                if (modelId.equals(r.getField("model_id"))) {
                    bySlide.computeIfAbsent((String) r.getField("slide_id"), s -> new ArrayList<>())
                            .add(r.copy());
                }
            }
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.STORE_UNAVAILABLE,
                    "could not read the slides table: " + e.getMessage(),
                    new UncheckedIOException(e));
        }
        return bySlide;
    }

    private static Record row(Record base, Prediction p, String headId, int topK) {
        FeatureBag bag = p.bag();
        Record row = base.copy();
        row.setField("head_id", headId);
        row.setField("predicted_label", p.predictedLabel());
        row.setField("predicted_class", p.predictedClass());
        row.setField("logits", floats(p.logits()));
        row.setField("probabilities", floats(p.probabilities()));
        float[] attention = p.attention();
        Schema schema = base.struct().asSchema();
        var topType =
                schema.findField("top_tiles").type().asListType().elementType().asStructType();
        List<Record> top = new ArrayList<>();
        // The same top-k (highest first, ties by plan order) as the job's aggregate.
        for (int i : SlideStatistics.topK(attention, topK)) {
            Record t = GenericRecord.create(topType);
            t.setField("x", bag.coords()[2 * i]);
            t.setField("y", bag.coords()[2 * i + 1]);
            t.setField("attention", attention[i]);
            top.add(t);
        }
        row.setField("top_tiles", top);
        float[] byIndex = new float[Math.max(bag.tileCount(), 0)];
        for (int i = 0; i < attention.length; i++) {
            int index = bag.tileIndices()[i];
            if (index >= 0 && index < byIndex.length) {
                byIndex[index] = attention[i];
            }
        }
        row.setField("tile_attention", floats(byIndex));
        row.setField("completed_at", OffsetDateTime.now(ZoneOffset.UTC));
        return row;
    }

    /** Upserts {@code rows} on (slide_id, model_id, head_id): one data file, one delete file. */
    private static void commit(Table table, List<Record> rows) {
        Schema schema = table.schema();
        int[] key = {
            schema.findField("slide_id").fieldId(),
            schema.findField("model_id").fieldId(),
            schema.findField("head_id").fieldId()
        };
        Schema deleteSchema = TypeUtil.select(schema, Set.of(key[0], key[1], key[2]));
        GenericAppenderFactory factory =
                new GenericAppenderFactory(
                        table, schema, table.spec(), table.properties(), key, deleteSchema, null);
        OutputFileFactory files =
                OutputFileFactory.builderFor(table, 1, System.currentTimeMillis())
                        .format(FileFormat.PARQUET)
                        .build();
        try {
            DataWriter<Record> data =
                    factory.newDataWriter(files.newOutputFile(), FileFormat.PARQUET, null);
            EqualityDeleteWriter<Record> deletes =
                    factory.newEqDeleteWriter(files.newOutputFile(), FileFormat.PARQUET, null);
            try (data;
                    deletes) {
                for (Record r : rows) {
                    data.write(r);
                    Record k = GenericRecord.create(deleteSchema);
                    k.setField("slide_id", r.getField("slide_id"));
                    k.setField("model_id", r.getField("model_id"));
                    k.setField("head_id", r.getField("head_id"));
                    deletes.write(k);
                }
            }
            DataFile dataFile = data.toDataFile();
            DeleteFile deleteFile = deletes.toDeleteFile();
            table.newRowDelta().addRows(dataFile).addDeletes(deleteFile).commit();
        } catch (IOException e) {
            throw new SlideStreamException(
                    ErrorCode.STORE_UNAVAILABLE,
                    "could not write the re-scored rows: " + e.getMessage(),
                    new UncheckedIOException(e));
        }
    }

    private static List<Float> floats(float[] values) {
        List<Float> out = new ArrayList<>(values.length);
        for (float v : values) {
            out.add(v);
        }
        return out;
    }

    private static Instant scannedAt(Record r) {
        return instant(r.getField("scanned_at"));
    }

    private static Instant completedAt(Record r) {
        return instant(r.getField("completed_at"));
    }

    private static Instant instant(Object value) {
        return value instanceof OffsetDateTime t ? t.toInstant() : (Instant) value;
    }
}
