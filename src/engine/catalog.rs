//! `socialcx_functions()`: every function the calling session knows (scalar, aggregate,
//! window and table functions), socialcx's own first, each with its syntax, a description and
//! an example. A table function, so it works from every client (the shell, `socialcx sql`,
//! BI tools over Flight SQL):
//!
//! ```sql
//! SELECT function_name, function_type, syntax, description
//! FROM socialcx_functions() WHERE origin = 'socialcx';
//! ```
//!
//! DataFusion's `SHOW FUNCTIONS` (and `information_schema.routines`) lists scalar, aggregate
//! and window functions only, by name. Scalar, aggregate and window functions here take their
//! text from their documentation (`ScalarUDFImpl::documentation`); DataFusion keeps none for
//! table functions, so the engine's own are described here and the others through
//! [`describe`] (the shipped reports describe theirs when they register). A function is
//! socialcx's when DataFusion's default session has no function of that kind and name.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock, Mutex};

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_err};
use datafusion::datasource::MemTable;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::Documentation;
use datafusion::prelude::SessionContext;

use super::files::FileKind;
use super::table_function::session_state;

/// The function's SQL name.
pub const NAME: &str = "socialcx_functions";

/// The kinds of function, in the order they are listed.
const KINDS: [&str; 4] = ["scalar", "aggregate", "window", "table"];

/// Register `socialcx_functions()` on `ctx` (with the engine's own table functions described).
///
/// ```
/// let ctx = datafusion::prelude::SessionContext::new();
/// socialcx::engine::catalog::register(&ctx);
/// assert!(ctx.table_function("socialcx_functions").is_ok());
/// ```
pub fn register(ctx: &SessionContext) {
    ctx.register_udtf(NAME, Arc::new(FunctionCatalog::new()));
}

/// Say what the table function `name` does, for `socialcx_functions()`: its `syntax`
/// (`triage(from, to, brand)`), a `description` and an `example`. Does nothing on a session
/// without `socialcx_functions()` (see [`register`]).
///
/// ```
/// use socialcx::engine::catalog::{describe, register};
/// let ctx = datafusion::prelude::SessionContext::new();
/// register(&ctx);
/// describe(&ctx, "range", "range(stop)", "Integers from 0 below stop.", Some("SELECT * FROM range(3)"));
/// ```
pub fn describe(
    ctx: &SessionContext,
    name: &str,
    syntax: &str,
    description: &str,
    example: Option<&str>,
) {
    let Ok(function) = ctx.table_function(NAME) else {
        return;
    };
    let function: &dyn TableFunctionImpl = function.function().as_ref();
    let function: &dyn std::any::Any = function;
    if let Some(catalog) = function.downcast_ref::<FunctionCatalog>() {
        catalog.describe(name, syntax, description, example);
    }
}

/// What a table function is, in words.
#[derive(Debug, Clone)]
struct Described {
    syntax: String,
    description: String,
    example: Option<String>,
}

/// `socialcx_functions()`, as registered: the table functions' descriptions.
#[derive(Debug)]
pub struct FunctionCatalog {
    described: Mutex<BTreeMap<String, Described>>,
}

impl Default for FunctionCatalog {
    fn default() -> Self {
        Self::new()
    }
}

