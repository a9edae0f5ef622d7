//! Landing data: counts match the input, idempotency, quarantine, all input formats.

use std::collections::BTreeMap;
use std::path::PathBuf;

use socialcx::cli::exec::{SqlOptions, run_sql};
use socialcx::generator::OutputLayout;
use socialcx::output::OutputFormat;

use crate::common::*;

#[tokio::test]
async fn generated_ndjson_lands_with_counts_matching_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let file = generate(dir.path(), "in.ndjson", 5000, 11, OutputLayout::Ndjson);
    let summary = ingest(&engine, std::slice::from_ref(&file)).await;
    assert_eq!(
        (
            summary.landed(),
            summary.quarantined(),
            summary.duplicates()
        ),
        (5000, 0, 0)
    );

    let rows = read_ndjson(&file);
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for r in &rows {
        *expected
            .entry(r["channel"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let actual: BTreeMap<String, i64> = pairs(
        &engine,
        "SELECT channel, count(*) FROM conversations GROUP BY channel",
    )
    .await
    .into_iter()
    .collect();
    assert_eq!(actual, expected);

    // Threads: every thread_id names a root that is in the lake, and roots have no parent.
    let orphans = scalar(
        &engine,
        "SELECT count(*) FROM conversations c LEFT JOIN conversations r \
         ON c.thread_id = r.conversation_id WHERE r.conversation_id IS NULL",
    )
    .await;
    assert_eq!(orphans, 0);
    let expected_roots = rows.iter().filter(|r| r["parent_id"].is_null()).count() as i64;
    assert_eq!(
        scalar(
            &engine,
            "SELECT count(DISTINCT thread_id) FROM conversations"
        )
        .await,
        expected_roots
    );
    // Followers, likes and time survive the trip.
    let followers: i64 = rows
        .iter()
        .map(|r| r["author_followers"].as_i64().unwrap())
        .sum();
    assert_eq!(
        scalar(&engine, "SELECT sum(author_followers) FROM conversations").await,
        followers
    );
    let first = rows
        .iter()
        .map(|r| {
            chrono::DateTime::parse_from_rfc3339(r["created_at"].as_str().unwrap())
                .unwrap()
                .timestamp()
        })
        .min()
        .unwrap();
    let got = scalar(
        &engine,
        "SELECT CAST(date_part('epoch', min(created_at)) AS BIGINT) FROM conversations",
    )
    .await;
    assert_eq!(got, first);
}

#[tokio::test]
async fn the_same_input_twice_lands_once() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let file = generate(dir.path(), "in.ndjson", 1500, 3, OutputLayout::Ndjson);
    let first = ingest(&engine, std::slice::from_ref(&file)).await;
    assert_eq!(first.landed(), 1500);
    let second = ingest(&engine, std::slice::from_ref(&file)).await;
    assert!(second.files[0].already_ingested);
    assert_eq!(second.landed(), 0);
    assert_eq!(
        scalar(&engine, "SELECT count(*) FROM conversations").await,
        1500
    );

    // Overlapping input (other bytes, some of the same conversations): only new ones land.
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let overlap = dir.path().join("overlap.ndjson");
    let extra = generate(dir.path(), "extra.ndjson", 300, 4, OutputLayout::Ndjson);
    let extra_text = std::fs::read_to_string(&extra).unwrap();
    std::fs::write(
        &overlap,
        format!("{}\n{}", lines[1000..].join("\n"), extra_text),
    )
    .unwrap();
    let third = ingest(&engine, &[overlap]).await;
    assert_eq!((third.landed(), third.duplicates()), (300, 500));
    assert_eq!(
        scalar(&engine, "SELECT count(*) FROM conversations").await,
        1800
    );
    assert_eq!(
        scalar(
            &engine,
            "SELECT count(DISTINCT conversation_id) FROM conversations"
        )
        .await,
        1800
    );

    // A fresh engine on the same lake sees the same.
    let again = engine_in(dir.path()).await;
    assert_eq!(
        scalar(&again, "SELECT count(*) FROM conversations").await,
        1800
    );
}

#[tokio::test]
async fn broken_lines_are_quarantined_with_reason_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let summary = ingest(&engine, &[sample("broken_lines.ndjson")]).await;
    assert_eq!(
        (summary.landed(), summary.quarantined()),
        (2, 8),
        "{summary}"
    );

    let quarantined = rows(
        &engine,
        "SELECT line, reason, raw, source FROM quarantine ORDER BY line",
    )
    .await;
    let got: Vec<(String, String)> = quarantined
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let expected = [
        ("2", "invalid JSON"),
        ("3", "missing text"),
        ("4", "created_at: cannot parse 'last tuesday'"),
        ("5", "likes: negative"),
        ("6", "not a JSON object"),
        ("8", "parent_id equals conversation_id"),
        ("10", "is_brand: not a boolean"),
        ("11", "invalid JSON"),
    ];
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for ((line, reason), (want_line, want_reason)) in got.iter().zip(expected) {
        assert_eq!(line, want_line);
        assert!(
            reason.contains(want_reason),
            "line {line}: '{reason}' lacks '{want_reason}'"
        );
    }
    // The raw line is kept, and the source named.
    assert!(quarantined[2][2].contains("last tuesday"));
    assert!(quarantined[0][3].ends_with("broken_lines.ndjson"));
    // The good reply landed in its parent's thread.
    let thread = rows(
        &engine,
        "SELECT thread_id FROM conversations WHERE conversation_id = 'bl-7'",
    )
    .await;
    assert_eq!(thread, [["bl-1"]]);
}

