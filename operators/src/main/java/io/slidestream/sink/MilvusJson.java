package io.slidestream.sink;

import com.google.gson.JsonArray;
import java.util.List;

/** Builds the JSON arrays the Milvus client takes for vectors and float arrays. */
final class MilvusJson {

    private MilvusJson() {}

    static JsonArray floats(float[] values) {
        JsonArray array = new JsonArray(values.length);
        for (float v : values) {
            array.add(v);
        }
        return array;
    }

    static JsonArray floats(List<Float> values) {
        JsonArray array = new JsonArray(values.size());
        for (Float v : values) {
            array.add(v);
        }
        return array;
    }

    /** Index of the largest value, -1 for an empty array (no head ran). */
    static int argmax(float[] values) {
        int best = -1;
        for (int i = 0; i < values.length; i++) {
            if (best < 0 || values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
