-- name: influencers
-- title: Influencers to build relationships with
-- description: The customers with the most influence in the window (weighted PageRank over
--   replies, mentions and shares, as a 0..100 percentile), with their followers, message
--   count, mean sentiment, the journey stages and channels they speak about (comma-separated),
--   their reach, and an example post.
-- param: from timestamp null  First instant of the window (UTC, included; null: from the first message)
-- param: to timestamp null  End of the window (UTC, excluded; null: the midnight after the last complete day)
-- param: brand string null  Only conversations about this brand (null: every brand)
-- param: limit int 50  How many authors
-- window: to=last_complete_day from=first_message
--
-- The default window ends at the last complete day: the last UTC day that is over (the lake
-- holds a message from a later day) and whose customer posts reach half the median of the
-- same weekday over the four weeks before (docs/reports.md). Data stops raggedly, and the
-- days after the last full one hold only late replies: a chart or a rate that ran into them
-- would end in a collapse. Give `to` to include them. The bound is resolved before the report
-- is planned and bound as a literal timestamp, so the lake prunes its files by it.
-- Scores are the stored columns, computed once at ingest (docs/lake.md). mean_sentiment is
-- over cx_sentiment, the customer-care mode, because on hand-labelled care posts it was not tuned
-- on it is right more often than VADER (accuracy 0.896 against 0.537 on care_posts, 0.878
-- against 0.550 on cx_sentiment, test splits; docs/functions.md).
-- followers is the most followers the author was seen with; the author_id is the handle. The
-- example post is the author's most engaged post in the window (likes + shares + replies; on
-- a tie the latest), so a community manager sees what they are heard for before reaching out.
WITH ranked AS (
    SELECT author_id, pagerank, influence_percentile, in_degree, distinct_engagers,
           followers, total_reach
    FROM author_influence($from, $to, $brand)
    -- The customers who posted in the window: an author's is_brand is known only from their
    -- own messages in the window (true when one of them is a brand account's), so an author
    -- the graph holds only as someone replied to or mentioned has a null is_brand and is left
    -- out here, and every author kept has a post in `posts` below. No semi join with `posts`
    -- is needed (it read every post's author_id to keep the same authors; docs/reports.md).
    WHERE NOT is_brand
),
posts AS (
    SELECT author_id, cx_sentiment AS sentiment, stage, channel, text, created_at,
           likes + shares + replies AS engagement, conversation_id
    FROM conversations
    WHERE NOT is_brand AND ($from IS NULL OR created_at >= $from) AND ($to IS NULL OR created_at < $to)
      AND ($brand IS NULL OR brand = $brand)
),
top AS (
    -- The most influential customers: only their posts are aggregated below, and `top` is
    -- used once (DataFusion plans a CTE once per use).
    SELECT author_id, influence_percentile, pagerank, in_degree, distinct_engagers,
           followers, total_reach
    FROM ranked
    ORDER BY pagerank DESC, author_id
    LIMIT $limit
),
voice AS (
    SELECT t.author_id, t.influence_percentile, t.pagerank, t.in_degree, t.distinct_engagers,
           t.followers, t.total_reach,
           count(*) AS messages, avg(p.sentiment) AS mean_sentiment,
           array_to_string(array_sort(array_distinct(
               array_agg(p.stage) FILTER (WHERE p.stage IS NOT NULL))), ', ') AS stages,
           array_to_string(array_sort(array_distinct(array_agg(p.channel))), ', ') AS channels,
           max_by(named_struct('text', p.text, 'channel', p.channel, 'at', p.created_at),
                  row(p.engagement, p.created_at, p.conversation_id)) AS example
    FROM top t
    JOIN posts p ON p.author_id = t.author_id
    GROUP BY t.author_id, t.influence_percentile, t.pagerank, t.in_degree, t.distinct_engagers,
             t.followers, t.total_reach
)
SELECT author_id, influence_percentile, pagerank, in_degree, distinct_engagers,
       followers, total_reach, messages, mean_sentiment, stages, channels,
       example['text'] AS example_post, example['channel'] AS example_channel,
       example['at'] AS example_at
FROM voice
ORDER BY pagerank DESC, author_id