#[tokio::test]
async fn unreadable_files_are_clear_errors_and_do_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let bad_header = dir.path().join("other.csv");
    std::fs::write(&bad_header, "a,b,c\n1,2,3\n").unwrap();
    let not_parquet = dir.path().join("fake.parquet");
    std::fs::write(&not_parquet, "PAR1 this is not parquet").unwrap();
    let good = generate(dir.path(), "good.ndjson", 100, 8, OutputLayout::Ndjson);
    let missing = dir.path().join("missing.ndjson");
    let summary = ingest(&engine, &[bad_header, missing, not_parquet, good]).await;
    let errors: Vec<String> = summary
        .files
        .iter()
        .filter_map(|f| f.error.clone())
        .collect();
    assert_eq!(errors.len(), 3, "{summary}");
    assert!(errors[0].contains("neither our schema"), "{}", errors[0]);
    assert!(errors[1].contains("No such file"), "{}", errors[1]);
    assert!(errors[2].contains("Parquet"), "{}", errors[2]);
    assert_eq!(summary.landed(), 100);
    assert_eq!(scalar(&engine, "SELECT count(*) FROM quarantine").await, 0);
}

/// A fingerprint of a whole table, to compare lakes.
async fn content(engine: &socialcx::Engine) -> Vec<String> {
    rows(
        engine,
        "SELECT conversation_id, thread_id, parent_id, channel, brand, author_id, author_followers, \
         is_brand, created_at, text, lang, likes, shares, replies, mentions, hashtags, rating, date \
         FROM conversations ORDER BY conversation_id",
    )
    .await
    .into_iter()
    .map(|cells| cells.join("|"))
    .collect()
}

