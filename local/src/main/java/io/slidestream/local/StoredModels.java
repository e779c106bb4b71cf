package io.slidestream.local;

import io.milvus.v2.client.MilvusClientV2;
import io.milvus.v2.service.vector.request.DeleteReq;
import io.slidestream.errors.SlideStreamException;
import io.slidestream.schemas.ErrorCode;
import io.slidestream.schemas.milvus.MilvusCollections;
import io.slidestream.sink.CurrentModel;
import io.slidestream.sink.IcebergCatalogs;
import io.slidestream.sink.IcebergConfig;
import io.slidestream.sink.IcebergRowDeletes;
import io.slidestream.sink.IcebergTableReader;
import io.slidestream.sink.MilvusCollectionAdmin;
import io.slidestream.sink.MilvusConfig;
import io.slidestream.sink.MilvusStoreReader;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.iceberg.data.Record;

/**
 * What each model holds in the stores, read back from them, and its removal ({@link #drop}): slides
 * with a result, result rows (one per slide and head), errors and tile rows in Iceberg, tile
 * vectors in Milvus, and whether it is the {@linkplain CurrentModel current} model.
 */
public final class StoredModels {

    /** One model's holdings. */
    public record Holdings(
            String modelId,
            long slides,
            long results,
            long errors,
            long tileRows,
            long vectors,
            boolean current) {}

    private StoredModels() {}

    /** Every model with a result or an error in the stores, in id order. */
    public static List<Holdings> list(IcebergConfig iceberg, MilvusConfig milvus) {
        Set<String> ids = new TreeSet<>();
        for (String table : List.of(iceberg.slidesTable(), iceberg.errorsTable())) {
            for (Record row : IcebergTableReader.rows(iceberg, table, "model_id")) {
                Object id = row.getField("model_id");
                if (id != null && !id.toString().isEmpty()) {
                    ids.add(id.toString());
                }
            }
        }
        List<Holdings> all = new ArrayList<>();
        try (MilvusStoreReader reader = MilvusStoreReader.open(milvus)) {
            Optional<String> current = CurrentModel.read(iceberg);
            for (String id : ids) {
                all.add(of(iceberg, milvus, reader, id, current));
            }
        }
        return all;
    }

    /** The holdings of {@code modelId}. */
    public static Holdings of(IcebergConfig iceberg, MilvusConfig milvus, String modelId) {
        try (MilvusStoreReader reader = MilvusStoreReader.open(milvus)) {
            return of(iceberg, milvus, reader, modelId, CurrentModel.read(iceberg));
        }
    }

    private static Holdings of(
            IcebergConfig iceberg,
            MilvusConfig milvus,
            MilvusStoreReader reader,
            String modelId,
            Optional<String> current) {
        List<Record> results = rows(iceberg, iceberg.slidesTable(), modelId);
        Set<String> slides = new HashSet<>();
        results.forEach(r -> slides.add((String) r.getField("slide_id")));
        long vectors = reader.countModel(milvus.tilesCollection(), modelId);
        return new Holdings(
                modelId,
                slides.size(),
                results.size(),
                rows(iceberg, iceberg.errorsTable(), modelId).size(),
                rows(iceberg, iceberg.tilesTable(), modelId).size(),
                vectors,
                current.map(modelId::equals).orElse(false));
    }

    private static List<Record> rows(IcebergConfig iceberg, String table, String modelId) {
        return IcebergCatalogs.withTable(
                iceberg,
                table,
                t -> IcebergTableReader.rowsWhere(t, "model_id", modelId, "slide_id", "model_id"));
    }

    /**
     * Removes model {@code modelId} from the stores: its entities from every tiles and slides
     * collection of Milvus (deleted by filter) and its rows from the three Iceberg tables ({@link
     * IcebergRowDeletes}: row-level deletes; the bytes go with a rewrite).
     *
     * @throws SlideStreamException {@code INVALID_REQUEST} for the current model (promote another
     *     first)
     */
    public static void drop(IcebergConfig iceberg, MilvusConfig milvus, String modelId) {
        if (CurrentModel.read(iceberg).map(modelId::equals).orElse(false)) {
            throw new SlideStreamException(
                    ErrorCode.INVALID_REQUEST,
                    "model "
                            + modelId
                            + " is the current model: promote another one first (`slidestream"
                            + " models promote ID`)");
        }
        // Iceberg first: a failure there leaves the vectors, which a second drop removes.
        for (String table :
                List.of(iceberg.tilesTable(), iceberg.slidesTable(), iceberg.errorsTable())) {
            IcebergCatalogs.withTable(
                    iceberg, table, t -> IcebergRowDeletes.deleteWhere(t, "model_id", modelId));
        }
        MilvusClientV2 client = MilvusCollectionAdmin.connect(milvus);
        try {
            String filter = MilvusCollections.MODEL_ID + " == " + MilvusStoreReader.quote(modelId);
            for (String base : List.of(milvus.tilesCollection(), milvus.slidesCollection())) {
                for (String collection : MilvusCollectionAdmin.family(client, base)) {
                    client.delete(
                            DeleteReq.builder().collectionName(collection).filter(filter).build());
                }
            }
        } finally {
            client.close();
        }
    }
}
