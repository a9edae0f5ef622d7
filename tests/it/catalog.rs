//! `socialcx_functions()` and the shell's `.functions`: every function, socialcx's own first,
//! table functions described; checked against the UDFs' own documentation and the report
//! headers in `queries/`.

use std::collections::BTreeSet;
use std::path::Path;

use datafusion::execution::FunctionRegistry;

use crate::common::{self, ok, socialcx};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socialcx_functions_lists_ours_first_with_table_functions_described() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    let rows = common::rows(
        &engine,
        "SELECT function_name, function_type, origin, syntax, description, example \
         FROM socialcx_functions()",
    )
    .await;
    let find = |name: &str| {
        rows.iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("{name} is not listed"))
    };

    // Ours first, then DataFusion's; each function once.
    let first_datafusion = rows.iter().position(|r| r[2] == "datafusion").unwrap();
    assert!(first_datafusion > 0);
    assert!(rows[..first_datafusion].iter().all(|r| r[2] == "socialcx"));
    assert!(
        rows[first_datafusion..]
            .iter()
            .all(|r| r[2] == "datafusion")
    );
    let distinct: BTreeSet<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(distinct.len(), rows.len());

    // A scalar function, as its own documentation says.
    let udf = engine.context().udf("cx_sentiment").unwrap();
    let doc = udf.documentation().unwrap();
    assert_eq!(
        find("cx_sentiment")[1..5],
        [
            "scalar",
            "socialcx",
            doc.syntax_example.as_str(),
            doc.description.as_str()
        ]
    );
    assert_eq!(find("influence")[1..3], ["scalar", "socialcx"]);
    // Our aggregates, listed once by name (not again by their alias arg_max, arg_min).
    for name in ["max_by", "min_by"] {
        let row = find(name);
        assert_eq!(
            row[1..4],
            ["aggregate", "socialcx", &format!("{name}(value, key)")]
        );
        assert!(row[5].contains(name), "{row:?}");
    }
    assert!(!rows.iter().any(|r| r[0] == "arg_max" || r[0] == "arg_min"));

    // The engine's table functions, with their syntax, a description and an example.
    for name in [
        "read_parquet",
        "read_csv",
        "read_json",
        "author_influence",
        "thread_centrality",
        "socialcx_functions",
    ] {
        let row = find(name);
        assert_eq!(row[1..3], ["table", "socialcx"], "{name}");
        assert!(row[3].starts_with(&format!("{name}(")), "{row:?}");
        assert!(!row[4].is_empty() && row[5].contains(name), "{row:?}");
    }
    // Every shipped report, as its file declares it.
    for report in common::report_files() {
        let row = find(report.name.as_str());
        let params: Vec<&str> = report.params.iter().map(|(p, _)| p.as_str()).collect();
        let syntax = format!("{}({})", report.name, params.join(", "));
        assert_eq!(row[1..4], ["table", "socialcx", syntax.as_str()]);
        assert!(row[4].starts_with(&report.title), "{row:?}");
    }

    // DataFusion's own, after ours: scalar, aggregate, window and table functions.
    assert_eq!(find("upper")[1..3], ["scalar", "datafusion"]);
    assert!(
        !find("upper")[4].is_empty(),
        "DataFusion's documentation shows"
    );
    assert_eq!(find("count")[1..3], ["aggregate", "datafusion"]);
    assert_eq!(find("row_number")[1..3], ["window", "datafusion"]);
    // (generate_series is also DataFusion's array function: one row of each kind.)
    assert!(
        rows.iter()
            .any(|r| r[0] == "generate_series" && r[1..3] == ["table", "datafusion"]),
        "generate_series as a table function"
    );
    // Within each origin, scalar functions come before table functions.
    let at = |name: &str| rows.iter().position(|r| r[0] == name).unwrap();
    assert!(at("sentiment") < at("author_influence"));
    let table_at = |name: &str| {
        rows.iter()
            .position(|r| r[0] == name && r[1] == "table")
            .unwrap()
    };
    assert!(at("upper") < table_at("generate_series"));
}

#[test]
fn the_shell_lists_the_functions() {
    let lake = Path::new("memory://");
    let out = ok(&socialcx(
        lake,
        &["shell", "-c", ".format csv", "-c", ".functions"],
    ));
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("function_name,function_type,origin,syntax,description")
    );
    let names: Vec<&str> = lines.map(|l| l.split(',').next().unwrap()).collect();
    let at = |name: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .unwrap_or_else(|| panic!("{name} not in {out}"))
    };
    assert!(at("read_parquet") < at("upper"), "{out}");
    assert!(at("sentiment") < at("read_csv"), "{out}");
}
