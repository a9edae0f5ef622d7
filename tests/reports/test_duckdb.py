"""Every shipped report against DuckDB running the same SQL on the same Parquet.

socialcx writes its lake's conversations to Parquet with the custom functions materialised as
columns (sentiment, moment of truth, author influence); DuckDB runs the report's own bound SQL
over those files (scripts/duckdb_reports.py lists the few dialect rewrites), and the two
results must match row for row: same keys, same values (floats to 1e-9), same order where the
report's ORDER BY decides it.
"""
import datetime as dt
import math

import pyarrow as pa
import pytest
from duckdb_reports import DuckReports, params, socialcx
from socialcx_testing import binary, generated_lake

# Report -> the columns that identify a row.
KEYS = {
    "baseline": ["brand", "channel", "stage", "day"],
    "channel_audit": ["stage", "channel"],
    "influencers": ["author_id"],
    "triage": ["thread_id"],
    "vs_baseline": ["brand", "channel", "stage", "metric"],
}

# Each report with its defaults and with a narrower window / filter.
CASES = [
    ("baseline", {}),
    ("baseline", {"from": "2026-01-20", "to": "2026-02-10", "brand": "Voltix"}),
    ("baseline", {"channel": "twitter"}),
    ("channel_audit", {}),
    ("channel_audit", {"from": "2026-02-01", "to": "2026-02-15", "min_posts": "10"}),
    ("influencers", {}),
    ("influencers", {"from": "2026-01-15", "to": "2026-02-15", "brand": "Telvia", "limit": "25"}),
    ("triage", {"limit": "100000"}),
    ("triage", {"from": "2026-02-01", "to": "2026-02-10T12:00:00Z", "channel": "forum",
                "half_life_hours": "6", "limit": "100000"}),
    ("vs_baseline", {}),
    ("vs_baseline", {"from": "2026-02-20", "to": "2026-02-27", "baseline_days": "21",
                     "threshold": "1.5", "brand": "SkyJet"}),
]


@pytest.fixture(scope="module")
def duck(tmp_path_factory):
    root = tmp_path_factory.mktemp("duck")
    lake = generated_lake(root, 30_000, seed=11, days=60)
    return DuckReports(binary(), lake, root / "duckdb")


def rows_by_key(table: pa.Table, keys):
    rows = table.to_pylist()
    out = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        assert key not in out, f"duplicate key {key}"
        out[key] = row
    return [tuple(r[k] for k in keys) for r in rows], out


def same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a.astimezone(dt.timezone.utc) == b.astimezone(dt.timezone.utc)
    return a == b


@pytest.mark.parametrize("name,values", CASES,
                         ids=[f"{n}-{'defaults' if not v else 'filtered'}" for n, v in CASES])
def test_report_matches_duckdb(duck, name, values, tmp_path):
    out = tmp_path / "ours.parquet"
    socialcx(duck.binary, duck.lake, "report", name, *params(values),
             "--format", "parquet", "-o", str(out))
    import pyarrow.parquet as pq
    ours = pq.read_table(out)
    theirs = duck.run(duck.report_sql(name, values))
    assert ours.column_names == theirs.column_names
    assert ours.num_rows > 0, f"{name} {values}: no rows, nothing compared"
    assert ours.num_rows == theirs.num_rows
    keys = KEYS[name]
    our_order, our_rows = rows_by_key(ours, keys)
    their_order, their_rows = rows_by_key(theirs, keys)
    assert our_rows.keys() == their_rows.keys()
    mismatches = [
        (key, column, our_rows[key][column], their_rows[key][column])
        for key in our_rows
        for column in ours.column_names
        if not same(our_rows[key][column], their_rows[key][column])
    ]
    assert not mismatches, f"{len(mismatches)} differences, first: {mismatches[:5]}"
    if name in ("baseline", "channel_audit", "influencers"):
        # Ordered by unique keys (or a materialised score): the order must be identical.
        assert our_order == their_order
    else:
        # Ordered by a computed score: ours must be sorted by it.
        score = "priority" if name == "triage" else "z_score"
        values = [abs(our_rows[k][score]) if our_rows[k][score] is not None else -1.0
                  for k in our_order if name == "triage" or not our_rows[k]["flagged"]]
        assert all(a >= b - 1e-12 for a, b in zip(values, values[1:]))


def test_the_comparison_can_fail(duck):
    """A report SQL with a deliberate change gives a different DuckDB answer: the check bites."""
    sql = duck.report_sql("channel_audit", {})
    assert "sentiment >= 0.05" in sql
    broken = duck.run(sql.replace("sentiment >= 0.05", "sentiment > 0.5"))
    right = duck.run(sql)
    assert broken.column("net_sentiment").to_pylist() != right.column("net_sentiment").to_pylist()
