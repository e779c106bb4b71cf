package io.slidestream.aggregate;

import io.slidestream.schemas.avro.SlideResult;
import io.slidestream.types.SlideStreamTypes;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;

/**
 * A slide's result with the bag it was computed from, for the live heads behind the slide window:
 * {@code embeddings} row-major N x {@code dimension} in plan order, each row's level-0 {@code
 * coords} (x, y pairs) and plan index. A Flink POJO with an explicit type (never Kryo).
 */
public class SlideBagRecord {
    public SlideResult result;
    public float[] embeddings;
    public long[] coords;
    public int[] tileIndices;
    public int dimension;

    public SlideBagRecord() {}

    public static final TypeInformation<SlideBagRecord> TYPE =
            Types.POJO(
                    SlideBagRecord.class,
                    Map.of(
                            "result", SlideStreamTypes.SLIDE_RESULT,
                            "embeddings", Types.PRIMITIVE_ARRAY(Types.FLOAT),
                            "coords", Types.PRIMITIVE_ARRAY(Types.LONG),
                            "tileIndices", Types.PRIMITIVE_ARRAY(Types.INT),
                            "dimension", Types.INT));

    /** The number of tiles in the bag. */
    public int tiles() {
        return tileIndices.length;
    }
}
