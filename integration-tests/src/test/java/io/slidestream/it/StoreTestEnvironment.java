package io.slidestream.it;

import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

/**
 * The Flink side of the ITCases: their MiniCluster and the environment of the store ITCases
 * (checkpoints on, a bounded restart strategy).
 */
final class StoreTestEnvironment {

    private StoreTestEnvironment() {}

    /**
     * One TaskManager with two slots. The ITCases of a run share one JVM, and a library's static
     * thread pool started by one job's task (Iceberg's worker pool) keeps that job's class loader
     * wrapper as its threads' context class loader; on a MiniCluster that wrapper only wraps the
     * application's own loader, so its leak check is off, as in {@code demo} and {@code run}.
     */
    static MiniClusterExtension miniCluster() {
        Configuration conf = new Configuration();
        conf.set(CoreOptions.CHECK_LEAKED_CLASSLOADER, false);
        return new MiniClusterExtension(
                new MiniClusterResourceConfiguration.Builder()
                        .setNumberTaskManagers(1)
                        .setNumberSlotsPerTaskManager(2)
                        .setConfiguration(conf)
                        .build());
    }

    static StreamExecutionEnvironment create(int parallelism) {
        Configuration conf = new Configuration();
        // With checkpointing on, a failing job would otherwise restart forever and hang the test.
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 2);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        env.enableCheckpointing(300);
        return env;
    }
}
