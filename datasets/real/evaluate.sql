-- sentiment_label (plain VADER), cx_sentiment_label (the customer-care mode) and the
-- moment_of_truth tagger, measured on every labelled set: ours (datasets/cx_sentiment,
-- datasets/moments, datasets/care_posts) and the real, human-labelled ones (datasets/real/*). Per split: tune
-- on `dev` (and the moments' `tune`) only; `test` is the figure to report.
--
--   datasets/evaluate.sh                                          (builds, then runs this)
--   socialcx --lake memory:// sql --max-rows 0 -f datasets/real/evaluate.sql   (from the repository root)
--
-- Prints, in order: per-class precision/recall/F1; the sentiment confusion matrices
-- (rows = truth, columns = predicted); the tagger's per-stage figures and confusion
-- matrix; last, one summary row per set, split and mode (what tests/it/real.rs checks):
--   accuracy             share predicted exactly right. On the binary sets (uci_*: no
--                        neutral truth) every `neutral` prediction counts as wrong.
--   macro_f1             mean F1 over the classes the set has (the tagger: its six stages and `none`).
--   complaints_positive  share of negative-truth posts predicted positive.
--   neutral_predicted    share of posts predicted neutral.
--   non_neutral_accuracy accuracy over the posts not predicted neutral (on the binary
--                        sets: the 2-class accuracy where the scorer committed itself).
CREATE EXTERNAL TABLE cx STORED AS CSV LOCATION 'datasets/cx_sentiment/labeled.csv'
OPTIONS ('format.has_header' 'true');
CREATE EXTERNAL TABLE care_posts STORED AS CSV LOCATION 'datasets/care_posts/labeled.csv'
OPTIONS ('format.has_header' 'true');
CREATE EXTERNAL TABLE vader_tweets STORED AS CSV LOCATION 'datasets/real/vader_groundtruth/tweets.csv'
OPTIONS ('format.has_header' 'true');
CREATE EXTERNAL TABLE vader_amazon STORED AS CSV LOCATION 'datasets/real/vader_groundtruth/amazon_review_snippets.csv'
OPTIONS ('format.has_header' 'true');
CREATE EXTERNAL TABLE uci_amazon STORED AS CSV LOCATION 'datasets/real/uci_sentiment_labelled/amazon_cells.csv'
OPTIONS ('format.has_header' 'true');
CREATE EXTERNAL TABLE uci_imdb STORED AS CSV LOCATION 'datasets/real/uci_sentiment_labelled/imdb.csv'
OPTIONS ('format.has_header' 'true');
CREATE EXTERNAL TABLE uci_yelp STORED AS CSV LOCATION 'datasets/real/uci_sentiment_labelled/yelp.csv'
OPTIONS ('format.has_header' 'true');
CREATE EXTERNAL TABLE moments_labeled STORED AS CSV LOCATION 'datasets/moments/labeled.csv'
OPTIONS ('format.has_header' 'true');
CREATE EXTERNAL TABLE moments_tuning STORED AS CSV LOCATION 'datasets/moments/tuning.csv'
OPTIONS ('format.has_header' 'true');
CREATE EXTERNAL TABLE real_stages STORED AS CSV LOCATION 'datasets/real/stages/labeled.csv'
OPTIONS ('format.has_header' 'true');

-- Every post scored once, by both modes.
CREATE TABLE predictions AS
WITH posts AS (
    SELECT 'cx_sentiment' AS dataset, split, label, text FROM cx
    -- Two annotators; the 3 posts they disagreed on are left out.
    UNION ALL SELECT 'care_posts', split, label, text FROM care_posts WHERE split <> 'disagreed'
    UNION ALL SELECT 'vader_tweets', split, label, text FROM vader_tweets
    UNION ALL SELECT 'vader_amazon_snippets', split, label, text FROM vader_amazon
    UNION ALL SELECT 'uci_amazon_cells', split, label, text FROM uci_amazon
    UNION ALL SELECT 'uci_imdb', split, label, text FROM uci_imdb
    UNION ALL SELECT 'uci_yelp', split, label, text FROM uci_yelp
)
SELECT dataset, split, label, 'sentiment_label' AS mode, sentiment_label(text) AS predicted FROM posts
UNION ALL
SELECT dataset, split, label, 'cx_sentiment_label', cx_sentiment_label(text) FROM posts;

-- The tagger's primary stage on the moments set (`none`: no stage).
CREATE TABLE stage_predictions AS
WITH posts AS (
    SELECT split, primary_stage, text FROM moments_labeled
    UNION ALL
    SELECT split, primary_stage, text FROM moments_tuning
)
SELECT 'moments' AS dataset, split, primary_stage AS label, 'moment_of_truth' AS mode,
       coalesce(moment_of_truth(text), 'none') AS predicted
FROM posts
UNION ALL
-- Real posts, two annotators; the posts they disagreed on are left out.
SELECT 'real_stages', split, primary_stage, 'moment_of_truth',
       coalesce(moment_of_truth(text), 'none')
FROM real_stages WHERE split <> 'disagreed'
UNION ALL
-- Our care posts' primary stage, two annotators (empty: they disagreed, left out).
SELECT 'care_stages', split, primary_stage, 'moment_of_truth',
       coalesce(moment_of_truth(text), 'none')
FROM care_posts WHERE split <> 'disagreed' AND primary_stage <> '';

CREATE TABLE per_class AS
SELECT p.dataset, p.split, p.mode, c.class,
       sum(CASE WHEN p.predicted = c.class AND p.label = c.class THEN 1 ELSE 0 END) AS tp,
       sum(CASE WHEN p.predicted = c.class THEN 1 ELSE 0 END) AS predicted_n,
       sum(CASE WHEN p.label = c.class THEN 1 ELSE 0 END) AS actual_n
FROM predictions p
CROSS JOIN (VALUES ('negative'), ('neutral'), ('positive')) AS c(class)
GROUP BY p.dataset, p.split, p.mode, c.class
UNION ALL
SELECT p.dataset, p.split, p.mode, s.class,
       sum(CASE WHEN p.predicted = s.class AND p.label = s.class THEN 1 ELSE 0 END),
       sum(CASE WHEN p.predicted = s.class THEN 1 ELSE 0 END),
       sum(CASE WHEN p.label = s.class THEN 1 ELSE 0 END)
FROM stage_predictions p
CROSS JOIN (VALUES ('awareness'), ('consideration'), ('purchase'), ('experience'),
                   ('service'), ('advocacy'), ('none')) AS s(class)
GROUP BY p.dataset, p.split, p.mode, s.class;

-- Per-class figures (a class the set has no posts of, like neutral on uci_*, is left out).
SELECT dataset, split, mode, class, actual_n AS posts, predicted_n AS predicted,
       round(CASE WHEN predicted_n = 0 THEN 0.0 ELSE CAST(tp AS DOUBLE) / predicted_n END, 3) AS precision,
       round(CASE WHEN actual_n = 0 THEN 0.0 ELSE CAST(tp AS DOUBLE) / actual_n END, 3) AS recall,
       round(2.0 * tp / (predicted_n + actual_n), 3) AS f1
FROM per_class
WHERE actual_n > 0
ORDER BY split, dataset, mode, class;

-- Sentiment confusion matrices: one row per true class, a column per predicted class.
SELECT dataset, split, mode, label AS truth,
       sum(CASE WHEN predicted = 'negative' THEN 1 ELSE 0 END) AS negative,
       sum(CASE WHEN predicted = 'neutral' THEN 1 ELSE 0 END) AS neutral,
       sum(CASE WHEN predicted = 'positive' THEN 1 ELSE 0 END) AS positive
FROM predictions
GROUP BY dataset, split, mode, label
ORDER BY split, dataset, mode, truth;

-- The tagger's confusion matrix: one row per true primary stage, a column per predicted one.
SELECT dataset, split, label AS truth,
       sum(CASE WHEN predicted = 'awareness' THEN 1 ELSE 0 END) AS awareness,
       sum(CASE WHEN predicted = 'consideration' THEN 1 ELSE 0 END) AS consideration,
       sum(CASE WHEN predicted = 'purchase' THEN 1 ELSE 0 END) AS purchase,
       sum(CASE WHEN predicted = 'experience' THEN 1 ELSE 0 END) AS experience,
       sum(CASE WHEN predicted = 'service' THEN 1 ELSE 0 END) AS service,
       sum(CASE WHEN predicted = 'advocacy' THEN 1 ELSE 0 END) AS advocacy,
       sum(CASE WHEN predicted = 'none' THEN 1 ELSE 0 END) AS "none"
FROM stage_predictions
GROUP BY dataset, split, label
ORDER BY split, dataset, CASE label WHEN 'awareness' THEN 1 WHEN 'consideration' THEN 2 WHEN 'purchase' THEN 3
                           WHEN 'experience' THEN 4 WHEN 'service' THEN 5 WHEN 'advocacy' THEN 6 ELSE 7 END;

-- The summary (the script's last statement: tests/it/real.rs reads these rows).
WITH scored AS (
    SELECT dataset, split, mode,
           count(*) AS posts,
           CAST(sum(CASE WHEN predicted = label THEN 1 ELSE 0 END) AS DOUBLE) / count(*) AS accuracy,
           CAST(sum(CASE WHEN label = 'negative' AND predicted = 'positive' THEN 1 ELSE 0 END) AS DOUBLE)
               / sum(CASE WHEN label = 'negative' THEN 1 ELSE 0 END) AS complaints_positive,
           CAST(sum(CASE WHEN predicted = 'neutral' THEN 1 ELSE 0 END) AS DOUBLE) / count(*) AS neutral_predicted,
           CAST(sum(CASE WHEN predicted <> 'neutral' AND predicted = label THEN 1 ELSE 0 END) AS DOUBLE)
               / sum(CASE WHEN predicted <> 'neutral' THEN 1 ELSE 0 END) AS non_neutral_accuracy
    FROM predictions
    GROUP BY dataset, split, mode
    UNION ALL
    SELECT dataset, split, mode, count(*),
           CAST(sum(CASE WHEN predicted = label THEN 1 ELSE 0 END) AS DOUBLE) / count(*),
           CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE)
    FROM stage_predictions
    GROUP BY dataset, split, mode
),
macro AS (
    SELECT dataset, split, mode, avg(2.0 * tp / (predicted_n + actual_n)) AS macro_f1
    FROM per_class
    WHERE actual_n > 0
    GROUP BY dataset, split, mode
)
SELECT s.dataset, s.split, s.mode, s.posts,
       round(s.accuracy, 3) AS accuracy,
       round(m.macro_f1, 3) AS macro_f1,
       round(s.complaints_positive, 3) AS complaints_positive,
       round(s.neutral_predicted, 3) AS neutral_predicted,
       round(s.non_neutral_accuracy, 3) AS non_neutral_accuracy
FROM scored s
JOIN macro m ON m.dataset = s.dataset AND m.split = s.split AND m.mode = s.mode
ORDER BY s.split, s.dataset, s.mode;
