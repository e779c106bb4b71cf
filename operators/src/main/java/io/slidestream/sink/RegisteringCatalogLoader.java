package io.slidestream.sink;

import java.util.Objects;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.flink.CatalogLoader;

/**
 * A {@link CatalogLoader} that registers the job's JDBC drivers ({@link JdbcDrivers}) before it
 * loads a catalog, wherever that happens: in the job's {@code main} on the JobManager and in the
 * Iceberg sink's writers and committers on the TaskManagers.
 */
final class RegisteringCatalogLoader implements CatalogLoader {
    private static final long serialVersionUID = 1L;

    private final CatalogLoader delegate;

    RegisteringCatalogLoader(CatalogLoader delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    @Override
    public Catalog loadCatalog() {
        JdbcDrivers.register();
        return delegate.loadCatalog();
    }

    @Override
    public CatalogLoader clone() {
        return new RegisteringCatalogLoader(delegate.clone());
    }

    @Override
    public String toString() {
        return delegate.toString();
    }
}
