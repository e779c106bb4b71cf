package io.slidestream.aggregate;

import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * Configuration keys of the slide window and the slide aggregate ({@code aggregate.*}). Read once
 * into an {@link AggregateConfig}, which validates them.
 */
public final class AggregateOptions {

    public static final ConfigOption<Duration> SLIDE_TIMEOUT =
            ConfigOptions.key("aggregate.slide-timeout")
                    .durationType()
                    .defaultValue(Duration.ofHours(1))
                    .withDescription(
                            "How long a slide may go without a new tile (processing time, from"
                                    + " its first tile on) before the slide window gives up"
                                    + " waiting and emits a partial result (complete = false,"
                                    + " incomplete_reason STALLED) from the tiles it has. Time a"
                                    + " slide waits behind other slides does not count: its"
                                    + " timeout starts with its first tile, and the tile tasks in"
                                    + " flight are bounded (tiling.max-tiles-in-flight). Tiles"
                                    + " that fail to be read or embedded do not wait for it: they"
                                    + " count as arrived, so such a slide closes at once (an"
                                    + " incomplete result of its embedded tiles, or none if no"
                                    + " tile was embedded; the failure goes to the dead letter).");

    public static final ConfigOption<Duration> SLIDE_MAX_DURATION =
            ConfigOptions.key("aggregate.slide-max-duration")
                    .durationType()
                    .defaultValue(Duration.ofHours(24))
                    .withDescription(
                            "The longest a slide may stay open, from its first tile, even while"
                                    + " its tiles keep arriving: then it is emitted as a partial"
                                    + " result (incomplete_reason MAX_DURATION). At least"
                                    + " aggregate.slide-timeout; must exceed the time the largest"
                                    + " slide takes to embed.");

    public static final ConfigOption<Duration> DONE_RETENTION =
            ConfigOptions.key("aggregate.done-retention")
                    .durationType()
                    .defaultValue(Duration.ofHours(1))
                    .withDescription(
                            "How long the window remembers that a slide was emitted, so that tiles"
                                    + " of that slide arriving afterwards (stragglers after a"
                                    + " timeout, replays) are dropped instead of opening a second"
                                    + " window. A re-announced slide (another scanned_at) always"
                                    + " starts afresh. 0 forgets a slide as soon as it is emitted.");

    public static final ConfigOption<Integer> TOP_K =
            ConfigOptions.key("aggregate.top-k")
                    .intType()
                    .defaultValue(16)
                    .withDescription(
                            "How many tiles with the highest ABMIL attention the slide result"
                                    + " lists (x, y, attention), highest first. 0 lists none.");

    public static final ConfigOption<Boolean> LIVE_HEADS =
            ConfigOptions.key("aggregate.live-heads")
                    .booleanType()
                    .defaultValue(true)
                    .withDescription(
                            "Whether the heads deployed on kafka.topic.heads (`heads deploy`)"
                                    + " predict for every later slide beside the job's own slide"
                                    + " head, without a restart. Each completed slide's bag (N x D"
                                    + " floats) then goes once more to the live-heads operator;"
                                    + " false saves that copy when no head will be deployed.");

    public static final ConfigOption<List<String>> TISSUE_CLASSES =
            ConfigOptions.key("aggregate.tissue-classes")
                    .stringType()
                    .asList()
                    .noDefaultValue()
                    .withDescription(
                            "Labels of the tile head's classes, in output order (for example from"
                                    + " the model card), separated by ';'. Used to label the tissue"
                                    + " composition; when unset the classes are called class_0,"
                                    + " class_1, ...");

    private AggregateOptions() {}
}
