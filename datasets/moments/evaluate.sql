-- Per-stage precision, recall and F1 of moment_of_truth (the primary stage) on the
-- labelled posts, per split, and the macro-F1 over the six stages. Tune on `dev` and
-- `tune` (tuning.csv) only; `test` is the figure to report. A post labelled `none` counts as a miss for
-- any stage predicted on it.
--
--   socialcx --lake memory:// sql -f datasets/moments/evaluate.sql   (from the repository root)
CREATE EXTERNAL TABLE labeled STORED AS CSV LOCATION 'datasets/moments/labeled.csv'
OPTIONS ('format.has_header' 'true');
CREATE EXTERNAL TABLE tuning STORED AS CSV LOCATION 'datasets/moments/tuning.csv'
OPTIONS ('format.has_header' 'true');

WITH posts AS (
    SELECT split, primary_stage, text FROM labeled
    UNION ALL
    SELECT split, primary_stage, text FROM tuning
),
predictions AS (
    SELECT split, primary_stage AS label, coalesce(moment_of_truth(text), 'none') AS predicted
    FROM posts
),
per_stage AS (
    SELECT p.split, s.stage,
           sum(CASE WHEN p.predicted = s.stage AND p.label = s.stage THEN 1 ELSE 0 END) AS tp,
           sum(CASE WHEN p.predicted = s.stage THEN 1 ELSE 0 END) AS predicted_n,
           sum(CASE WHEN p.label = s.stage THEN 1 ELSE 0 END) AS actual_n
    FROM predictions p
    CROSS JOIN (VALUES ('awareness'), ('consideration'), ('purchase'), ('experience'),
                       ('service'), ('advocacy')) AS s(stage)
    GROUP BY p.split, s.stage
),
scored AS (
    SELECT split, stage, actual_n AS posts,
           CASE WHEN predicted_n = 0 THEN 0.0 ELSE CAST(tp AS DOUBLE) / predicted_n END AS precision,
           CASE WHEN actual_n = 0 THEN 0.0 ELSE CAST(tp AS DOUBLE) / actual_n END AS recall,
           CASE WHEN predicted_n + actual_n = 0 THEN 0.0 ELSE 2.0 * tp / (predicted_n + actual_n) END AS f1
    FROM per_stage
)
SELECT split, stage, posts, round(precision, 3) AS precision, round(recall, 3) AS recall, round(f1, 3) AS f1
FROM scored
UNION ALL
SELECT split, 'macro' AS stage, sum(posts), round(avg(precision), 3), round(avg(recall), 3), round(avg(f1), 3)
FROM scored GROUP BY split
ORDER BY split, stage;
