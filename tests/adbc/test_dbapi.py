"""The socialcx Flight SQL server through flightsql-dbapi and its SQLAlchemy dialect, what
Apache Superset uses: reflection with inspect(), a plain query, parameterised queries through
the DB-API cursor and SQLAlchemy text(), a report table function with bound parameters.

flightsql-dbapi binds parameters with DoPut, each value a one-row dense union, and then
executes the handle it prepared (not the one the DoPut answer carries). Expected values come
from DuckDB reading the lake's Parquet files, from the repository's queries/ directory and
from the report's own SQL run by DuckDB (scripts/duckdb_reports.py), never from the server.
"""
import contextlib
import math
import re
import subprocess
import sys
from urllib.parse import quote

import duckdb
import flightsql
import flightsql.sqlalchemy  # noqa: F401  (registers the datafusion+flightsql dialect name)
import pyarrow as pa
import pyarrow.flight as flight
import pyarrow.parquet as pq
import pytest
import sqlalchemy
from duckdb_reports import DuckReports
from flightsql import FlightSQLClient
from socialcx_testing import REPO, binary
from sqlalchemy import func, inspect, select, text, types

from conftest import PASSWORD, ROWS, USER

BY_BRAND = "SELECT count(*) AS n, sum(likes) AS likes FROM conversations WHERE brand = ? AND likes >= ?"
TRIAGE_WINDOWS = [("2026-01-20T00:00:00Z", "2026-01-30T00:00:00Z"),
                  ("2026-02-05T00:00:00Z", "2026-02-15T00:00:00Z")]


def host_port(server):
    host, port = server.uri.removeprefix("grpc://").rsplit(":", 1)
    return host, int(port)


def sqlalchemy_url(server, *options: str) -> str:
    """The URL docs/server.md gives: basic credentials (percent-encoded), plain TCP."""
    host, port = host_port(server)
    query = "&".join(("insecure=true",) + options)
    return f"datafusion+flightsql://{quote(USER, safe='')}:{quote(PASSWORD, safe='')}@{host}:{port}?{query}"


@contextlib.contextmanager
def dbapi(server):
    """A DB-API connection (flightsql-dbapi's own client, basic credentials, plain TCP)."""
    host, port = host_port(server)
    client = FlightSQLClient(host=host, port=port, user=USER, password=PASSWORD, insecure=True)
    conn = flightsql.connect(client)
    try:
        yield conn
    finally:
        conn.close()
        client.close()