#[tokio::test]
async fn ndjson_csv_and_parquet_inputs_land_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let ndjson = generate(dir.path(), "in.ndjson", 2000, 21, OutputLayout::Ndjson);
    let csv = generate(dir.path(), "in.csv", 2000, 21, OutputLayout::Csv);

    let lake = |name: &str| dir.path().join(name);
    std::fs::create_dir_all(lake("a")).unwrap();
    std::fs::create_dir_all(lake("b")).unwrap();
    std::fs::create_dir_all(lake("c")).unwrap();
    let a = engine_in(&lake("a")).await;
    ingest(&a, &[ndjson]).await;
    let b = engine_in(&lake("b")).await;
    let summary = ingest(&b, &[csv]).await;
    assert_eq!(summary.landed(), 2000, "{summary}");

    // Parquet written by our own CLI path from lake a, read back into lake c.
    let parquet: PathBuf = dir.path().join("in.parquet");
    let mut out = std::fs::File::create(&parquet).unwrap();
    let options = SqlOptions {
        timer: false,
        ..SqlOptions::new(OutputFormat::Parquet, 0)
    };
    run_sql(
        &a,
        "SELECT conversation_id, thread_id, parent_id, channel, brand, author_id, author_followers, \
         is_brand, created_at, text, lang, likes, shares, replies, mentions, hashtags, rating FROM conversations",
        &options,
        &mut out,
    )
    .await
    .unwrap();
    drop(out);
    let c = engine_in(&lake("c")).await;
    let summary = ingest(&c, &[parquet]).await;
    assert_eq!(summary.landed(), 2000, "{summary}");

    let (ca, cb, cc) = (content(&a).await, content(&b).await, content(&c).await);
    assert_eq!(ca.len(), 2000);
    assert_eq!(ca, cb, "CSV lands what NDJSON lands");
    assert_eq!(ca, cc, "Parquet lands what NDJSON lands");
}

#[tokio::test]
async fn replies_join_threads_that_began_in_an_earlier_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let root = dir.path().join("root.ndjson");
    std::fs::write(&root, r#"{"conversation_id":"r1","channel":"forum","brand":"Dashly","author_id":"u1","created_at":"2026-03-01T10:00:00Z","text":"Driver never showed up"}"#).unwrap();
    ingest(&engine, &[root]).await;
    let replies = dir.path().join("replies.ndjson");
    std::fs::write(
        &replies,
        concat!(
            r#"{"conversation_id":"r3","parent_id":"r2","channel":"forum","brand":"Dashly","author_id":"u1","created_at":"2026-03-02T09:00:00Z","text":"Still nothing"}"#, "\n",
            r#"{"conversation_id":"r2","parent_id":"r1","channel":"forum","brand":"Dashly","author_id":"DashlyHelp","is_brand":true,"created_at":"2026-03-01T11:00:00Z","text":"Sorry! DM us"}"#, "\n",
        ),
    )
    .unwrap();
    ingest(&engine, &[replies]).await;
    let threads = pairs(
        &engine,
        "SELECT thread_id, count(*) FROM conversations GROUP BY thread_id",
    )
    .await;
    assert_eq!(threads, [("r1".to_string(), 3)]);
    // Each reply names its parent's author: r1's from the lake, r2's from the same input
    // (listed after its reply).
    let parents = rows(
        &engine,
        "SELECT conversation_id, coalesce(parent_author_id, '-') FROM conversations \
         ORDER BY conversation_id",
    )
    .await;
    assert_eq!(
        parents,
        [["r1", "-"], ["r2", "u1"], ["r3", "DashlyHelp"]].map(|r| r.map(String::from).to_vec())
    );
}

