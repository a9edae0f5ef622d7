-- name: triage
-- title: Triage queue: customer conversations waiting for the brand
-- description: Customer conversations whose latest word is a customer's (never answered, or
--   the customer came back after the brand's last reply), ranked by priority = 100 x reach x
--   negativity x recency, each routed to a team by its journey stage through the routing table.
-- param: from timestamp null  Threads started from this instant (UTC; null: from the first message)
-- param: to timestamp null  As of this instant: later messages are unseen and waiting time runs to it (null: the last message)
-- param: brand string null  Only this brand (null: every brand)
-- param: channel string null  Only this channel (null: every channel)
-- param: half_life_hours float 24  Hours of waiting after which the recency weight halves
-- param: limit int 100  How many conversations
-- window: to=last_message from=first_message
--
-- The queue is as of the last message by default, not the last complete day of the other
-- reports: an agent answers what is waiting now, and the newest posts are the most urgent.
-- The as_of column is that instant (the last message seen, or `to`).
-- Scores are the stored columns, computed once at ingest (docs/lake.md). Sentiment is
-- cx_sentiment, the customer-care mode, because on hand-labelled care posts it was not tuned
-- on it is right more often than VADER (accuracy 0.896 against 0.537 on care_posts, 0.878
-- against 0.550 on cx_sentiment, test splits; docs/functions.md).
-- A thread is waiting when a customer posted after the brand's last message in it (status
-- 'unanswered' when the brand never replied, 'follow_up' otherwise). The waiting message is
-- the latest customer message; its author is the customer to answer.
--   reach      = 0.5 + influence_percentile / 200   (0.5 for an author with no influence,
--                1.0 for the most influential; author_influence over the same window)
--   negativity = (1 - sentiment) / 2                (0 glowing .. 0.5 neutral .. 1 furious)
--   recency    = 0.5 ^ (waiting_hours / half_life_hours)
-- so a furious post from the most influential customer, just posted, scores 100. The team
-- comes from the `routing` table by the stage of the thread's first post.
WITH seen AS (
    SELECT *
    FROM conversations
    WHERE ($to IS NULL OR created_at < $to)
      AND ($brand IS NULL OR brand = $brand)
      AND ($channel IS NULL OR channel = $channel)
),
clock AS (
    -- With `to` given, the scalar subquery is planned away: no scan for the clock.
    SELECT coalesce($to, (SELECT max(created_at) FROM seen)) AS as_of
),
roots AS (
    SELECT conversation_id AS thread_id, brand, channel, created_at AS started_at,
           coalesce(stage, 'unclassified') AS stage
    FROM seen
    WHERE parent_id IS NULL AND NOT is_brand AND ($from IS NULL OR created_at >= $from)
),
last_brand AS (
    SELECT thread_id, max(created_at) AS replied_at
    FROM seen
    WHERE is_brand
    GROUP BY thread_id
),
waiting AS (
    -- Per thread, the customer messages after the brand's last reply: how many, and the
    -- latest one (on equal times the greatest id), picked by one max_by over a struct key
    -- (row(...) compares field by field). Aggregated before the roots are joined, so the
    -- join sees a row per thread, not a message. The latest message's text is not carried
    -- here but fetched by its id for the queue's rows only (`queue`, below): carrying every
    -- waiting thread's text through the aggregate and the joins took a third of the time and
    -- of the memory on 10M messages (docs/reports.md, "The triage queue").
    -- `last_brand` is written first, as the side a RIGHT JOIN may miss: DataFusion builds its
    -- hash table from the join's first side when it has no size estimate to go by, and
    -- `last_brand` (two columns, a row per answered thread) is smaller than the window's
    -- messages (docs/reports.md, "Which side a join builds").
    SELECT s.thread_id, count(*) AS waiting_messages, max(b.replied_at) AS replied_at,
           max(s.created_at) AS created_at,
           max_by(named_struct('author_id', s.author_id, 'id', s.conversation_id,
                               'sentiment', s.cx_sentiment),
                  row(s.created_at, s.conversation_id)) AS latest
    FROM last_brand b
    RIGHT JOIN seen s ON b.thread_id = s.thread_id
    WHERE NOT s.is_brand AND (b.replied_at IS NULL OR s.created_at > b.replied_at)
    GROUP BY s.thread_id
),
influence AS (
    SELECT author_id, influence_percentile
    FROM author_influence($from, $to, $brand)
),
scored AS (
    -- `influence` first for the same reason: its two columns, one row per author, make a
    -- smaller hash table than the waiting threads with every column of the queue.
    SELECT w.thread_id, r.brand, r.channel, r.stage, r.started_at,
           w.latest['author_id'] AS author_id, w.created_at AS waiting_since,
           w.latest['id'] AS message_id, w.waiting_messages,
           CASE WHEN w.replied_at IS NULL THEN 'unanswered' ELSE 'follow_up' END AS status,
           coalesce(i.influence_percentile, 0.0) AS influence_percentile,
           w.latest['sentiment'] AS sentiment,
           (to_unixtime(c.as_of) - to_unixtime(w.created_at)) / 3600.0 AS waiting_hours,
           c.as_of
    FROM influence i
    RIGHT JOIN (waiting w
                JOIN roots r ON r.thread_id = w.thread_id
                CROSS JOIN clock c) ON i.author_id = w.latest['author_id']
),
queue AS (
    SELECT 100.0 * (0.5 + s.influence_percentile / 200.0) * ((1.0 - s.sentiment) / 2.0)
             * power(0.5, s.waiting_hours / $half_life_hours) AS priority,
           coalesce(t.team, 'unrouted') AS team,
           s.stage, s.status, s.brand, s.channel, s.thread_id, s.author_id,
           s.influence_percentile, s.sentiment, s.waiting_hours, s.waiting_messages,
           s.started_at, s.waiting_since, s.message_id, s.as_of
    FROM scored s
    LEFT JOIN routing t ON t.stage = s.stage
    ORDER BY priority DESC, s.thread_id
    LIMIT $limit
)
SELECT q.priority, q.team, q.stage, q.status, q.brand, q.channel, q.thread_id, q.author_id,
       q.influence_percentile, q.sentiment, q.waiting_hours, q.waiting_messages,
       q.started_at, q.waiting_since, m.text, q.as_of
FROM queue q
JOIN seen m ON m.conversation_id = q.message_id
ORDER BY q.priority DESC, q.thread_id
