package io.slidestream.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.slidestream.sink.IcebergConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;

/**
 * What the Iceberg tables say about slides, for the feed and the dashboards: the slide list ({@code
 * GET /api/slides}, with status, prediction and tile counts, filters and paging), one slide ({@code
 * GET /api/slides/{id}}), its stored tiles ({@code GET /api/slides/{id}/tiles}, the viewer's
 * overlays), errors by code and day ({@code GET /api/errors}), throughput and event-to-result
 * latency over time ({@code GET /api/stats}) and the models with results ({@code GET /api/models}).
 * The {@code slides} and {@code slide_errors} rows are read once per table snapshot and kept until
 * the next commit; a slide's tiles are read with a filter on its id.
 */
final class SlideRoutes {
    static final int MAX_PAGE_SIZE = 500;
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** The slides columns the service reads (not the embeddings). */
    private static final String[] SLIDE_COLUMNS = {
        "slide_id",
        "uri",
        "model_id",
        "complete",
        "tile_count",
        "tiles_received",
        "scanned_at",
        "completed_at",
        "probabilities",
        "predicted_class",
        "tissue_composition",
        "top_tiles",
        "tile_attention",
        "head_id",
        "predicted_label"
    };

    /** How far back the feed looks for slides whose tiles are being stored. */
    static final Duration IN_PROGRESS_WINDOW = Duration.ofHours(6);

    private static final String IN_PROGRESS = "tiles written recently";

    private final ServeStores stores;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    private record Cached(long snapshotId, List<Record> rows) {}

    SlideRoutes(ServeStores stores) {
        this.stores = stores;
    }

    void register(Javalin app) {
        app.get("/api/slides", this::list);
        app.get("/api/slides/{id}", this::detail);
        app.get("/api/slides/{id}/tiles", this::tiles);
        app.get("/api/errors", this::errors);
        app.get("/api/stats", this::stats);
        app.get("/api/models", this::models);
    }

    /** One entry of the feed: a slide result, or a failure of a slide without a result. */
    private record Entry(
            String slideId,
            String uri,
            String status,
            String modelId,
            Integer predictedClass,
            String predictedLabel,
            String headId,
            Integer tileCount,
            Integer tilesReceived,
            Instant time,
            Long latencyMillis,
            String errorCode,
            String errorMessage) {}

    private void list(Context ctx) {
        String status = Params.optional(ctx, "status");
        if (status != null
                && !List.of("complete", "partial", "failed", "in_progress").contains(status)) {
            throw ApiError.badRequest(
                    "Query parameter 'status' takes complete, partial, failed or in_progress, got '"
                            + status
                            + "'");
        }
        String modelId = Params.optional(ctx, "model_id");
        Integer predicted = Params.optionalInt(ctx, "predicted_class");
        String q = Params.optional(ctx, "q");
        Instant from = Params.instant(ctx, "from", false);
        Instant to = Params.instant(ctx, "to", true);
        int page = Params.bounded(ctx, "page", 1, 1, Integer.MAX_VALUE);
        int pageSize = Params.bounded(ctx, "page_size", 50, 1, MAX_PAGE_SIZE);
        List<Entry> entries = new ArrayList<>();
        for (Entry e : feed()) {
            if ((status == null || status.equals(e.status()))
                    && (modelId == null || modelId.equals(e.modelId()))
                    && (predicted == null || predicted.equals(e.predictedClass()))
                    && (q == null
                            || e.slideId()
                                    .toLowerCase(Locale.ROOT)
                                    .contains(q.toLowerCase(Locale.ROOT)))
                    && (from == null || !e.time().isBefore(from))
                    && (to == null || e.time().isBefore(to))) {
                entries.add(e);
            }
        }
        ObjectNode root = JSON.objectNode();
        root.put("total", entries.size());
        root.put("page", page);
        root.put("page_size", pageSize);
        ArrayNode slides = root.putArray("slides");
        long first = (long) (page - 1) * pageSize;
        for (long i = first; i < Math.min(entries.size(), first + pageSize); i++) {
            slides.add(entryJson(entries.get((int) i)));
        }
        ServeJson.send(ctx, root);
    }

