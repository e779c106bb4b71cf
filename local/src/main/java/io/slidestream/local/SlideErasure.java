package io.slidestream.local;

import io.milvus.v2.client.MilvusClientV2;
import io.milvus.v2.service.utility.request.CompactReq;
import io.milvus.v2.service.vector.request.DeleteReq;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.iceberg.IcebergTables;
import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.IcebergPartitionRewrite;
import io.slidestream.sink.MilvusCollectionAdmin;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.sink.MilvusStoreReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;

/**
 * Erases one slide from the stores on request: its rows in the three Iceberg tables (the partitions
 * that hold them rewritten without them, then every older snapshot expired and the files only they
 * referenced deleted, so no data, delete or manifest file with the slide is left), its entities in
 * every Milvus tiles and slides collection (deleted, then compacted where the server can), and an
 * erasure record in the {@code erasures} table that names the slide only by its SHA-256; and it
 * tells the running job's planner to forget the slide. A slide the stores do not hold is left alone
 * and recorded nowhere (the planner is still told: that is idempotent).
 */
public final class SlideErasure {

    /**
     * What one erasure removed ({@link #nothing} when the stores held nothing of the slide), what
     * Milvus said to the compaction, and whether the running job's planner was told: {@code
     * planner} says how, {@code plannerFailure} is the Kafka failure when it could not be.
     */
    public record Erased(
            List<String> removed,
            String compaction,
            String planner,
            SlideStreamException plannerFailure) {
        public boolean nothing() {
            return removed.isEmpty();
        }
    }

    private SlideErasure() {}

    /**
     * Erases the slide. With a {@code publisher} (the job's {@code slides.scanned}), a tombstone
     * for the slide goes there first, so the running job's planner forgets it (stops a scan of it
     * in progress, and plans any later announcement as new); without one ({@code null}, a demo's
     * stores: no job runs on them) that step is left out. A failed tombstone does not stop the
     * erasure of the stores: it is returned as {@link Erased#plannerFailure}.
     */
    public static Erased forget(
            IcebergConfig iceberg,
            MilvusConfig milvus,
            SlidePublisher publisher,
            String slideId,
            String requestedBy,
            String reason) {
        String planner = "no job runs on these stores: there was no planner to tell";
        SlideStreamException plannerFailure = null;
        if (publisher != null) {
            try {
                publisher.forget(slideId);
                planner = "the job's planner told through a tombstone on " + publisher.topic();
            } catch (SlideStreamException e) {
                planner = "the job's planner could not be told";
                plannerFailure = e;
            }
        }
        List<String> removed = new ArrayList<>();
        for (String name :
                List.of(iceberg.tilesTable(), iceberg.slidesTable(), iceberg.errorsTable())) {
            IcebergPartitionRewrite.Outcome outcome =
                    IcebergCatalogs.withTable(
                            iceberg,
                            name,
                            t -> {
                                IcebergPartitionRewrite.Outcome o = eraseRows(t, slideId);
                                if (o.partitions() > 0) {
                                    IcebergPartitionRewrite.keepOnlyCurrentSnapshot(t);
                                }
                                return o;
                            });
            if (outcome.rowsDropped() > 0) {
                removed.add("iceberg " + name + ": " + outcome.rowsDropped() + " rows");
            }
        }
        String compaction = "";
        MilvusClientV2 client = MilvusCollectionAdmin.connect(milvus);
        try (MilvusStoreReader reader = MilvusStoreReader.open(milvus)) {
            String filter = MilvusCollections.SLIDE_ID + " == " + MilvusStoreReader.quote(slideId);
            for (String base : List.of(milvus.tilesCollection(), milvus.slidesCollection())) {
                for (String collection : MilvusCollectionAdmin.family(client, base)) {
                    long n = reader.countWhere(collection, filter);
                    if (n == 0) {
                        continue;
                    }
                    client.delete(
                            DeleteReq.builder().collectionName(collection).filter(filter).build());
                    removed.add("milvus " + collection + ": " + n + " entities");
                    compaction = compact(client, collection);
                }
            }
        } finally {
            client.close();
        }
        if (!removed.isEmpty()) {
            record(
                    iceberg,
                    slideId,
                    requestedBy,
                    reason,
                    String.join("; ", removed) + "; " + planner);
        }
        return new Erased(List.copyOf(removed), compaction, planner, plannerFailure);
    }

    /** Rewrites the partitions of {@code table} that hold the slide, without its rows. */
    private static IcebergPartitionRewrite.Outcome eraseRows(Table table, String slideId) {
        return IcebergPartitionRewrite.retrying(
                3,
                () ->
                        IcebergPartitionRewrite.rewritePartitionsHolding(
                                table,
                                "slide_id",
                                slideId,
                                row -> !slideId.equals(row.getField("slide_id"))));
    }

    /**
     * Asks Milvus to compact {@code collection}, which drops deleted entities from its segments;
     * what happened, in words (Milvus Lite does not compact on request).
     */
    private static String compact(MilvusClientV2 client, String collection) {
        try {
            client.compact(CompactReq.builder().collectionName(collection).build());
            return "compaction requested";
        } catch (RuntimeException e) {
            return "this Milvus does not compact on request ("
                    + e.getMessage()
                    + "); its own compaction drops the deleted entities";
        }
    }

    private static void record(
            IcebergConfig iceberg,
            String slideId,
            String requestedBy,
            String reason,
            String removed) {
        IcebergCatalogs.ensureTable(iceberg, IcebergTables.ERASURES_TABLE, IcebergTables.ERASURES);
        IcebergCatalogs.withTable(
                iceberg,
                IcebergTables.ERASURES,
                table -> {
                    append(table, slideId, requestedBy, reason, removed);
                    return null;
                });
    }

    private static void append(
            Table table, String slideId, String requestedBy, String reason, String removed) {
        Record row = GenericRecord.create(table.schema());
        row.setField("erased_at", OffsetDateTime.now(ZoneOffset.UTC));
        row.setField("slide_sha256", sha256(slideId));
        row.setField("requested_by", requestedBy);
        row.setField("reason", reason);
        row.setField("removed", removed);
        OutputFileFactory files =
                OutputFileFactory.builderFor(table, 1, System.currentTimeMillis())
                        .format(FileFormat.PARQUET)
                        .build();
        DataWriter<Record> writer =
                new GenericAppenderFactory(table.schema(), table.spec())
                        .newDataWriter(files.newOutputFile(), FileFormat.PARQUET, null);
        try (writer) {
            writer.write(row);
        } catch (IOException e) {
            throw new UncheckedIOException("writing the erasure record failed", e);
        }
        table.newAppend().appendFile(writer.toDataFile()).commit();
    }

    /** The hex SHA-256 of {@code slideId}: how the erasure record names the slide. */
    public static String sha256(String slideId) {
        try {
            return HexFormat.of()
                    .formatHex(
                            MessageDigest.getInstance("SHA-256")
                                    .digest(slideId.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
