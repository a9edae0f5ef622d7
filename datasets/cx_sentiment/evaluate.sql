-- Accuracy and macro-F1 of sentiment_label and cx_sentiment_label on the labeled
-- customer-care set, per split. Tune on `dev` only; `test` is the figure to report.
--
--   socialcx --lake memory:// sql -f datasets/cx_sentiment/evaluate.sql   (from the repository root)
CREATE EXTERNAL TABLE labeled STORED AS CSV LOCATION 'datasets/cx_sentiment/labeled.csv'
OPTIONS ('format.has_header' 'true');

WITH predictions AS (
    SELECT split, label, 'sentiment_label' AS mode, sentiment_label(text) AS predicted FROM labeled
    UNION ALL
    SELECT split, label, 'cx_sentiment_label', cx_sentiment_label(text) FROM labeled
),
per_class AS (
    SELECT p.split, p.mode, c.class,
           sum(CASE WHEN p.predicted = c.class AND p.label = c.class THEN 1 ELSE 0 END) AS tp,
           sum(CASE WHEN p.predicted = c.class THEN 1 ELSE 0 END) AS predicted_n,
           sum(CASE WHEN p.label = c.class THEN 1 ELSE 0 END) AS actual_n
    FROM predictions p
    CROSS JOIN (VALUES ('negative'), ('neutral'), ('positive')) AS c(class)
    GROUP BY p.split, p.mode, c.class
)
SELECT split, mode,
       sum(actual_n) AS posts,
       round(CAST(sum(tp) AS DOUBLE) / sum(actual_n), 3) AS accuracy,
       round(avg(CASE WHEN predicted_n + actual_n = 0 THEN 0.0
                      ELSE 2.0 * tp / (predicted_n + actual_n) END), 3) AS macro_f1,
       round(max(CASE WHEN class = 'negative' THEN 2.0 * tp / (predicted_n + actual_n) END), 3) AS f1_negative,
       round(max(CASE WHEN class = 'neutral' THEN 2.0 * tp / (predicted_n + actual_n) END), 3) AS f1_neutral,
       round(max(CASE WHEN class = 'positive' THEN 2.0 * tp / (predicted_n + actual_n) END), 3) AS f1_positive
FROM per_class
GROUP BY split, mode
ORDER BY split, mode;