@pytest.fixture(scope="module")
def engine(server):
    """The dialect's default: the client writes bound values into the SQL as literals, so
    statements must be compiled to text first, as Superset does (executing a statement with
    bound values would reuse the first values from SQLAlchemy's statement cache, and
    execution-time values would become NULL: see docs/server.md)."""
    engine = sqlalchemy.create_engine(sqlalchemy_url(server))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def prepared_engine(server):
    """The dialect with prepared statements on: the server binds the values."""
    engine = sqlalchemy.create_engine(
        sqlalchemy_url(server, "feature-sqlalchemy-prepared-statements=on"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def parquet(lake):
    """DuckDB over the lake's conversation files (one ingest: every file is committed)."""
    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")
    files = lake / "conversations" / "*" / "*.parquet"
    db.execute(f"CREATE VIEW conversations AS "
               f"SELECT * FROM read_parquet('{files}', hive_partitioning = false)")
    yield db
    db.close()


@pytest.fixture(scope="module")
def brands(parquet):
    return [b for (b,) in parquet.execute(
        "SELECT DISTINCT brand FROM conversations ORDER BY brand").fetchall()]


@pytest.fixture(scope="module")
def duck_reports(lake, tmp_path_factory):
    return DuckReports(binary(), lake, tmp_path_factory.mktemp("duck-reports"))


def sql_type(t: pa.DataType):
    """The SQLAlchemy type a column of Arrow type `t` should reflect as."""
    if pa.types.is_timestamp(t):
        return types.TIMESTAMP
    if pa.types.is_date(t):
        return types.DATE
    if pa.types.is_boolean(t):
        return types.BOOLEAN
    if pa.types.is_floating(t):
        return types.FLOAT
    if pa.types.is_int64(t):
        return types.BIGINT
    if pa.types.is_integer(t):
        return types.INTEGER
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return types.TEXT
    return types.BLOB  # lists: mentions, hashtags


def literal_sql(engine, statement) -> str:
    """`statement` compiled with its values written in, as Superset runs charts' queries."""
    return str(statement.compile(engine, compile_kwargs={"literal_binds": True}))


def by_brand_expected(parquet, brand, min_likes):
    return parquet.execute("SELECT count(*), sum(likes) FROM conversations "
                           "WHERE brand = ? AND likes >= ?", [brand, min_likes]).fetchone()


def test_inspect_lists_schemas_tables_and_columns(engine, lake, duck_reports):
    insp = inspect(engine)
    schemas = insp.get_schema_names()
    assert len(schemas) == len(set(schemas)), schemas
    assert {"public", "reports", "metrics", "information_schema"} <= set(schemas), schemas

    shipped = sorted(re.search(r"^-- name: (\w+)", p.read_text(), re.M).group(1)
                     for p in (REPO / "queries").glob("*.sql"))
    assert len(shipped) == 5
    assert sorted(insp.get_table_names(schema="reports")) == shipped
    public = insp.get_table_names(schema="public")
    assert {"conversations", "job_runs"} <= set(public), public
    assert "baseline_daily" in insp.get_table_names(schema="metrics")
    assert insp.has_table("conversations", schema="public")
    assert not insp.has_table("no_such_table", schema="public")

    # The columns of conversations are those of its Parquet files: names in order, types
    # and nullability.
    columns = insp.get_columns("conversations", schema="public")
    files = sorted((lake / "conversations").glob("*/*.parquet"))
    assert files
    stored = pq.read_schema(files[0])
    assert [c["name"] for c in columns] == stored.names
    assert [type(c["type"]) for c in columns] == [sql_type(f.type) for f in stored], columns
    assert [c["nullable"] for c in columns] == [f.nullable for f in stored]
    assert isinstance(columns[stored.names.index("created_at")]["type"], types.TIMESTAMP)

    # A report's view has the columns of the report's SQL as DuckDB runs it.
    report = duck_reports.run(duck_reports.report_sql("triage", {}))
    triage = insp.get_columns("triage", schema="reports")
    assert [c["name"] for c in triage] == report.column_names
    assert [type(c["type"]) for c in triage] == [sql_type(f.type) for f in report.schema]


def test_a_reflected_table_queried_as_superset_builds_queries(engine, prepared_engine, parquet,
                                                              brands):
    conversations = sqlalchemy.Table("conversations", sqlalchemy.MetaData(), schema="public",
                                     autoload_with=engine)
    assert "brand" in conversations.c and "likes" in conversations.c

    def query(brand, min_likes):
        return (select(func.count().label("n"), func.sum(conversations.c.likes).label("likes"))
                .where(conversations.c.brand == brand)
                .where(conversations.c.likes >= min_likes))

    cases = [(brands[0], 3), (brands[1], 12)]
    want = [by_brand_expected(parquet, b, m) for b, m in cases]
    assert want[0] != want[1]
    # Compiled to SQL text with the values in it, as Superset does.
    with engine.connect() as conn:
        got = [tuple(conn.exec_driver_sql(literal_sql(engine, query(b, m))).one())
               for b, m in cases]
    assert got == want
    # Executed as a statement, the values bound by the server.
    with prepared_engine.connect() as conn:
        got = [tuple(conn.execute(query(b, m)).one()) for b, m in cases]
    assert got == want


def test_the_entry_point_url_works_in_a_fresh_process(server):
    """`datafusion://` finds the dialect through flightsql-dbapi's entry point, with nothing
    imported first (as in a Superset worker); `datafusion+flightsql://` needs
    `import flightsql.sqlalchemy` (this module does it)."""
    url = sqlalchemy_url(server).replace("datafusion+flightsql://", "datafusion://", 1)
    script = ("import sys, sqlalchemy\n"
              "engine = sqlalchemy.create_engine(sys.argv[1])\n"
              "with engine.connect() as conn:\n"
              "    print(conn.exec_driver_sql('SELECT count(*) FROM conversations').scalar())\n")
    done = subprocess.run([sys.executable, "-c", script, url], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(ROWS)


def test_credentials_are_checked_in_the_handshake(server):
    host, port = host_port(server)
    with pytest.raises(flight.FlightUnauthenticatedError) as err:
        FlightSQLClient(host=host, port=port, user=USER, password="not the password",
                        insecure=True)
    assert "invalid user name or password" in str(err.value)
    assert "not the password" not in str(err.value)


def test_a_plain_query(server, engine, parquet):
    sql = ("SELECT channel, count(*) AS n, sum(likes) AS likes FROM conversations "
           "GROUP BY channel ORDER BY channel")
    want = parquet.execute(sql).fetchall()
    assert sum(n for _, n, _ in want) == ROWS
    with dbapi(server) as conn:
        cur = conn.cursor()
        cur.execute(sql)
        assert [d[0] for d in cur.description] == ["channel", "n", "likes"]
        assert [tuple(row) for row in cur.fetchall()] == want
    with engine.connect() as conn:
        assert [tuple(row) for row in conn.execute(text(sql))] == want
        assert conn.execute(text("SELECT count(*) FROM conversations")).scalar() == ROWS


def test_a_parameterised_query_twice_through_the_dbapi_cursor(server, parquet, brands):
    cases = [(brands[0], 0), (brands[1], 10)]
    with dbapi(server) as conn:
        cur = conn.cursor()
        got = []
        for brand, min_likes in cases:
            cur.execute(BY_BRAND, (brand, min_likes))
            assert [d[0] for d in cur.description] == ["n", "likes"]
            got.append(tuple(cur.fetchone()))
            assert cur.fetchone() is None
    want = [by_brand_expected(parquet, b, m) for b, m in cases]
    assert got == want
    assert got[0] != got[1] and all(n > 0 for n, _ in got)
    # The second case filters: fewer rows than the brand has.
    assert got[1][0] < parquet.execute("SELECT count(*) FROM conversations WHERE brand = ?",
                                       [brands[1]]).fetchone()[0]


def test_a_parameterised_query_twice_through_sqlalchemy_text(prepared_engine, engine, parquet,
                                                              brands):
    stmt = text("SELECT count(*) AS n, sum(likes) AS likes FROM conversations "
                "WHERE brand = :brand AND likes >= :min_likes")
    cases = [(brands[1], 0), (brands[0], 7)]
    want = [by_brand_expected(parquet, b, m) for b, m in cases]
    # Bound by the server (prepared statement, DoPut, the original handle executed).
    with prepared_engine.connect() as conn:
        got = [tuple(conn.execute(stmt, {"brand": b, "min_likes": m}).one()) for b, m in cases]
    assert got == want and got[0] != got[1]
    # The default dialect: the values compiled into the SQL text first (what Superset does).
    with engine.connect() as conn:
        got = [tuple(conn.exec_driver_sql(literal_sql(engine, stmt.bindparams(brand=b, min_likes=m)))
                     .one()) for b, m in cases]
    assert got == want


def triage_expected(duck_reports, start, end, brand):
    table = duck_reports.run(duck_reports.report_sql(
        "triage", {"from": start, "to": end, "brand": brand, "limit": "100000"}))
    return {row["thread_id"]: row for row in table.to_pylist()}


def assert_triage_matches(rows, expected):
    """`rows` (thread_id, team, status, priority) are the expected threads, by priority."""
    assert rows, "no rows: nothing compared"
    ours = {row[0]: row for row in rows}
    assert len(ours) == len(rows)
    assert ours.keys() == expected.keys()
    for thread_id, (_, team, status, priority) in ours.items():
        want = expected[thread_id]
        assert (team, status) == (want["team"], want["status"]), thread_id
        assert math.isclose(priority, want["priority"], rel_tol=1e-9, abs_tol=1e-9), thread_id
    priorities = [row[3] for row in rows]
    assert priorities == sorted(priorities, reverse=True)


def test_a_report_table_function_with_bound_parameters(server, prepared_engine, duck_reports,
                                                       brands):
    # from, to, brand bound; channel NULL (every channel), a 24-hour half-life; limit bound.
    sql = ("SELECT thread_id, team, status, priority FROM triage(?, ?, ?, NULL, 24, ?) "
           "ORDER BY priority DESC, thread_id")
    cases = [(start, end, brand) for (start, end), brand in zip(TRIAGE_WINDOWS, brands)]
    expected = [triage_expected(duck_reports, *case) for case in cases]
    assert expected[0].keys() != expected[1].keys()
    with dbapi(server) as conn:
        cur = conn.cursor()
        for (start, end, brand), want in zip(cases, expected):
            cur.execute(sql, (start, end, brand, 100_000))
            assert [d[0] for d in cur.description] == ["thread_id", "team", "status", "priority"]
            assert_triage_matches([tuple(row) for row in cur.fetchall()], want)

    # The same call through SQLAlchemy, the values bound by the server.
    stmt = text("SELECT thread_id, team, status, priority "
                "FROM triage(:start, :end, :brand, NULL, 24, :limit) "
                "ORDER BY priority DESC, thread_id")
    start, end, brand = cases[1]
    with prepared_engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(
            stmt, {"start": start, "end": end, "brand": brand, "limit": 100_000})]
    assert_triage_matches(rows, expected[1])
