package io.slidestream.sink;

import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the JDBC drivers in SlideStream's own class loader usable by {@link DriverManager}.
 *
 * <p>{@code DriverManager} loads the drivers of the class path once per JVM, through whichever
 * class loader first asks, and then only hands a caller the drivers its class loader can see as the
 * same class. On a session cluster every job has a class loader of its own: the second job's JDBC
 * catalog found the first job's SQLite driver unusable and none of its own ("No suitable driver
 * found for jdbc:sqlite:..."). So before a JDBC catalog connects, the drivers of this class loader
 * are loaded (their static initialisers register them) and registered explicitly when that did not
 * happen; {@link io.slidestream.runtime.JobClassLoaderCleanup} deregisters them when the job
 * leaves.
 */
public final class JdbcDrivers {
    private static final Logger LOG = LoggerFactory.getLogger(JdbcDrivers.class);

    private JdbcDrivers() {}

    /** Registers every JDBC driver this class's loader provides and DriverManager lacks. */
    public static synchronized void register() {
        ClassLoader own = JdbcDrivers.class.getClassLoader();
        try {
            for (Driver driver : ServiceLoader.load(Driver.class, own)) {
                if (driver.getClass().getClassLoader() == own && !registered(driver.getClass())) {
                    DriverManager.registerDriver(driver);
                    LOG.info("Registered JDBC driver {}", driver.getClass().getName());
                }
            }
        } catch (ServiceConfigurationError | SQLException e) {
            LOG.warn(
                    "Could not register the JDBC drivers of the job's class loader: {}",
                    e.toString());
        }
    }

    private static boolean registered(Class<?> type) {
        var drivers = DriverManager.drivers().iterator();
        while (drivers.hasNext()) {
            if (drivers.next().getClass() == type) {
                return true;
            }
        }
        return false;
    }
}
