package io.slidestream.it;

import io.slidestream.job.SlideStreamJob;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;
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
     * One TaskManager with two slots, with the local cluster settings of {@code demo} and {@code
     * run} ({@link SlideStreamJob#localClusterSettings}).
     */
    static MiniClusterExtension miniCluster() {
        return miniCluster(new Configuration());
    }

    /** The same, with {@code extra} settings. */
    static MiniClusterExtension miniCluster(Configuration extra) {
        Configuration conf = SlideStreamJob.localClusterSettings(new Configuration());
        conf.addAll(extra);
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
