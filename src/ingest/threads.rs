//! Rebuilding threads from reply links.
//!
//! A message's `thread_id` is the id of its thread's root: follow `parent_id` up until
//! a message with no parent. Parents may sit earlier in the same file, in the lake
//! (from an earlier ingest), or nowhere: when a reply's parent was never landed, the
//! parent's id stands for the root, so every reply to it still shares one thread.

use std::collections::HashMap;

use crate::model::Conversation;

/// Fill in every missing `thread_id` of `rows`. `known` maps ids already in the lake
/// to their thread ids. An explicit `thread_id` in the input is kept as given.
///
/// ```
/// use std::collections::HashMap;
/// # use socialcx::model::Conversation;
/// # fn msg(id: &str, parent: Option<&str>) -> Conversation { Conversation {
/// #   conversation_id: id.into(), thread_id: None, parent_id: parent.map(Into::into), parent_author_id: None,
/// #   channel: "twitter".into(), brand: "b".into(), author_id: "a".into(),
/// #   author_followers: None, is_brand: false, created_at: 0, text: String::new(),
/// #   lang: None, likes: 0, shares: 0, replies: 0, mentions: vec![], hashtags: vec![],
/// #   rating: None } }
/// let mut rows = vec![msg("3", Some("2")), msg("2", Some("1")), msg("1", None), msg("9", Some("8"))];
/// socialcx::ingest::threads::rebuild_threads(&mut rows, &HashMap::from([("8".into(), "7".into())]));
/// let threads: Vec<_> = rows.iter().map(|r| r.thread_id.clone().unwrap()).collect();
/// assert_eq!(threads, ["1", "1", "1", "7"]);
/// ```
pub fn rebuild_threads(rows: &mut [Conversation], known: &HashMap<String, String>) {
    let n = rows.len();
    let index: datafusion::common::HashMap<&str, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.conversation_id.as_str(), i))
        .collect();
    let mut resolved: Vec<Option<String>> = rows.iter().map(|r| r.thread_id.clone()).collect();
    let mut path = Vec::new();
    for start in 0..n {
        if resolved[start].is_some() {
            continue;
        }
        path.clear();
        path.push(start);
        let mut cur = start;
        let root = loop {
            let row = &rows[cur];
            let Some(parent) = &row.parent_id else {
                break row.conversation_id.clone();
            };
            match index.get(parent.as_str()) {
                Some(&j) => {
                    if let Some(t) = &resolved[j] {
                        break t.clone();
                    }
                    if path.len() > n {
                        // A reply cycle: no root exists; the entry point stands for it.
                        break rows[start].conversation_id.clone();
                    }
                    path.push(j);
                    cur = j;
                }
                None => break known.get(parent).cloned().unwrap_or_else(|| parent.clone()),
            }
        };
        for &k in &path {
            resolved[k] = Some(root.clone());
        }
    }
    drop(index);
    for (row, thread) in rows.iter_mut().zip(resolved) {
        row.thread_id = thread;
    }
}