/// Write `columns` as a Parquet file at `path`.
fn write_parquet(path: &std::path::Path, columns: Vec<(&str, datafusion::arrow::array::ArrayRef)>) {
    let batch = datafusion::arrow::array::RecordBatch::try_from_iter(columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[tokio::test]
async fn odd_values_are_quarantined_with_their_reason_never_landed_wrong() {
    use datafusion::arrow::array::{
        BinaryArray, StringArray, TimestampMicrosecondArray, TimestampMillisecondArray,
    };
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(&dir.path().join("lake")).await;
    let strings = |v: &[&str]| Arc::new(StringArray::from(v.to_vec())) as _;

    // Parquet states its unit: 2026-01-05 in ms lands exactly; 1970-01-20 (ms and µs) and
    // year ~586,000 (overflows µs) are quarantined; binary text lands as its UTF-8 or is
    // quarantined when it is not UTF-8.
    let jan5_ms = 1_767_571_200_000i64; // 2026-01-05T00:00:00Z
    let ms = dir.path().join("ms.parquet");
    write_parquet(
        &ms,
        vec![
            ("conversation_id", strings(&["p1", "p2", "p3", "p4"])),
            ("channel", strings(&["twitter"; 4])),
            ("brand", strings(&["Acme"; 4])),
            ("author_id", strings(&["u1", "u2", "u3", "u4"])),
            (
                "created_at",
                Arc::new(TimestampMillisecondArray::from(vec![
                    jan5_ms,
                    18_400_000_000_000_000,
                    1_641_600_000,
                    jan5_ms,
                ])) as _,
            ),
            (
                "text",
                Arc::new(BinaryArray::from(vec![
                    "my parcel is late".as_bytes(),
                    b"far future",
                    b"epoch",
                    &[0xff, 0xfe, 0x00][..],
                ])) as _,
            ),
        ],
    );
    let us = dir.path().join("us.parquet");
    write_parquet(
        &us,
        vec![
            ("conversation_id", strings(&["q1"])),
            ("channel", strings(&["twitter"])),
            ("brand", strings(&["Acme"])),
            ("author_id", strings(&["u1"])),
            (
                "created_at",
                Arc::new(TimestampMicrosecondArray::from(vec![1_641_600_000_000i64])) as _,
            ),
            ("text", strings(&["epoch in µs"])),
        ],
    );

    // CSV: a quote closed mid-field swallows the records after it; CRLF line numbers.
    let csv = dir.path().join("quotes.csv");
    std::fs::write(
        &csv,
        "conversation_id,channel,brand,author_id,created_at,text\r\n\
         c1,twitter,Acme,u1,2026-01-05T10:00:00Z,\"opens\r\n\
         c2,twitter,Acme,u2,2026-01-05T10:01:00Z,middle\r\n\
         c3,twitter,Acme,u3,2026-01-05T10:02:00Z,\"closes here\" and more\r\n\
         c4,twitter,Acme,u4,2026-01-05T10:03:00Z,fine\r\n\
         c5,twitter,Acme,u5,2026-01-05T10:04:00Z,\r\n",
    )
    .unwrap();

    // Counts beyond Int64 are not clamped.
    let ndjson = dir.path().join("counts.ndjson");
    let row = |id: &str, field: &str| {
        format!(
            "{{\"conversation_id\":\"{id}\",\"channel\":\"twitter\",\"brand\":\"Acme\",\
             \"author_id\":\"u\",\"created_at\":\"2026-01-05T10:00:00Z\",\"text\":\"hi\",{field}}}\n"
        )
    };
    std::fs::write(
        &ndjson,
        [
            row("n1", "\"likes\":1e19"),
            row("n2", "\"shares\":1e300"),
            row("n3", "\"replies\":18446744073709551615"),
            row("n4", "\"likes\":12"),
        ]
        .concat(),
    )
    .unwrap();

    let summary = ingest(&engine, &[ms, us, csv, ndjson]).await;
    let landed = rows(
        &engine,
        "SELECT conversation_id, to_char(created_at, '%Y-%m-%dT%H:%M:%S'), text FROM conversations \
         ORDER BY conversation_id",
    )
    .await;
    assert_eq!(
        landed,
        [
            ["c4", "2026-01-05T10:03:00", "fine"],
            ["n4", "2026-01-05T10:00:00", "hi"],
            ["p1", "2026-01-05T00:00:00", "my parcel is late"],
        ],
        "{summary}"
    );
    let quarantined = rows(
        &engine,
        "SELECT coalesce(CAST(line AS VARCHAR), '-'), reason, raw FROM quarantine \
         ORDER BY source, line, raw",
    )
    .await;
    let reasons: Vec<&str> = quarantined.iter().map(|r| r[1].as_str()).collect();
    let has = |needle: &str| reasons.iter().filter(|r| r.contains(needle)).count();
    assert_eq!(has("created_at: out of range"), 3, "{reasons:?}");
    assert_eq!(has("not UTF-8"), 1, "{reasons:?}");
    assert_eq!(has("not a whole number in range"), 3, "{reasons:?}");
    assert_eq!(has("text after a closing quote"), 1, "{reasons:?}");
    // The merged records are kept whole in the quarantine, nothing lost.
    let merged = quarantined
        .iter()
        .find(|r| r[1].contains("closing quote"))
        .unwrap();
    assert_eq!(merged[0], "2");
    assert!(
        merged[2].starts_with("c1,") && merged[2].contains("c2,") && merged[2].contains("and more")
    );
    // After a CRLF record, the next bad one reports its own line and raw text.
    let missing_text = quarantined
        .iter()
        .find(|r| r[1].contains("missing text"))
        .unwrap();
    assert_eq!(missing_text[0], "6");
    assert!(missing_text[2].starts_with("c5,"), "{:?}", missing_text[2]);
    assert_eq!(summary.quarantined(), 9, "{summary}");
}

#[tokio::test]
async fn an_endless_stream_is_refused_not_read_forever() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let summary = ingest(&engine, &[PathBuf::from("/dev/zero")]).await;
    assert_eq!(summary.failed(), 1, "{summary}");
    let error = summary.files[0].error.as_deref().unwrap();
    assert!(error.contains("not line-oriented text"), "{error}");
}

/// Land `files` in the lake of `engine`, `segment_bytes` of NDJSON at a time.
async fn ingest_in_segments(
    engine: &socialcx::Engine,
    files: &[PathBuf],
    segment_bytes: usize,
) -> socialcx::ingest::IngestSummary {
    let options = socialcx::ingest::IngestOptions {
        segment_bytes,
        ..Default::default()
    };
    socialcx::ingest::ingest_files(engine, files, &options)
        .await
        .expect("ingest runs")
}

/// A large input is landed a few KiB at a time: threads that continue across segments
/// (replies carry no thread id, only their parent's), duplicates of ids an earlier segment
/// landed, broken lines in late segments: the lake holds what the generator made, with
/// the counts and quarantine line numbers of the whole input, and equals one whole landing.
#[tokio::test]
async fn an_input_landed_segment_by_segment_is_the_input_landed_whole() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "gen.ndjson", 6000, 21, OutputLayout::Ndjson);
    let generated = read_ndjson(&file);
    // The generator's threads are the reference: the input keeps only parent links.
    let mut lines = Vec::new();
    for row in &generated {
        let mut row = row.clone();
        row.remove("thread_id");
        lines.push(serde_json::Value::Object(row).to_string());
    }
    let originals: Vec<String> = lines[..40].to_vec();
    lines.extend(originals); // 40 ids again, from the first segment
    lines.insert(3000, "{\"conversation_id\": broken".into());
    lines.push("not json at all".into());
    let broken_at = [3001i64, lines.len() as i64];
    let input = dir.path().join("in.ndjson");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let size = std::fs::metadata(&input).unwrap().len() as usize;

    let whole_dir = tempfile::tempdir().unwrap();
    let whole = engine_in(whole_dir.path()).await;
    let whole_summary = ingest_in_segments(&whole, std::slice::from_ref(&input), usize::MAX).await;
    let segmented_dir = tempfile::tempdir().unwrap();
    let segmented = engine_in(segmented_dir.path()).await;
    let segment = 16 << 10;
    assert!(size / segment > 50, "the input spans many segments");
    let summary = ingest_in_segments(&segmented, std::slice::from_ref(&input), segment).await;

    for s in [&whole_summary, &summary] {
        assert_eq!(
            (s.landed(), s.duplicates(), s.quarantined(), s.failed()),
            (6000, 40, 2, 0),
            "{s}"
        );
    }
    let threads = rows(
        &segmented,
        "SELECT conversation_id, thread_id FROM conversations ORDER BY conversation_id",
    )
    .await;
    let mut expected: Vec<Vec<String>> = generated
        .iter()
        .map(|r| {
            vec![
                r["conversation_id"].as_str().unwrap().to_string(),
                r["thread_id"].as_str().unwrap().to_string(),
            ]
        })
        .collect();
    expected.sort();
    assert_eq!(threads.len(), expected.len());
    let wrong: Vec<_> = threads
        .iter()
        .zip(&expected)
        .filter(|(a, b)| a != b)
        .collect();
    assert!(
        wrong.is_empty(),
        "{} threads differ from the generator's (landed, generated): {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    let lines_of = |engine| async move {
        rows(engine, "SELECT line FROM quarantine ORDER BY line")
            .await
            .concat()
    };
    let want: Vec<String> = broken_at.iter().map(|l| l.to_string()).collect();
    assert_eq!(lines_of(&segmented).await, want);
    assert_eq!(lines_of(&whole).await, want);
    // Every column of every row, scores included, as one whole landing makes them.
    let everything = "SELECT * EXCEPT (ingest_id) FROM conversations ORDER BY conversation_id";
    assert_eq!(
        rows(&segmented, everything).await,
        rows(&whole, everything).await
    );

    // The same input again is known before any work, whichever way it was landed.
    let again = ingest_in_segments(&segmented, std::slice::from_ref(&input), segment).await;
    assert!(again.files[0].already_ingested, "{again}");
    // So is a stream of it (its size unknown until its end): nothing more lands.
    let piped = socialcx_stdin(
        segmented_dir.path().join("lake").as_path(),
        &[
            "ingest",
            "--no-progress",
            "--segment-mib",
            "1",
            "/dev/stdin",
        ],
        &std::fs::read_to_string(&input).unwrap(),
    );
    assert!(ok(&piped).contains("already ingested"), "{}", ok(&piped));
    assert_eq!(
        scalar(&segmented, "SELECT count(*) FROM conversations").await,
        6000
    );
}

