-- The dashboard queries on SlideStream's Iceberg tables, in Spark SQL (also valid in Trino and
-- DuckDB with their date functions: see docs/dashboards.md). ${catalog} is the catalog's name in
-- the engine; the tables live in namespace slidestream. ServeITCase runs every query here in
-- Apache Spark against the tables a real run wrote and checks the figures against the tables.
--
-- `slides` holds one row per slide, model and head: the job's result and, beside it, the rows of
-- heads a lab re-scored the archive with (`heads rescore`). Throughput and latency count the first
-- row of each slide and model (the job's, written when the slide completed); predictions_per_head
-- counts every head's calls.

-- name: slides_per_day
SELECT to_date(completed_at) AS day,
       count(*) AS slides,
       sum(CASE WHEN complete THEN 0 ELSE 1 END) AS partial,
       sum(tiles_received) AS tiles
FROM (SELECT *, row_number() OVER (PARTITION BY slide_id, model_id ORDER BY completed_at) AS nth
      FROM ${catalog}.slidestream.slides) first_results
WHERE nth = 1
GROUP BY to_date(completed_at)
ORDER BY day;

-- name: tiles_per_slide
SELECT s.slide_id, s.model_id, s.tile_count, count(t.tile_key) AS tiles_stored
FROM (SELECT DISTINCT slide_id, model_id, tile_count FROM ${catalog}.slidestream.slides) s
LEFT JOIN ${catalog}.slidestream.tiles t
  ON t.slide_id = s.slide_id AND t.model_id = s.model_id
GROUP BY s.slide_id, s.model_id, s.tile_count
ORDER BY s.slide_id;

-- name: class_distribution
SELECT model_id, predicted_class, count(*) AS tiles
FROM ${catalog}.slidestream.tiles
GROUP BY model_id, predicted_class
ORDER BY model_id, predicted_class;

-- name: errors_per_day
SELECT to_date(failed_at) AS day, code, count(*) AS slides
FROM ${catalog}.slidestream.slide_errors
GROUP BY to_date(failed_at), code
ORDER BY day, code;

-- name: latency
SELECT slide_id,
       unix_millis(completed_at) - unix_millis(scanned_at) AS latency_ms
FROM (SELECT *, row_number() OVER (PARTITION BY slide_id, model_id ORDER BY completed_at) AS nth
      FROM ${catalog}.slidestream.slides) first_results
WHERE nth = 1
ORDER BY slide_id;

-- name: predictions_per_head
SELECT model_id, head_id, predicted_label, count(*) AS slides
FROM ${catalog}.slidestream.slides
WHERE predicted_class >= 0
GROUP BY model_id, head_id, predicted_label
ORDER BY model_id, head_id, predicted_label;