    /** Where slide {@code slideId} is, from its latest result or failure. */
    String uriOf(String slideId) {
        // A viewer asks for hundreds of Deep Zoom tiles per slide: answer from the last feed read
        // when it is recent, and read the tables again only for an unknown slide or an old map.
        UriMap map = uris;
        long now = System.nanoTime();
        String uri = map.uris.get(slideId);
        if (uri == null || now - map.readAtNanos > URI_MAP_MAX_AGE_NANOS) {
            Map<String, String> fresh = new java.util.HashMap<>();
            for (Entry e : feed()) {
                if (e.uri() != null) {
                    fresh.putIfAbsent(e.slideId(), e.uri()); // newest first
                }
            }
            uris = new UriMap(fresh, now);
            uri = fresh.get(slideId);
        }
        if (uri != null) {
            return uri;
        }
        throw ApiError.notFound(
                "SLIDE_NOT_FOUND",
                "No result and no error of slide '" + slideId + "' in the Iceberg tables");
    }

    /** How long {@link #uriOf} answers from a feed read without reading the tables again. */
    private static final long URI_MAP_MAX_AGE_NANOS = 30_000_000_000L;

    /** Slide id to URI from one read of the feed (newest scan first), and when it was read. */
    private record UriMap(Map<String, String> uris, long readAtNanos) {}

    private volatile UriMap uris = new UriMap(Map.of(), Long.MIN_VALUE / 2);

    /** Results and failures, newest first. */
    private List<Entry> feed() {
        IcebergConfig iceberg = stores.config().iceberg();
        List<Entry> entries = new ArrayList<>();
        // The latest scan each slide has a result or a failure of.
        Map<String, Instant> settled = new java.util.HashMap<>();
        // One entry per slide and model: its first result (the job's, written when the slide
        // completed) gives status, counts, time and latency; several heads' predictions share the
        // entry, which shows the newest (a head the lab re-scored with, over the job's own).
        Map<String, Record[]> firstAndNewest = new java.util.LinkedHashMap<>();
        for (Record r : rows(iceberg.slidesTable(), SLIDE_COLUMNS)) {
            firstAndNewest.merge(
                    r.getField("slide_id") + "\u0000" + r.getField("model_id"),
                    new Record[] {r, r},
                    (a, b) ->
                            new Record[] {
                                completed(b[0]).isBefore(completed(a[0])) ? b[0] : a[0],
                                completed(b[1]).isAfter(completed(a[1])) ? b[1] : a[1]
                            });
        }
        for (Record[] pair : firstAndNewest.values()) {
            Record r = pair[0];
            Record newest = pair[1];
            Instant scanned = instant(r.getField("scanned_at"));
            Instant completed = completed(r);
            boolean complete = (Boolean) r.getField("complete");
            settled.merge((String) r.getField("slide_id"), scanned, SlideRoutes::later);
            entries.add(
                    new Entry(
                            (String) r.getField("slide_id"),
                            (String) r.getField("uri"),
                            complete ? "complete" : "partial",
                            (String) r.getField("model_id"),
                            (Integer) newest.getField("predicted_class"),
                            label(newest),
                            (String) newest.getField("head_id"),
                            (Integer) r.getField("tile_count"),
                            (Integer) r.getField("tiles_received"),
                            completed,
                            Duration.between(scanned, completed).toMillis(),
                            null,
                            null));
        }
        for (Record r : rows(iceberg.errorsTable())) {
            String slideId = (String) r.getField("slide_id");
            Instant failed = instant(r.getField("failed_at"));
            if (settled.containsKey(slideId)) {
                continue;
            }
            settled.merge(slideId, failed, SlideRoutes::later);
            entries.add(
                    new Entry(
                            slideId,
                            (String) r.getField("uri"),
                            "failed",
                            null,
                            null,
                            null,
                            null,
                            null,
                            null,
                            instant(r.getField("failed_at")),
                            null,
                            (String) r.getField("code"),
                            (String) r.getField("message")));
        }
        entries.addAll(inProgress(settled));
        entries.sort(Comparator.comparing(Entry::time).reversed());
        return entries;
    }

