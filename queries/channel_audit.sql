-- name: channel_audit
-- title: Feedback channels against the moments of truth
-- description: The journey stage x channel matrix of customer posts: volume, unique authors,
--   mean and net sentiment, the channel's share of the stage, and the brand's response rate
--   per cell; the gaps (cells with fewer than min_posts posts) and the overlaps (authors heard
--   at the same stage on this channel and on at least one other).
-- param: from timestamp null  First instant of the window (UTC, included; null: from the first message)
-- param: to timestamp null  End of the window (UTC, excluded; null: the midnight after the last complete day)
-- param: brand string null  Only this brand (null: every brand)
-- param: min_posts int 30  A cell with fewer customer posts than this is a gap
-- window: to=last_complete_day from=first_message
--
-- The default window ends at the last complete day: the last UTC day that is over (the lake
-- holds a message from a later day) and whose customer posts reach half the median of the
-- same weekday over the four weeks before (docs/reports.md). Data stops raggedly, and the
-- days after the last full one hold only late replies: a chart or a rate that ran into them
-- would end in a collapse. Give `to` to include them. The bound is resolved before the report
-- is planned and bound as a literal timestamp, so the lake prunes its files by it.
-- Scores are the stored columns, computed once at ingest (docs/lake.md). Sentiment is
-- cx_sentiment, the customer-care mode, because on hand-labelled care posts it was not tuned
-- on it is right more often than VADER (accuracy 0.896 against 0.537 on care_posts, 0.878
-- against 0.550 on cx_sentiment, test splits; docs/functions.md).
-- Every stage of the journey is crossed with every channel that carried a message in the
-- window, so a stage nobody mentions on a channel shows as a row with 0 posts (a gap). Posts
-- with no recognised stage are left out. Sentiment thresholds are VADER's (>= 0.05 positive,
-- <= -0.05 negative). overlap_authors counts the cell's authors who also posted about the same
-- stage on another channel; overlap_share is their share of the cell's unique authors. The
-- response rate is over the threads customers started in the cell, answered by a brand
-- account at any time after the window's start.
WITH scope AS (
    SELECT *
    FROM conversations
    WHERE ($from IS NULL OR created_at >= $from) AND ($to IS NULL OR created_at < $to)
      AND ($brand IS NULL OR brand = $brand)
),
posts AS (
    SELECT channel, author_id, conversation_id, parent_id,
           stage, cx_sentiment AS sentiment
    FROM scope
    WHERE NOT is_brand
),
stages AS (
    SELECT *
    FROM (VALUES (1, 'awareness'), (2, 'consideration'), (3, 'purchase'),
                 (4, 'experience'), (5, 'service'), (6, 'advocacy')) AS s(stage_order, stage)
),
channels AS (
    -- Every channel of the window, numbered in name order: `spread` compares numbers, not names.
    SELECT channel, row_number() OVER (ORDER BY channel) AS channel_no
    FROM (SELECT DISTINCT channel FROM scope)
),
answered AS (
    SELECT thread_id
    FROM conversations
    WHERE is_brand AND parent_id IS NOT NULL AND ($from IS NULL OR created_at >= $from)
),
cells AS (
    SELECT p.stage, p.channel,
           count(*) AS customer_posts,
           count(DISTINCT p.author_id) AS unique_authors,
           avg(p.sentiment) AS mean_sentiment,
           avg(CASE WHEN p.sentiment >= 0.05 THEN 1.0 ELSE 0.0 END)
             - avg(CASE WHEN p.sentiment <= -0.05 THEN 1.0 ELSE 0.0 END) AS net_sentiment,
           sum(CASE WHEN p.parent_id IS NULL THEN 1 ELSE 0 END) AS customer_threads
    FROM posts p
    WHERE p.stage IS NOT NULL
    GROUP BY p.stage, p.channel
),
answered_cells AS (
    -- The threads customers started in each cell that a brand answered. A semi join finds
    -- each thread once however many replies it has, so `answered` needs no DISTINCT and the
    -- cell's other posts are not carried through a join (docs/reports.md).
    SELECT p.stage, p.channel, count(*) AS answered_threads
    FROM posts p
    WHERE p.stage IS NOT NULL AND p.parent_id IS NULL
      AND p.conversation_id IN (SELECT thread_id FROM answered)
    GROUP BY p.stage, p.channel
),
spread AS (
    -- Each author's first and last channel (by number) for each stage they spoke about: an
    -- author whose first is their last spoke on one channel only. A cell's overlapping
    -- authors are its unique authors minus those single-channel ones, so no window over
    -- (stage, author) is needed (it cost more than the grouping; docs/reports.md). The
    -- channel's number, not its name, is aggregated: min/max of a string keeps a copy per
    -- group, and this step has one group per author and stage.
    SELECT p.stage, p.author_id, min(c.channel_no) AS first_channel_no,
           max(c.channel_no) AS last_channel_no
    FROM channels c
    JOIN posts p ON p.channel = c.channel
    WHERE p.stage IS NOT NULL
    GROUP BY p.stage, p.author_id
),
single AS (
    SELECT stage, first_channel_no AS channel_no, count(*) AS single_channel_authors
    FROM spread
    WHERE first_channel_no = last_channel_no
    GROUP BY stage, first_channel_no
),
matrix AS (
    SELECT s.stage_order, s.stage, c.channel,
           coalesce(x.customer_posts, 0) AS customer_posts,
           coalesce(x.unique_authors, 0) AS unique_authors,
           x.mean_sentiment, x.net_sentiment,
           coalesce(x.customer_threads, 0) AS customer_threads,
           CAST(coalesce(r.answered_threads, 0) AS DOUBLE) / nullif(x.customer_threads, 0)
             AS response_rate,
           coalesce(x.unique_authors, 0) - coalesce(o.single_channel_authors, 0) AS overlap_authors
    FROM stages s
    CROSS JOIN channels c
    LEFT JOIN cells x ON x.stage = s.stage AND x.channel = c.channel
    LEFT JOIN answered_cells r ON r.stage = s.stage AND r.channel = c.channel
    LEFT JOIN single o ON o.stage = s.stage AND o.channel_no = c.channel_no
)
SELECT stage, channel, customer_posts, unique_authors, mean_sentiment, net_sentiment,
       CAST(customer_posts AS DOUBLE)
         / nullif(sum(customer_posts) OVER (PARTITION BY stage), 0) AS share_of_stage,
       customer_threads, response_rate, overlap_authors,
       CAST(overlap_authors AS DOUBLE) / nullif(unique_authors, 0) AS overlap_share,
       customer_posts < $min_posts AS gap
FROM matrix
ORDER BY stage_order, channel
