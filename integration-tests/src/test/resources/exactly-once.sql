-- The rows of the cluster test's tables as an analyst's Spark reads them (ClusterChaosITCase).
-- name: tiles
SELECT slide_id, count(*) AS n, count(DISTINCT model_id, level, x, y) AS keys
FROM ${catalog}.slidestream.tiles GROUP BY slide_id

-- name: slides
SELECT slide_id, count(*) AS n FROM ${catalog}.slidestream.slides GROUP BY slide_id
