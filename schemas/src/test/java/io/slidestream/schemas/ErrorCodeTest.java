package io.slidestream.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import io.slidestream.schemas.ErrorCode.Disposition;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every code says what is done with it, in one place. */
class ErrorCodeTest {

    @Test
    void onlyTheInfrastructuresCodesFailOverAndTheServiceAnswersThem503() {
        List<ErrorCode> failOver =
                Arrays.stream(ErrorCode.values()).filter(ErrorCode::failsOver).toList();
        assertThat(failOver)
                .containsExactlyInAnyOrder(
                        ErrorCode.STORE_UNAVAILABLE,
                        ErrorCode.ENGINE_FAILED,
                        ErrorCode.OPENSLIDE_UNAVAILABLE);
        assertThat(failOver).allSatisfy(code -> assertThat(code.httpStatus()).isEqualTo(503));
    }

    @Test
    void aSlidesOwnOutcomesAreRecordedAndAnsweredAsTheRequestsFault() {
        assertThat(ErrorCode.CORRUPT_SLIDE.disposition()).isEqualTo(Disposition.SLIDE_OUTCOME);
        assertThat(ErrorCode.SLIDE_NOT_FOUND.httpStatus()).isEqualTo(404);
        assertThat(ErrorCode.ACCESS_DENIED.httpStatus()).isEqualTo(403);
        assertThat(ErrorCode.INVALID_REQUEST.httpStatus()).isEqualTo(400);
        assertThat(ErrorCode.INVALID_CONFIG.disposition()).isEqualTo(Disposition.CONFIGURATION);
        assertThat(ErrorCode.values())
                .allSatisfy(
                        code -> assertThat(code.httpStatus()).as("%s", code).isBetween(400, 599));
    }
}
