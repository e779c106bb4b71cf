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
}