/// Peak resident memory of the `socialcx` binary landing `input` in a new lake in `dir`,
/// `segment_mib` at a time, as the kernel counts it for that process (`VmHWM`, which the
/// command prints; a parent's `ru_maxrss` would include this test process's own memory,
/// which a child inherits at fork).
fn peak_rss_of_ingest(dir: &std::path::Path, input: &std::path::Path, segment_mib: &str) -> u64 {
    let input = input.display().to_string();
    let out = socialcx(
        &dir.join("lake"),
        &[
            "ingest",
            "--no-progress",
            "--segment-mib",
            segment_mib,
            &input,
        ],
    );
    let out = ok(&out);
    assert!(out.contains("0 failed files"), "{out}");
    let mib = out
        .lines()
        .find_map(|l| l.strip_prefix("peak memory (RSS): "))
        .and_then(|l| l.strip_suffix(" MiB"))
        .expect("the peak is printed on Linux");
    mib.parse::<u64>().unwrap() << 20
}

/// Memory is bounded by the segment, not the input: twelve times the input costs well under
/// half the added bytes more (the duplicate check's 16-odd bytes a row, more files to
/// commit), where landing it whole costs several times the added bytes. A peak is the
/// least of three runs: freed memory the allocator has not yet returned to the kernel only
/// ever adds to a run's peak, by up to 80 MiB from one run to the next (docs/benchmarks.md).
#[test]
fn memory_stays_bounded_by_the_segment_not_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let small = generate(dir.path(), "small.ndjson", 60_000, 5, OutputLayout::Ndjson);
    let large = generate(dir.path(), "large.ndjson", 720_000, 6, OutputLayout::Ndjson);
    let added = std::fs::metadata(&large).unwrap().len() - std::fs::metadata(&small).unwrap().len();
    let run = |name: &str, input: &std::path::Path, mib: &str| {
        (0..3)
            .map(|i| {
                let lake = dir.path().join(format!("{name}{i}"));
                std::fs::create_dir_all(&lake).unwrap();
                peak_rss_of_ingest(&lake, input, mib)
            })
            .min()
            .unwrap()
    };
    let (small_rss, large_rss) = (run("a", &small, "2"), run("b", &large, "2"));
    let grew = large_rss.saturating_sub(small_rss);
    assert!(
        grew < added / 2,
        "peak RSS grew by {} MiB for {} MiB more input ({} -> {} MiB)",
        grew >> 20,
        added >> 20,
        small_rss >> 20,
        large_rss >> 20
    );
    // Whole, the same input costs more than that: the bound is the segment's doing.
    let whole = run("c", &large, "4096");
    assert!(
        whole > large_rss + added,
        "whole {} MiB, in segments {} MiB",
        whole >> 20,
        large_rss >> 20
    );
}
