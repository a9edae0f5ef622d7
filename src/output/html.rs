//! Results as HTML: one self-contained page (inline CSS, nothing fetched) and the table of
//! rows it shows. `socialcx sql --format html` writes a page holding one table; the report
//! pages (`crate::reports::page`) put their charts above the same table, on the same page.

use std::fmt::Write;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;

use crate::Result;

/// Rows a query's page shows (the page says how many it left out).
pub const QUERY_ROWS: usize = 10_000;

/// The style every page shares: the body, the header and the table of rows. The rows are
/// shown whole, in no scroll box of their own, so that what is printed is what was shown:
/// long text wraps in its cell (never cut off), column names break after an underscore, and
/// printing repeats the table's head on each page and keeps a row on one page.
pub const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;\
max-width:1100px;padding:16px 24px;color:#222}h1{margin:0 0 4px}header p{color:#666;margin:0 0 8px}\
.rows{overflow-x:auto;border:1px solid #eee}table{border-collapse:collapse;font-size:12px}\
th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}\
th{background:#fafafa;font-weight:600}td{white-space:nowrap}\
td.t{white-space:normal;min-width:24ch;overflow-wrap:anywhere}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.more,.empty{color:#666}\
@media print{body{max-width:none;padding:0;font-size:11px}.rows{overflow:visible;border:none}\
table{font-size:9px;width:100%}th,td{padding:1px 4px;white-space:normal;overflow-wrap:anywhere}\
thead{display:table-header-group}tr{break-inside:avoid}\
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

/// A cell's text at least this long wraps in its cell (class `t`) instead of widening its
/// column.
pub const WRAP_CHARS: usize = 48;

/// Text with `&`, `<`, `>` and quotes escaped for HTML and SVG.
///
/// ```
/// assert_eq!(socialcx::output::html::escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: `title` (plain text) as its title and heading, then `header` (HTML: what
/// made the page, when), then `body` (HTML). `style` adds to [`STYLE`].
///
/// ```
/// use socialcx::output::html::page;
/// let html = page("Q & A", "<p>socialcx</p>", "<p>body</p>", "");
/// assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<h1>Q &amp; A</h1>"));
/// ```
pub fn page(title: &str, header: &str, body: &str, style: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}{style}</style></head><body>\
         <header><h1>{t}</h1>{header}</header>{body}</body></html>\n",
        t = escape(title),
    )
}

/// The rows of `shown` (columns of `schema`) as an HTML table; when the result held more
/// (`total` rows in all), a line under it says how many were left out. A result without
/// columns (a DDL statement's) is no table at all.
///
/// ```
/// use std::sync::Arc;
/// use datafusion::arrow::array::{Int64Array, RecordBatch};
/// let batch = RecordBatch::try_from_iter([("n", Arc::new(Int64Array::from(vec![1, 2])) as _)]).unwrap();
/// let html = socialcx::output::html::table(&batch.schema(), &[batch.slice(0, 1)], 2).unwrap();
/// assert!(html.contains("<th>n</th>") && html.contains(">1</td>") && !html.contains(">2</td>"));
/// assert!(html.contains("2 rows, 1 shown"));
/// ```
pub fn table(schema: &Schema, shown: &[RecordBatch], total: usize) -> Result<String> {
    table_with(schema, shown, total, &|_, _| None)
}

/// [`table`] with some cells written differently: `cell(column, row)` (`row` counted over
/// all of `shown`) gives a cell's text, or `None` for the usual one. Report pages show rates
/// as percentages this way.
///
/// ```
/// use std::sync::Arc;
/// use datafusion::arrow::array::{Float64Array, RecordBatch};
/// let batch = RecordBatch::try_from_iter([("rate", Arc::new(Float64Array::from(vec![0.25])) as _)]).unwrap();
/// let html = socialcx::output::html::table_with(&batch.schema(), &[batch.clone()], 1,
///     &|column, row| (column == 0).then(|| format!("{}%", 25 + row))).unwrap();
/// assert!(html.contains(">25%</td>"), "{html}");
/// ```
pub fn table_with(
    schema: &Schema,
    shown: &[RecordBatch],
    total: usize,
    cell: &dyn Fn(usize, usize) -> Option<String>,
) -> Result<String> {
    if schema.fields().is_empty() {
        return Ok(String::new());
    }
    let options = super::display_options().with_null("");
    let mut out = String::from("<div class=\"rows\"><table><thead><tr>");
    for f in schema.fields() {
        // A long column name may break after an underscore rather than widen its column.
        let name = escape(f.name()).replace('_', "_<wbr>");
        let _ = write!(out, "<th>{name}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    let numeric: Vec<bool> = schema
        .fields()
        .iter()
        .map(|f| f.data_type().is_numeric())
        .collect();
    // Floats come rounded from the formatters; decimals are shown to 4 places.
    let decimal: Vec<bool> = schema
        .fields()
        .iter()
        .map(|f| f.data_type().is_decimal())
        .collect();
    let mut shown_rows = 0;
    for batch in shown {
        let formatters = super::formatters(batch, &options)?;
        for i in 0..batch.num_rows() {
            out.push_str("<tr>");
            for (c, ((formatter, numeric), decimal)) in
                formatters.iter().zip(&numeric).zip(&decimal).enumerate()
            {
                let text = match cell(c, shown_rows + i) {
                    Some(text) => text,
                    None => {
                        let mut text = formatter.value(i).to_string();
                        if *decimal
                            && text.contains('.')
                            && let Ok(f) = text.parse::<f64>()
                        {
                            text = format!("{f:.4}");
                        }
                        text
                    }
                };
                let class = if *numeric {
                    " class=\"n\""
                } else if text.chars().count() >= WRAP_CHARS {
                    " class=\"t\""
                } else {
                    ""
                };
                let _ = write!(out, "<td{class}>{}</td>", escape(&text));
            }
            out.push_str("</tr>");
        }
        shown_rows += batch.num_rows();
    }
    out.push_str("</tbody></table></div>");
    if total > shown_rows {
        let _ = write!(
            out,
            "<p class=\"more\">{total} rows, {shown_rows} shown: --format csv or parquet writes all of them.</p>"
        );
    }
    Ok(out)
}
