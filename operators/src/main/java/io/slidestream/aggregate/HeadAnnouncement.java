package io.slidestream.aggregate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * A slide head put live, or retired, in a running job: a record of {@code kafka.topic.heads} (JSON,
 * key head_id) that {@code heads deploy} and {@code heads retire} write. {@code path} is where
 * every TaskManager reads {@code head.onnx} (shared storage, as slide files); its card {@code
 * head.json} lies beside it. A Flink POJO: it lives in the job's broadcast state.
 */
public class HeadAnnouncement {
    private static final ObjectMapper JSON = new ObjectMapper();

    public String headId;
    public String modelId;
    public int dimension;
    public String path;
    public boolean retired;
    public long announcedAtMillis;

    public HeadAnnouncement() {}

    public static HeadAnnouncement deploy(
            String headId, String modelId, int dimension, String path, long atMillis) {
        HeadAnnouncement a = new HeadAnnouncement();
        a.headId = headId;
        a.modelId = modelId;
        a.dimension = dimension;
        a.path = path;
        a.announcedAtMillis = atMillis;
        return a;
    }

    public static HeadAnnouncement retire(String headId, long atMillis) {
        HeadAnnouncement a = new HeadAnnouncement();
        a.headId = headId;
        a.retired = true;
        a.announcedAtMillis = atMillis;
        return a;
    }

    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("head_id", headId);
        o.put("retired", retired);
        o.put("announced_at_millis", announcedAtMillis);
        if (!retired) {
            o.put("model_id", modelId);
            o.put("dimension", dimension);
            o.put("path", path);
        }
        return o.toString();
    }

    /**
     * Parses one record of the topic.
     *
     * @throws IllegalArgumentException saying what is wrong with it
     */
    public static HeadAnnouncement parse(String json) {
        JsonNode o;
        try {
            o = JSON.readTree(json == null ? "" : json);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage());
        }
        if (o == null || !o.isObject() || !o.path("head_id").isTextual()) {
            throw new IllegalArgumentException("no head_id");
        }
        long at = o.path("announced_at_millis").asLong();
        if (o.path("retired").asBoolean()) {
            return retire(o.get("head_id").asText(), at);
        }
        if (!o.path("model_id").isTextual()
                || !o.path("path").isTextual()
                || o.path("dimension").asInt() <= 0) {
            throw new IllegalArgumentException("a deployment needs model_id, dimension and path");
        }
        return deploy(
                o.get("head_id").asText(),
                o.get("model_id").asText(),
                o.get("dimension").asInt(),
                o.get("path").asText(),
                at);
    }

    @Override
    public String toString() {
        return retired ? "retire " + headId : headId + " (" + modelId + ", " + path + ")";
    }
}
