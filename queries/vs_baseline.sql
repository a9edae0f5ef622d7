-- name: vs_baseline
-- title: This period against its trailing baseline
-- description: Per brand, channel and journey stage, each metric of the period (customer posts
--   per day, mean sentiment, share negative, net sentiment, response rate) beside its trailing
--   baseline (mean and standard deviation of the daily values over the baseline_days before the
--   period), with the delta and z-score, flagged when |z| reaches the threshold.
-- param: from timestamp null  Start of the period (UTC, included; null: 7 days before its end)
-- param: to timestamp null  End of the period (UTC, excluded; null: the midnight after the last complete day)
-- param: baseline_days int 28  Length of the trailing baseline before the period, in days
-- param: threshold float 2  |z-score| at which a change is flagged
-- param: min_posts int 10  A change is flagged only when its cell has this many posts in the period (threads, for response_rate; for customer_posts, in the period or expected from the baseline)
-- param: brand string null  Only this brand (null: every brand)
-- param: channel string null  Only this channel (null: every channel)
-- window: to=last_complete_day from=7d
--
-- The default period is the 7 days through the last complete day: the last UTC day that is
-- over (the lake holds a message from a later day) and whose customer posts reach half the
-- median of the same weekday over the four weeks before (docs/reports.md). Data stops raggedly: the days after the last
-- full one hold only late replies, and a period ending in them reads as a collapse of volume
-- in every cell. The bounds are resolved before the report is planned and bound as literal
-- timestamps, so the lake reads only the files of the period and its baseline.
-- Scores are the stored columns, computed once at ingest (docs/lake.md). Sentiment is
-- cx_sentiment, the customer-care mode, because on hand-labelled care posts it was not tuned
-- on it is right more often than VADER (accuracy 0.896 against 0.537 on care_posts, 0.878
-- against 0.550 on cx_sentiment, test splits; docs/functions.md).
-- Days are UTC days (the `date` column). The baseline of customer_posts counts every day of the
-- baseline, a day with no post as 0; the baseline of a rate or sentiment metric is over the
-- days that had posts. The period's value is pooled over the whole period (posts per day for
-- customer_posts), and z = (period value - baseline mean) / baseline standard deviation of the
-- daily values, so a period of several days is judged by the daily spread (conservative). z
-- is null when the baseline has fewer than two days or no spread; null is never flagged. No
-- flag rests on a handful of posts: a rate or sentiment metric needs min_posts posts
-- (threads, for response_rate) in the period (period_sample), and a volume change needs
-- min_posts posts in the period or expected over it from the baseline (baseline_mean x the
-- period's days), so a drop from 30 expected posts to 2 is flagged and a rise from 1 to 4
-- is not. A thread counts as answered when a brand account replied before the period's end.
WITH posts AS (
    SELECT brand, channel, coalesce(stage, 'unclassified') AS stage,
           date AS day, conversation_id, parent_id, cx_sentiment AS sentiment,
           created_at >= $from AS in_period
    FROM conversations
    WHERE NOT is_brand
      AND created_at >= $from - CAST(concat($baseline_days, ' days') AS INTERVAL)
      AND created_at < $to
      AND ($brand IS NULL OR brand = $brand)
      AND ($channel IS NULL OR channel = $channel)
),
answered AS (
    SELECT thread_id
    FROM conversations
    WHERE is_brand AND parent_id IS NOT NULL
      AND created_at >= $from - CAST(concat($baseline_days, ' days') AS INTERVAL)
      AND created_at < $to
),
daily AS (
    SELECT p.brand, p.channel, p.stage, p.day, p.in_period,
           count(*) AS posts,
           avg(p.sentiment) AS mean_sentiment,
           avg(CASE WHEN p.sentiment <= -0.05 THEN 1.0 ELSE 0.0 END) AS share_negative,
           avg(CASE WHEN p.sentiment >= 0.05 THEN 1.0 ELSE 0.0 END)
             - avg(CASE WHEN p.sentiment <= -0.05 THEN 1.0 ELSE 0.0 END) AS net_sentiment,
           sum(CASE WHEN p.parent_id IS NULL THEN 1 ELSE 0 END) AS threads
    FROM posts p
    GROUP BY p.brand, p.channel, p.stage, p.day, p.in_period
),
answered_daily AS (
    -- The threads customers started in each cell and day that a brand answered. A semi join
    -- finds each thread once however many replies it has, so `answered` needs no DISTINCT
    -- and only the threads' first posts go through it (docs/reports.md).
    SELECT p.brand, p.channel, p.stage, p.day, p.in_period, count(*) AS answered_threads
    FROM posts p
    WHERE p.parent_id IS NULL AND p.conversation_id IN (SELECT thread_id FROM answered)
    GROUP BY p.brand, p.channel, p.stage, p.day, p.in_period
),
daily_rates AS (
    SELECT d.*,
           CAST(coalesce(a.answered_threads, 0) AS DOUBLE) / nullif(d.threads, 0)
             AS response_rate
    FROM daily d
    LEFT JOIN answered_daily a
      ON a.brand = d.brand AND a.channel = d.channel AND a.stage = d.stage AND a.day = d.day
     AND a.in_period = d.in_period
),
metrics AS (
    -- Each day's five metrics as rows, from one pass over `daily_rates` (DataFusion plans a CTE
    -- once per use, so the metrics are not five SELECTs of it in a UNION).
    SELECT d.brand, d.channel, d.stage, d.in_period, m.metric,
           CASE m.metric
                WHEN 'customer_posts' THEN CAST(d.posts AS DOUBLE)
                WHEN 'mean_sentiment' THEN d.mean_sentiment
                WHEN 'share_negative' THEN d.share_negative
                WHEN 'net_sentiment' THEN d.net_sentiment
                ELSE d.response_rate END AS value,
           CASE WHEN m.metric = 'response_rate' THEN d.threads ELSE d.posts END AS weight
    FROM daily_rates d
    CROSS JOIN (VALUES ('customer_posts'), ('mean_sentiment'), ('share_negative'),
                       ('net_sentiment'), ('response_rate')) AS m(metric)
    WHERE m.metric <> 'response_rate' OR d.threads > 0
),
sums AS (
    -- The baseline's and the period's sums of each cell and metric, in one aggregate.
    SELECT brand, channel, stage, metric,
           count(*) FILTER (WHERE NOT in_period) AS baseline_rows,
           sum(value) FILTER (WHERE NOT in_period) AS s1,
           sum(value * value) FILTER (WHERE NOT in_period) AS s2,
           sum(value) FILTER (WHERE in_period) AS period_total,
           sum(value * weight) FILTER (WHERE in_period) AS period_weighted,
           sum(weight) FILTER (WHERE in_period) AS period_weight
    FROM metrics
    GROUP BY brand, channel, stage, metric
),
baseline AS (
    -- days: null when the baseline has no day of the cell.
    SELECT *,
           CASE WHEN baseline_rows = 0 THEN NULL
                WHEN metric = 'customer_posts' THEN $baseline_days
                ELSE baseline_rows END AS days
    FROM sums
),
joined AS (
    SELECT brand, channel, stage, metric,
           CASE WHEN metric = 'customer_posts'
                THEN coalesce(period_total
                              / ((to_unixtime($to) - to_unixtime($from)) / 86400.0), 0.0)
                ELSE period_weighted / period_weight END AS period_value,
           coalesce(period_weight, 0) AS period_sample,
           s1 / days AS baseline_mean,
           CASE WHEN days > 1 THEN sqrt(greatest((s2 - s1 * s1 / days) / (days - 1), 0.0)) END
             AS baseline_sd,
           coalesce(days, 0) AS baseline_days
    FROM baseline
),
scored AS (
    SELECT j.*, j.period_value - j.baseline_mean AS delta,
           (j.period_value - j.baseline_mean) / nullif(j.baseline_sd, 0.0) AS z_score
    FROM joined j
)
SELECT s.brand, s.channel, s.stage, s.metric, s.period_value, s.period_sample, s.baseline_mean,
       s.baseline_sd, s.baseline_days, s.delta, s.z_score,
       coalesce(abs(s.z_score) >= $threshold
                AND CASE WHEN s.metric = 'customer_posts'
                         THEN greatest(CAST(s.period_sample AS DOUBLE),
                                       s.baseline_mean
                                         * ((to_unixtime($to) - to_unixtime($from)) / 86400.0))
                              >= $min_posts
                         ELSE s.period_sample >= $min_posts END, false)
         AS flagged,
       $from AS period_start, $to AS period_end,
       $from - CAST(concat($baseline_days, ' days') AS INTERVAL) AS baseline_start
FROM scored s
-- z-scores equal to 9 places (the same deviation over the same spread, summed in another
-- order on a cluster) rank by name, not by their last bits.
ORDER BY flagged DESC, round(abs(s.z_score), 9) DESC NULLS LAST, s.brand, s.channel, s.stage, s.metric
