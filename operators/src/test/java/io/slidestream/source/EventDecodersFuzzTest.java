package io.slidestream.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.slidestream.aggregate.HeadAnnouncement;
import io.slidestream.schemas.avro.SlideFailed;
import io.slidestream.schemas.avro.SlideScanned;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Whatever bytes arrive on the topics, the decoders answer with a value or a dead letter, never an
 * exception that would fail the job over: {@link SlideScannedDeserializer} emits exactly one
 * element per record (a valid event, or a {@code MALFORMED_EVENT} dead letter naming the record),
 * and {@link HeadAnnouncement#parse} returns or refuses with {@link IllegalArgumentException}.
 */
class EventDecodersFuzzTest {
    private final SlideScannedDeserializer deserializer = new SlideScannedDeserializer();

    @FuzzTest(maxExecutions = 120_000, maxDuration = "3m")
    void decodersAnswerEveryRecord(byte[] value) throws Exception {
        List<Either<SlideFailed, SlideScanned>> out = new ArrayList<>();
        deserializer.deserialize(
                new ConsumerRecord<>("slides.scanned", 3, 42L, null, value),
                new Collector<>() {
                    @Override
                    public void collect(Either<SlideFailed, SlideScanned> element) {
                        out.add(element);
                    }

                    @Override
                    public void close() {}
                });
        assertThat(out).hasSize(1);
        if (out.get(0).isLeft()) {
            SlideFailed failed = out.get(0).left();
            assertThat(failed.getCode()).isEqualTo("MALFORMED_EVENT");
            assertThat(failed.getSlideId()).isEqualTo("kafka:slides.scanned:3:42");
        } else {
            assertThat(out.get(0).right().getSlideId()).isNotBlank();
        }
        try {
            HeadAnnouncement parsed =
                    HeadAnnouncement.parse(new String(value, StandardCharsets.UTF_8));
            assertThat(parsed.headId).isNotNull();
        } catch (IllegalArgumentException refused) {
            assertThat(refused.getMessage()).isNotBlank();
        }
    }
}
