"""Run socialcx's shipped reports in DuckDB, for the correctness tests and the benchmark.

The SQL is socialcx's own: `socialcx report NAME --sql` prints it with the parameters bound,
and a short, fixed list of rewrites (RULES) turns it into DuckDB's dialect:

* the reports read the scores socialcx stores in `conversations` (`cx_sentiment`, `stage`),
  which `conversations.parquet` holds; a call of `sentiment(text)` or `moment_of_truth(text)`
  (none in the shipped reports) would read columns materialised beside them; each
  `author_influence(args)` call becomes `read_parquet(...)` of that call's result;
* socialcx's typed timestamp literal `arrow_cast(µs, 'Timestamp(µs, "UTC")')` becomes
  `make_timestamp(µs)::TIMESTAMPTZ`, `to_unixtime(` becomes DuckDB's `epoch(`, and the aggregate
  `first_value(x ORDER BY ...)` becomes DuckDB's `first(x ORDER BY ...)` (DuckDB's
  `first_value` is a window function only; no report uses it as one), and
  `named_struct('a', x, 'b', y)` becomes `struct_pack(a := x, b := y)` (`max_by`, `row(...)`
  and `s['a']` are the same in both).

Nothing else changes: the joins, windows, aggregates and filters DuckDB runs are the report's.
"""
from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import duckdb

TS = r"'Timestamp\(µs, \"UTC\"\)'"
RULES = [
    (re.compile(r"arrow_cast\((-?\d+), " + TS + r"\)"), r"(make_timestamp(\1)::TIMESTAMPTZ)"),
    (re.compile(r"arrow_cast\(NULL, " + TS + r"\)"), "CAST(NULL AS TIMESTAMPTZ)"),
    (re.compile(r"\bto_unixtime\("), "epoch("),
    (re.compile(r"\bfirst_value\("), "first("),
    (re.compile(r"\b(sentiment|moment_of_truth)\(((?:\w+\.)?)text\)"), r"\2\1_text"),
]
INFLUENCE = re.compile(r"\bauthor_influence\(")
NAMED_STRUCT = re.compile(r"\bnamed_struct\(")
FIELD_NAME = re.compile(r"'(\w+)'")


def unquoted(sql: str, open_paren: int):
    """(index, character, depth) of each character outside quotes from the parenthesis at
    `open_paren` to the one closing it (depth 1 inside it, 0 at the closing one)."""
    depth, quote = 0, None
    for i in range(open_paren, len(sql)):
        c = sql[i]
        if quote:
            quote = None if c == quote else quote
            continue
        if c in "'\"":
            quote = c
            continue
        depth += (c == "(") - (c == ")")
        yield i, c, depth
        if depth == 0:
            return
    raise ValueError("unbalanced parentheses")


def call_arguments(sql: str, open_paren: int) -> int:
    """The index of the parenthesis closing the one at `open_paren` (quotes respected)."""
    return max(i for i, _, _ in unquoted(sql, open_paren))


def struct_packs(sql: str) -> str:
    """Every `named_struct('a', x, ...)` of `sql` as DuckDB's `struct_pack(a := x, ...)`."""
    while match := NAMED_STRUCT.search(sql):
        args, start, close = [], match.end(), None
        for i, c, depth in unquoted(sql, match.end() - 1):
            if (c == "," and depth == 1) or depth == 0:
                args.append(sql[start:i].strip())
                start, close = i + 1, i
        names = [FIELD_NAME.fullmatch(n) for n in args[0::2]]
        if len(names) != len(args[1::2]) or not all(names):
            raise ValueError(f"named_struct with other than literal field names: {sql[match.start():close + 1]}")
        pairs = ", ".join(f"{n[1]} := {v}" for n, v in zip(names, args[1::2]))
        sql = f"{sql[:match.start()]}struct_pack({pairs}){sql[close + 1:]}"
    return sql


MATERIALISED = """
SELECT *, sentiment(text) AS sentiment_text, moment_of_truth(text) AS moment_of_truth_text
FROM conversations
"""


def socialcx(binary: str, lake: Path, *args: str) -> str:
    done = subprocess.run([binary, "--lake", str(lake), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"socialcx {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def params(values: dict[str, str]) -> list[str]:
    out = []
    for name, value in values.items():
        out += ["-p", f"{name}={value}"]
    return out


class DuckReports:
    """A DuckDB database over socialcx's lake, with the function columns materialised."""

    def __init__(self, binary: str, lake: Path, work: Path):
        self.binary, self.lake, self.work = binary, lake, work
        work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        conversations = work / "conversations.parquet"
        socialcx(binary, lake, "sql", MATERIALISED, "--format", "parquet", "-o", str(conversations))
        routing = work / "routing.parquet"
        socialcx(binary, lake, "sql", "SELECT * FROM routing", "--format", "parquet", "-o", str(routing))
        self.materialise_seconds = time.perf_counter() - started
        self.db = duckdb.connect()
        self.db.execute("SET TimeZone = 'UTC'")
        self.db.execute(f"CREATE VIEW conversations AS SELECT * FROM read_parquet('{conversations}')")
        self.db.execute(f"CREATE VIEW routing AS SELECT * FROM read_parquet('{routing}')")
        self.influence_calls = 0

    def translate(self, sql: str) -> str:
        """socialcx's bound SQL in DuckDB's dialect; materialises author_influence calls."""

        while match := INFLUENCE.search(sql):
            close = call_arguments(sql, match.end() - 1)
            self.influence_calls += 1
            path = self.work / f"influence_{self.influence_calls}.parquet"
            socialcx(self.binary, self.lake, "sql", f"SELECT * FROM {sql[match.start():close + 1]}",
                     "--format", "parquet", "-o", str(path))
            sql = f"{sql[:match.start()]}read_parquet('{path}'){sql[close + 1:]}"
        for pattern, replacement in RULES:
            sql = pattern.sub(replacement, sql)
        return struct_packs(sql)

    def report_sql(self, name: str, values: dict[str, str]) -> str:
        return self.translate(socialcx(self.binary, self.lake, "report", name, "--sql", *params(values)))

    def run(self, sql: str):
        """The result as a pyarrow Table."""
        return self.db.sql(sql).to_arrow_table()