    /**
     * Slides whose tiles are being stored: tiles written in the last {@link #IN_PROGRESS_WINDOW} of
     * a scan newer than the slide's last result or failure, with how many are stored so far
     * (Iceberg commits them on every checkpoint). Only recent data files are read: their written_at
     * statistics let the scan skip the rest.
     */
    private List<Entry> inProgress(Map<String, Instant> settled) {
        Table table = stores.table(stores.config().iceberg().tilesTable());
        Snapshot current = table.currentSnapshot();
        if (current == null) {
            return List.of();
        }
        Cached cached = cache.get(IN_PROGRESS);
        List<Record> rows;
        if (cached != null && cached.snapshotId() == current.snapshotId()) {
            rows = cached.rows();
        } else {
            rows = new ArrayList<>();
            long since = Instant.now().minus(IN_PROGRESS_WINDOW).toEpochMilli() * 1000;
            var scan =
                    IcebergGenerics.read(table)
                            .select("slide_id", "uri", "model_id", "tile_count", "scanned_at")
                            .where(Expressions.greaterThanOrEqual("written_at", since));
            try (CloseableIterable<Record> recent = scan.build()) {
                recent.forEach(r -> rows.add(r.copy()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            cache.put(IN_PROGRESS, new Cached(current.snapshotId(), rows));
        }
        Map<String, Entry> open = new java.util.LinkedHashMap<>();
        for (Record r : rows) {
            String slideId = (String) r.getField("slide_id");
            Instant scanned = instant(r.getField("scanned_at"));
            Instant last = settled.get(slideId);
            if (last != null && !scanned.isAfter(last)) {
                continue;
            }
            String key = slideId + "|" + r.getField("model_id") + "|" + scanned;
            Entry e = open.get(key);
            open.put(
                    key,
                    new Entry(
                            slideId,
                            (String) r.getField("uri"),
                            "in_progress",
                            (String) r.getField("model_id"),
                            null,
                            null,
                            null,
                            (Integer) r.getField("tile_count"),
                            e == null ? 1 : e.tilesReceived() + 1,
                            scanned,
                            null,
                            null,
                            null));
        }
        return new ArrayList<>(open.values());
    }

    /**
     * The name of the predicted class: as the head's card named it, else {@code class N} (rows
     * written before heads had names); null without a prediction.
     */
    private static String label(Record r) {
        Integer predicted = (Integer) r.getField("predicted_class");
        if (predicted == null || predicted < 0) {
            return null;
        }
        String label = (String) r.getField("predicted_label");
        return label == null || label.isEmpty() ? "class " + predicted : label;
    }

    private static Instant completed(Record r) {
        return instant(r.getField("completed_at"));
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static ObjectNode entryJson(Entry e) {
        ObjectNode o = JSON.objectNode();
        o.put("slide_id", e.slideId());
        o.put("uri", e.uri());
        o.put("status", e.status());
        o.put("model_id", e.modelId());
        o.put("predicted_class", e.predictedClass());
        o.put("predicted_label", e.predictedLabel());
        o.put("head_id", e.headId());
        o.put("tile_count", e.tileCount());
        o.put("tiles_received", e.tilesReceived());
        o.put("time", e.time().toString());
        o.put("latency_ms", e.latencyMillis());
        o.put("error_code", e.errorCode());
        o.put("error_message", e.errorMessage());
        return o;
    }

    private void detail(Context ctx) {
        String slideId = Params.slideId(ctx);
        IcebergConfig iceberg = stores.config().iceberg();
        ObjectNode root = JSON.objectNode();
        root.put("slide_id", slideId);
        ArrayNode results = root.putArray("results");
        String uri = null;
        List<String> classes = stores.config().aggregate().tissueClasses();
        List<Record> ofSlide = new ArrayList<>();
        for (Record r : rows(iceberg.slidesTable(), SLIDE_COLUMNS)) {
            if (slideId.equals(r.getField("slide_id"))) {
                ofSlide.add(r);
            }
        }
        // Newest prediction first: one result per model and head.
        ofSlide.sort(
                Comparator.comparing((Record r) -> instant(r.getField("completed_at"))).reversed());
        for (Record r : ofSlide) {
            uri = (String) r.getField("uri");
            ObjectNode o = results.addObject();
            o.put("model_id", (String) r.getField("model_id"));
            o.put("status", (Boolean) r.getField("complete") ? "complete" : "partial");
            o.put("tile_count", (Integer) r.getField("tile_count"));
            o.put("tiles_received", (Integer) r.getField("tiles_received"));
            o.put("predicted_class", (Integer) r.getField("predicted_class"));
            o.put("predicted_label", label(r));
            o.put("head_id", (String) r.getField("head_id"));
            ArrayNode p = o.putArray("probabilities");
            ((List<?>) r.getField("probabilities")).forEach(v -> p.add(((Number) v).floatValue()));
            ArrayNode composition = o.putArray("tissue_composition");
            for (Object c : (List<?>) r.getField("tissue_composition")) {
                Record cr = (Record) c;
                ObjectNode co = composition.addObject();
                co.put("label", (String) cr.getField("label"));
                co.put("fraction", (Float) cr.getField("fraction"));
            }
            ArrayNode top = o.putArray("top_tiles");
            for (Object t : (List<?>) r.getField("top_tiles")) {
                Record tr = (Record) t;
                ObjectNode to = top.addObject();
                to.put("x", (Long) tr.getField("x"));
                to.put("y", (Long) tr.getField("y"));
                to.put("attention", (Float) tr.getField("attention"));
            }
            ArrayNode attention = o.putArray("tile_attention");
            if (r.getField("tile_attention") instanceof List<?> values) {
                values.forEach(v -> attention.add(((Number) v).floatValue()));
            }
            o.put("scanned_at", instant(r.getField("scanned_at")).toString());
            o.put("completed_at", instant(r.getField("completed_at")).toString());
        }
        ArrayNode errors = root.putArray("errors");
        for (Record r : rows(iceberg.errorsTable())) {
            if (!slideId.equals(r.getField("slide_id"))) {
                continue;
            }
            uri = uri == null ? (String) r.getField("uri") : uri;
            ObjectNode o = errors.addObject();
            o.put("code", (String) r.getField("code"));
            o.put("message", (String) r.getField("message"));
            o.put("stage", (String) r.getField("stage"));
            o.put("failed_at", instant(r.getField("failed_at")).toString());
        }
        if (uri == null) {
            throw ApiError.notFound(
                    "SLIDE_NOT_FOUND",
                    "No result and no error of slide '" + slideId + "' in the Iceberg tables");
        }
        root.put("uri", uri);
        ArrayNode labels = root.putArray("tissue_classes");
        classes.forEach(labels::add);
        root.put("dzi", "/api/slides/" + ServeJson.urlEncode(slideId) + "/dzi");
        ServeJson.send(ctx, root);
    }

    /** The slide's stored tiles (no embeddings): positions, classes, tissue, for the overlays. */
    private void tiles(Context ctx) {
        String slideId = Params.slideId(ctx);
        String modelId = Params.optional(ctx, "model_id");
        Table table = stores.table(stores.config().iceberg().tilesTable());
        ObjectNode root = JSON.objectNode();
        root.put("slide_id", slideId);
        ArrayNode tiles = root.putArray("tiles");
        var scan =
                IcebergGenerics.read(table)
                        .select(
                                "slide_id",
                                "model_id",
                                "x",
                                "y",
                                "extent_px",
                                "level",
                                "read_px",
                                "tissue",
                                "predicted_class",
                                "tile_index")
                        .where(Expressions.equal("slide_id", slideId));
        try (CloseableIterable<Record> rows = scan.build()) {
            for (Record r : rows) {
                if (!slideId.equals(r.getField("slide_id"))
                        || (modelId != null && !modelId.equals(r.getField("model_id")))) {
                    continue;
                }
                ObjectNode o = tiles.addObject();
                o.put("model_id", (String) r.getField("model_id"));
                o.put("x", (Long) r.getField("x"));
                o.put("y", (Long) r.getField("y"));
                o.put("extent_px", (Long) r.getField("extent_px"));
                o.put("level", (Integer) r.getField("level"));
                o.put("read_px", (Integer) r.getField("read_px"));
                o.put("tissue", (Float) r.getField("tissue"));
                o.put("predicted_class", (Integer) r.getField("predicted_class"));
                o.put("tile_index", (Integer) r.getField("tile_index"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ServeJson.send(ctx, root);
    }

    private void errors(Context ctx) {
        Instant from = Params.instant(ctx, "from", false);
        Instant to = Params.instant(ctx, "to", true);
        Map<String, Map<String, Integer>> byDay = new TreeMap<>();
        List<Record> recent = new ArrayList<>();
        for (Record r : rows(stores.config().iceberg().errorsTable())) {
            Instant at = instant(r.getField("failed_at"));
            if ((from != null && at.isBefore(from)) || (to != null && !at.isBefore(to))) {
                continue;
            }
            String day = at.atOffset(ZoneOffset.UTC).toLocalDate().toString();
            byDay.computeIfAbsent(day, d -> new TreeMap<>())
                    .merge((String) r.getField("code"), 1, Integer::sum);
            recent.add(r);
        }
        recent.sort(
                Comparator.comparing((Record r) -> instant(r.getField("failed_at"))).reversed());
        ObjectNode root = JSON.objectNode();
        ArrayNode days = root.putArray("by_code_and_day");
        byDay.forEach(
                (day, codes) ->
                        codes.forEach(
                                (code, n) -> {
                                    ObjectNode o = days.addObject();
                                    o.put("day", day);
                                    o.put("code", code);
                                    o.put("count", n);
                                }));
        ArrayNode list = root.putArray("recent");
        for (Record r : recent.subList(0, Math.min(100, recent.size()))) {
            ObjectNode o = list.addObject();
            o.put("slide_id", (String) r.getField("slide_id"));
            o.put("uri", (String) r.getField("uri"));
            o.put("code", (String) r.getField("code"));
            o.put("message", (String) r.getField("message"));
            o.put("stage", (String) r.getField("stage"));
            o.put("failed_at", instant(r.getField("failed_at")).toString());
        }
        ServeJson.send(ctx, root);
    }

    /** Slides and tiles per hour (or day) and the event-to-result latency in each. */
    private void stats(Context ctx) {
        String bucket = Params.optional(ctx, "bucket");
        ChronoUnit unit;
        if (bucket == null || bucket.equals("hour")) {
            unit = ChronoUnit.HOURS;
        } else if (bucket.equals("day")) {
            unit = ChronoUnit.DAYS;
        } else if (bucket.equals("minute")) {
            unit = ChronoUnit.MINUTES;
        } else {
            throw ApiError.badRequest(
                    "Query parameter 'bucket' takes minute, hour or day, got '" + bucket + "'");
        }
        Map<Instant, List<Record>> buckets = new TreeMap<>();
        for (Record r : firstResults()) {
            Instant completed = instant(r.getField("completed_at"));
            buckets.computeIfAbsent(completed.truncatedTo(unit), b -> new ArrayList<>()).add(r);
        }
        ObjectNode root = JSON.objectNode();
        root.put("bucket", unit.toString().toLowerCase(Locale.ROOT));
        ArrayNode series = root.putArray("series");
        buckets.forEach(
                (start, rows) -> {
                    long tiles = 0;
                    int partial = 0;
                    long[] latencies = new long[rows.size()];
                    for (int i = 0; i < rows.size(); i++) {
                        Record r = rows.get(i);
                        tiles += (Integer) r.getField("tiles_received");
                        partial += (Boolean) r.getField("complete") ? 0 : 1;
                        latencies[i] =
                                Duration.between(
                                                instant(r.getField("scanned_at")),
                                                instant(r.getField("completed_at")))
                                        .toMillis();
                    }
                    java.util.Arrays.sort(latencies);
                    ObjectNode o = series.addObject();
                    o.put("start", start.toString());
                    o.put("slides", rows.size());
                    o.put("partial", partial);
                    o.put("tiles", tiles);
                    o.put("latency_ms_p50", percentile(latencies, 0.5));
                    o.put("latency_ms_p95", percentile(latencies, 0.95));
                });
        ServeJson.send(ctx, root);
    }

    /**
     * The first result of each slide and model: the job's own, written when the slide completed;
     * later rows of other heads (a re-score) are predictions, not throughput.
     */
    private List<Record> firstResults() {
        Map<String, Record> first = new java.util.LinkedHashMap<>();
        for (Record r : rows(stores.config().iceberg().slidesTable(), SLIDE_COLUMNS)) {
            first.merge(
                    r.getField("slide_id") + "\u0000" + r.getField("model_id"),
                    r,
                    (a, b) ->
                            instant(b.getField("completed_at"))
                                            .isBefore(instant(a.getField("completed_at")))
                                    ? b
                                    : a);
        }
        return new ArrayList<>(first.values());
    }

    private void models(Context ctx) {
        Map<String, Integer> counts = new TreeMap<>();
        for (Record r : firstResults()) {
            counts.merge((String) r.getField("model_id"), 1, Integer::sum);
        }
        ObjectNode root = JSON.objectNode();
        root.put("served_model_id", stores.modelId());
        String current = stores.currentModelId();
        root.put("current_model_id", current);
        ArrayNode models = root.putArray("models");
        counts.forEach(
                (id, n) -> {
                    ObjectNode o = models.addObject();
                    o.put("model_id", id);
                    o.put("slides", n);
                    o.put("current", id.equals(current));
                });
        ServeJson.send(ctx, root);
    }

    /** Nearest-rank percentile of sorted values. */
    private static long percentile(long[] sorted, double p) {
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    /** The rows of table {@code name}, read again only when it has a new snapshot. */
    private List<Record> rows(String name, String... columns) {
        Table table = stores.table(name);
        Snapshot current = table.currentSnapshot();
        if (current == null) {
            return List.of();
        }
        Cached cached = cache.get(name);
        if (cached != null && cached.snapshotId() == current.snapshotId()) {
            return cached.rows();
        }
        // A table written by an earlier version may lack a column added since (read as null).
        String[] present =
                java.util.Arrays.stream(columns)
                        .filter(c -> table.schema().findField(c) != null)
                        .toArray(String[]::new);
        List<Record> rows = io.slidestream.sink.IcebergTableReader.rows(table, present);
        cache.put(name, new Cached(current.snapshotId(), rows));
        return rows;
    }

    private static Instant instant(Object value) {
        return ((OffsetDateTime) value).toInstant();
    }
}
