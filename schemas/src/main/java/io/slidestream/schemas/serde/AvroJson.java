package io.slidestream.schemas.serde;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificData;

/**
 * Plain JSON for Avro records, driven by the schema. Avro's own JSON encoding ({@code JsonEncoder})
 * is exact but hostile to people: every union value is wrapped ({@code {"string": "x"}}), optional
 * fields cannot be left out and timestamps are bare numbers. This form is what someone types into
 * {@code kafka-console-producer}:
 *
 * <pre>{"slide_id": "s1", "uri": "/data/s1.svs", "scanned_at": "2026-11-22T10:00:00Z",
 *  "scanner_id": "aperio-1", "stain": "H&E"}</pre>
 *
 * <p>Rules: field names as in the schema; a field with a default may be left out; a nullable field
 * takes a plain value or null; {@code timestamp-millis} takes an ISO-8601 instant or epoch
 * milliseconds and is written as ISO-8601; unknown fields are an error that lists the known ones (a
 * typo must not silently drop data). Supports the types the SlideStream events use: records,
 * strings, booleans, int, long, float, double, arrays, string maps and null unions.
 */
final class AvroJson {
    private static final ObjectMapper MAPPER =
            new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private AvroJson() {}

    static String write(IndexedRecord record, boolean pretty) {
        JsonNode node = toNode(record, record.getSchema());
        try {
            return pretty
                    ? MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node)
                    : MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Cannot write a JSON tree: " + e.getMessage(), e);
        }
    }

    static Object read(String json, Schema schema, SpecificData model)
            throws JsonProcessingException {
        JsonNode root = MAPPER.readTree(json);
        if (root == null || root.isMissingNode()) {
            throw new IllegalArgumentException("the value holds no JSON");
        }
        return fromNode(root, schema, model, "");
    }

    private static JsonNode toNode(Object value, Schema schema) {
        if (value == null) {
            return NODES.nullNode();
        }
        switch (schema.getType()) {
            case RECORD:
                IndexedRecord record = (IndexedRecord) value;
                ObjectNode object = NODES.objectNode();
                for (Schema.Field field : schema.getFields()) {
                    object.set(field.name(), toNode(record.get(field.pos()), field.schema()));
                }
                return object;
            case UNION:
                return toNode(value, nonNullBranch(schema, ""));
            case ARRAY:
                ArrayNode array = NODES.arrayNode();
                for (Object item : (Iterable<?>) value) {
                    array.add(toNode(item, schema.getElementType()));
                }
                return array;
            case MAP:
                ObjectNode map = NODES.objectNode();
                for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                    map.set(e.getKey().toString(), toNode(e.getValue(), schema.getValueType()));
                }
                return map;
            case STRING:
            case ENUM:
                return NODES.textNode(value.toString());
            case BOOLEAN:
                return NODES.booleanNode((Boolean) value);
            case INT:
                return NODES.numberNode((Integer) value);
            case LONG:
                if (value instanceof Instant) {
                    return NODES.textNode(value.toString());
                }
                return NODES.numberNode((Long) value);
            case FLOAT:
                return NODES.numberNode((Float) value);
            case DOUBLE:
                return NODES.numberNode((Double) value);
            default:
                throw new IllegalArgumentException(
                        "plain JSON does not support Avro type " + schema.getType());
        }
    }

    private static Object fromNode(JsonNode node, Schema schema, SpecificData model, String path) {
        switch (schema.getType()) {
            case RECORD:
                return readRecord(node, schema, model, path);
            case UNION:
                if (node.isNull()) {
                    if (schema.getTypes().stream()
                            .noneMatch(s -> s.getType() == Schema.Type.NULL)) {
                        throw wrongType(path, "a value", node);
                    }
                    return null;
                }
                return fromNode(node, nonNullBranch(schema, path), model, path);
            case ARRAY:
                if (!node.isArray()) {
                    throw wrongType(path, "an array", node);
                }
                List<Object> list = new ArrayList<>(node.size());
                for (int i = 0; i < node.size(); i++) {
                    list.add(
                            fromNode(
                                    node.get(i),
                                    schema.getElementType(),
                                    model,
                                    path + "[" + i + "]"));
                }
                return list;
            case MAP:
                if (!node.isObject()) {
                    throw wrongType(path, "an object", node);
                }
                Map<String, Object> map = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    map.put(
                            e.getKey(),
                            fromNode(
                                    e.getValue(),
                                    schema.getValueType(),
                                    model,
                                    path + "." + e.getKey()));
                }
                return map;
            case STRING:
                if (!node.isTextual()) {
                    throw wrongType(path, "a string", node);
                }
                return node.textValue();
            case BOOLEAN:
                if (!node.isBoolean()) {
                    throw wrongType(path, "true or false", node);
                }
                return node.booleanValue();
            case INT:
                if (!node.isIntegralNumber() || !node.canConvertToInt()) {
                    throw wrongType(path, "a 32-bit integer", node);
                }
                return node.intValue();
            case LONG:
                return readLong(node, schema, path);
            case FLOAT:
                if (!node.isNumber()) {
                    throw wrongType(path, "a number", node);
                }
                return node.floatValue();
            case DOUBLE:
                if (!node.isNumber()) {
                    throw wrongType(path, "a number", node);
                }
                return node.doubleValue();
            default:
                throw new IllegalArgumentException(
                        "plain JSON does not support Avro type "
                                + schema.getType()
                                + " at "
                                + path);
        }
    }

    private static Object readRecord(
            JsonNode node, Schema schema, SpecificData model, String path) {
        if (!node.isObject()) {
            throw wrongType(path.isEmpty() ? schema.getName() : path, "a JSON object", node);
        }
        TreeSet<String> unknown = new TreeSet<>();
        node.fieldNames().forEachRemaining(unknown::add);
        IndexedRecord record = (IndexedRecord) model.newRecord(null, schema);
        for (Schema.Field field : schema.getFields()) {
            unknown.remove(field.name());
            String fieldPath = path.isEmpty() ? field.name() : path + "." + field.name();
            JsonNode value = node.get(field.name());
            if (value == null) {
                if (!field.hasDefaultValue()) {
                    throw new IllegalArgumentException(
                            "required field '" + fieldPath + "' is missing");
                }
                record.put(
                        field.pos(), model.deepCopy(field.schema(), model.getDefaultValue(field)));
                continue;
            }
            record.put(field.pos(), fromNode(value, field.schema(), model, fieldPath));
        }
        if (!unknown.isEmpty()) {
            List<String> known = new ArrayList<>();
            schema.getFields().forEach(f -> known.add(f.name()));
            throw new IllegalArgumentException(
                    "unknown field(s) "
                            + unknown
                            + (path.isEmpty() ? "" : " in '" + path + "'")
                            + "; "
                            + schema.getName()
                            + " has "
                            + known);
        }
        return record;
    }

    private static Object readLong(JsonNode node, Schema schema, String path) {
        LogicalType logical = schema.getLogicalType();
        boolean timestamp = logical instanceof LogicalTypes.TimestampMillis;
        if (timestamp && node.isTextual()) {
            try {
                // Millisecond precision is what the schema stores.
                return Instant.ofEpochMilli(Instant.parse(node.textValue()).toEpochMilli());
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(
                        "field '"
                                + path
                                + "' = \""
                                + node.textValue()
                                + "\" is not an ISO-8601 instant (e.g. 2026-11-22T10:00:00Z)");
            }
        }
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
            throw wrongType(
                    path,
                    timestamp ? "an ISO-8601 instant or epoch milliseconds" : "a 64-bit integer",
                    node);
        }
        return timestamp ? Instant.ofEpochMilli(node.longValue()) : node.longValue();
    }

    private static Schema nonNullBranch(Schema union, String path) {
        Schema branch = null;
        for (Schema s : union.getTypes()) {
            if (s.getType() != Schema.Type.NULL) {
                if (branch != null) {
                    throw new IllegalArgumentException(
                            "plain JSON supports only [null, T] unions, not "
                                    + union
                                    + " at "
                                    + path);
                }
                branch = s;
            }
        }
        return branch;
    }

    private static IllegalArgumentException wrongType(String path, String expected, JsonNode node) {
        String shown = node.toString();
        if (shown.length() > 60) {
            shown = shown.substring(0, 57) + "...";
        }
        return new IllegalArgumentException(
                "field '" + path + "' must be " + expected + ", not " + shown);
    }
}
