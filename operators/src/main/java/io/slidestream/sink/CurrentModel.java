package io.slidestream.sink;

import java.util.Optional;

/**
 * Which model is the archive's current one: the model whose vectors search, {@code serve} and the
 * dashboard use when no model id is given. Kept as a property of the Iceberg {@code slides} table
 * ({@value #PROPERTY}) and switched in one catalog commit, so every reader sees the old or the new
 * model, never a mix - the contract of a Milvus alias, which Milvus Lite (the embedded stack's
 * server) does not implement. Engines read it with {@code SHOW TBLPROPERTIES slides}.
 */
public final class CurrentModel {

    /** The table property that names the current model. */
    public static final String PROPERTY = "slidestream.current-model";

    private CurrentModel() {}

    /** The current model's id, if one was promoted. */
    public static Optional<String> read(IcebergConfig config) {
        return IcebergCatalogs.withTable(
                config,
                config.slidesTable(),
                table -> {
                    table.refresh();
                    return Optional.ofNullable(table.properties().get(PROPERTY));
                });
    }

    /** Makes {@code modelId} the current model (one commit). */
    public static void promote(IcebergConfig config, String modelId) {
        IcebergCatalogs.withTable(
                config,
                config.slidesTable(),
                table -> {
                    table.updateProperties().set(PROPERTY, modelId).commit();
                    return null;
                });
    }

    /** No current model any more, if it was {@code modelId} (the model was dropped). */
    public static void forget(IcebergConfig config, String modelId) {
        IcebergCatalogs.withTable(
                config,
                config.slidesTable(),
                table -> {
                    table.refresh();
                    if (modelId.equals(table.properties().get(PROPERTY))) {
                        table.updateProperties().remove(PROPERTY).commit();
                    }
                    return null;
                });
    }
}
