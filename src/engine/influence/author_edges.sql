-- The author interaction graph's edges, engaging author -> engaged author: a reply
-- (to the parent message's author), a mention, an `RT @user` share. `{filter}` is the
-- call's WHERE clause on the engaging messages (empty for the whole lake).
-- This is the definition in SQL: author_influence() finds the same edges in one scan of
-- the window (src/engine/influence/table.rs, checked against this file by
-- tests/it/influence.rs), and benches/influence_compare.sh exports them for the peers.
WITH c AS (SELECT conversation_id, parent_id, author_id, mentions, text
           FROM conversations {filter})
SELECT c.author_id AS src, p.author_id AS dst
  FROM c JOIN conversations p ON c.parent_id = p.conversation_id
 WHERE c.parent_id IS NOT NULL
UNION ALL
SELECT author_id AS src, mention AS dst
  FROM (SELECT author_id, unnest(mentions) AS mention FROM c)
UNION ALL
SELECT author_id AS src, regexp_match(text, '^RT @([A-Za-z0-9_.]+)')[1] AS dst
  FROM c WHERE text LIKE 'RT @%'
