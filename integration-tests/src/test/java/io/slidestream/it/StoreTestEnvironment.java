package io.slidestream.it;

import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** The Flink environment of the store ITCases: checkpoints on, a bounded restart strategy. */
final class StoreTestEnvironment {

    private StoreTestEnvironment() {}

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