impl FunctionCatalog {
    /// The catalog, with the engine's own table functions described.
    ///
    /// ```
    /// let ctx = datafusion::prelude::SessionContext::new();
    /// let catalog = socialcx::engine::catalog::FunctionCatalog::new();
    /// ctx.register_udtf("socialcx_functions", std::sync::Arc::new(catalog));
    /// ```
    pub fn new() -> FunctionCatalog {
        let catalog = FunctionCatalog {
            described: Mutex::new(BTreeMap::new()),
        };
        catalog.describe(
            "author_influence",
            "author_influence([from, to [, brand]])",
            "One row per author of the interaction graph (replies, mentions and shares in the window): weighted PageRank, degrees, distinct engagers, reach, conversations, messages and an influence percentile. from (inclusive) and to (exclusive) bound created_at; NULL leaves a bound open.",
            Some(
                "SELECT author_id, pagerank FROM author_influence('2026-01-01', '2026-02-01') WHERE NOT is_brand LIMIT 20",
            ),
        );
        catalog.describe(
            "thread_centrality",
            "thread_centrality([from, to [, brand]])",
            "One row per participant of each thread in the window: degree, closeness and betweenness centrality in the thread's reply graph, and the thread's centre.",
            Some(
                "SELECT thread_id, centre FROM thread_centrality() WHERE is_centre AND participants > 5",
            ),
        );
        for kind in FileKind::ALL {
            catalog.describe(
                kind.name(),
                kind.signature(),
                kind.description(),
                Some(kind.example()),
            );
        }
        catalog.describe(
            NAME,
            "socialcx_functions()",
            "Every function this session knows (scalar, aggregate, window and table), socialcx's own first, with its syntax, a description and an example.",
            Some("SELECT function_name, syntax FROM socialcx_functions() WHERE origin = 'socialcx'"),
        );
        catalog
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Described>> {
        self.described.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Describe the table function `name` (replacing what was said of it).
    fn describe(&self, name: &str, syntax: &str, description: &str, example: Option<&str>) {
        self.lock().insert(
            name.to_string(),
            Described {
                syntax: syntax.to_string(),
                description: description.to_string(),
                example: example.map(str::to_string),
            },
        );
    }

    /// The functions of `state`, in the order listed.
    fn entries(&self, state: &SessionState) -> Vec<Entry> {
        let builtin = &*DATAFUSION;
        let mut entries = Vec::new();
        let documented = |name: &str, kind: usize, doc: Option<&Documentation>| Entry {
            name: name.to_string(),
            kind,
            own: !builtin[kind].contains(name),
            syntax: doc.map(|d| d.syntax_example.clone()),
            description: doc.map(|d| d.description.clone()),
            example: doc.and_then(|d| d.sql_example.clone()),
        };
        // The maps hold aliases too: each function is listed once, by its name.
        for (name, f) in state.scalar_functions() {
            if name == f.name() {
                entries.push(documented(name.as_str(), 0, f.documentation()));
            }
        }
        for (name, f) in state.aggregate_functions() {
            if name == f.name() {
                entries.push(documented(name.as_str(), 1, f.documentation()));
            }
        }
        for (name, f) in state.window_functions() {
            if name == f.name() {
                entries.push(documented(name.as_str(), 2, f.documentation()));
            }
        }
        let described = self.lock();
        for name in state.table_functions().keys() {
            let about = described.get(name);
            entries.push(Entry {
                name: name.clone(),
                kind: 3,
                own: !builtin[3].contains(name),
                syntax: about.map(|d| d.syntax.clone()),
                description: about.map(|d| d.description.clone()),
                example: about.and_then(|d| d.example.clone()),
            });
        }
        entries.sort_by(|a, b| {
            b.own
                .cmp(&a.own)
                .then(a.kind.cmp(&b.kind))
                .then_with(|| a.name.cmp(&b.name))
        });
        entries
    }
}

/// The names of DataFusion's own functions, by kind (as [`KINDS`]).
static DATAFUSION: LazyLock<[BTreeSet<String>; 4]> = LazyLock::new(|| {
    let state = SessionContext::new().state();
    [
        state.scalar_functions().keys().cloned().collect(),
        state.aggregate_functions().keys().cloned().collect(),
        state.window_functions().keys().cloned().collect(),
        state.table_functions().keys().cloned().collect(),
    ]
});

/// One row of `socialcx_functions()`.
struct Entry {
    name: String,
    /// An index into [`KINDS`].
    kind: usize,
    own: bool,
    syntax: Option<String>,
    description: Option<String>,
    example: Option<String>,
}

/// The columns of `socialcx_functions()`.
fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("function_name", DataType::Utf8, false),
        Field::new("function_type", DataType::Utf8, false),
        Field::new("origin", DataType::Utf8, false),
        Field::new("syntax", DataType::Utf8, true),
        Field::new("description", DataType::Utf8, true),
        Field::new("example", DataType::Utf8, true),
    ]))
}

impl TableFunctionImpl for FunctionCatalog {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        if !args.exprs().is_empty() {
            return plan_err!("{NAME}() takes no arguments");
        }
        let state = session_state(args.session(), NAME)?;
        let entries = self.entries(state);
        let text = |f: fn(&Entry) -> Option<&str>| -> ArrayRef {
            Arc::new(entries.iter().map(f).collect::<StringArray>())
        };
        let columns: Vec<ArrayRef> = vec![
            text(|e| Some(e.name.as_str())),
            text(|e| Some(KINDS[e.kind])),
            text(|e| Some(if e.own { "socialcx" } else { "datafusion" })),
            text(|e| e.syntax.as_deref()),
            text(|e| e.description.as_deref()),
            text(|e| e.example.as_deref()),
        ];
        let batch = RecordBatch::try_new(schema(), columns)?;
        Ok(Arc::new(MemTable::try_new(schema(), vec![vec![batch]])?))
    }
}
