"""The socialcx Flight SQL server through the ADBC Flight SQL driver (what notebooks and
Power BI use), as a client sees it: connect, browse, query, prepare, fail, in parallel."""
from concurrent.futures import ThreadPoolExecutor

import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from conftest import PASSWORD, ROWS, USER


def connect(server, user=USER, password=PASSWORD):
    kwargs = {}
    if user is not None:
        kwargs = {
            adbc_driver_manager.DatabaseOptions.USERNAME.value: user,
            adbc_driver_manager.DatabaseOptions.PASSWORD.value: password,
        }
    # The server has no transactions: every statement stands alone.
    return flight_sql.connect(server.uri, db_kwargs=kwargs, autocommit=True)


def query(conn, sql, parameters=None):
    with conn.cursor() as cur:
        cur.execute(sql, parameters)
        return cur.fetch_arrow_table()


def no_view_types(schema: pa.Schema):
    for field in schema:
        assert not pa.types.is_string_view(field.type), field
        assert not pa.types.is_binary_view(field.type), field
        assert not pa.types.is_dictionary(field.type), field


def test_info_names_the_server(server):
    with connect(server) as conn:
        info = conn.adbc_get_info()
        assert info["vendor_name"] == "socialcx"
        assert info["vendor_version"] and info["vendor_arrow_version"]


def test_get_objects_at_every_depth(server):
    with connect(server) as conn:
        catalogs = conn.adbc_get_objects(depth="catalogs").read_all().to_pylist()
        assert [c["catalog_name"] for c in catalogs] == ["socialcx"]

        schemas = conn.adbc_get_objects(depth="db_schemas").read_all().to_pylist()
        names = {s["db_schema_name"] for c in schemas for s in c["catalog_db_schemas"]}
        assert {"public", "information_schema"} <= names

        tables = conn.adbc_get_objects(depth="tables", db_schema_filter="public").read_all().to_pylist()
        found = {(t["table_name"], t["table_type"])
                 for c in tables for s in c["catalog_db_schemas"] for t in s["db_schema_tables"]}
        assert ("conversations", "TABLE") in found

        for depth in ("columns", "all"):
            objects = conn.adbc_get_objects(depth=depth, table_name_filter="conversations").read_all()
            tables = [t for c in objects.to_pylist() for s in c["catalog_db_schemas"]
                      for t in s["db_schema_tables"]]
            assert [t["table_name"] for t in tables] == ["conversations"]
            columns = [col["column_name"] for col in tables[0]["table_columns"]]
            positions = [col["ordinal_position"] for col in tables[0]["table_columns"]]
            # The same columns, in the same order, as information_schema says.
            expected = query(conn, "SELECT column_name FROM information_schema.columns "
                                   "WHERE table_name = 'conversations' ORDER BY ordinal_position")
            assert columns == expected["column_name"].to_pylist()
            assert positions == list(range(1, len(columns) + 1))


def test_get_table_schema_matches_a_query(server):
    with connect(server) as conn:
        schema = conn.adbc_get_table_schema("conversations", db_schema_filter="public")
        result = query(conn, "SELECT * FROM conversations LIMIT 5")
        assert schema.names == result.schema.names
        assert [f.type for f in schema] == [f.type for f in result.schema]
        no_view_types(schema)
        created = schema.field("created_at").type
        assert pa.types.is_timestamp(created) and created.tz == "UTC"
        assert set(conn.adbc_get_table_types()) == {"TABLE", "VIEW", "SYSTEM TABLE", "LOCAL TEMPORARY"}


def test_custom_functions_agree_with_the_reference(server):
    with connect(server) as conn:
        table = query(conn, "SELECT text, sentiment(text) AS s, moment_of_truth(text) AS stage "
                            "FROM conversations ORDER BY conversation_id LIMIT 300")
    assert table.num_rows == 300
    no_view_types(table.schema)
    vader = SentimentIntensityAnalyzer()
    for text, score in zip(table["text"].to_pylist(), table["s"].to_pylist()):
        assert score == vader.polarity_scores(text)["compound"], text
    stages = set(table["stage"].to_pylist()) - {None}
    assert stages <= {"awareness", "consideration", "purchase", "experience", "service", "advocacy"}
    assert len(stages) >= 3


def test_prepared_statement_runs_twice_with_different_values(server):
    with connect(server) as conn:
        counts = query(conn, "SELECT brand, count(*) AS n FROM conversations GROUP BY brand")
        expected = dict(zip(counts["brand"].to_pylist(), counts["n"].to_pylist()))
        sql = "SELECT count(*) AS n FROM conversations WHERE brand = ? AND likes >= ?"
        with conn.cursor() as cur:
            params = cur.adbc_prepare(sql)
            assert params is not None and len(params) == 2
            brands = sorted(expected)[:2]
            for brand in brands:
                cur.execute(sql, (brand, 0))
                assert cur.fetch_arrow_table()["n"].to_pylist() == [expected[brand]]
        # A second cursor with $n placeholders and a value that filters.
        with conn.cursor() as cur:
            sql = "SELECT count(*) AS n FROM conversations WHERE brand = $1 AND likes >= $2"
            cur.execute(sql, (brands[0], 10))
            got = cur.fetch_arrow_table()["n"].to_pylist()
            want = query(conn, f"SELECT count(*) AS n FROM conversations "
                               f"WHERE brand = '{brands[0]}' AND likes >= 10")["n"].to_pylist()
            assert got == want and got[0] < expected[brands[0]]


def test_bad_sql_is_an_error_and_the_server_goes_on(server):
    with connect(server) as conn:
        with pytest.raises(adbc_driver_manager.Error) as err:
            query(conn, "SELEC brand FROM conversations")
        assert "SELEC" in str(err.value) or "syntax" in str(err.value).lower()
        with pytest.raises(adbc_driver_manager.Error) as err:
            query(conn, "SELECT * FROM no_such_table")
        assert "no_such_table" in str(err.value)
        assert query(conn, "SELECT 1 AS one")["one"].to_pylist() == [1]


def test_ddl_is_refused(server):
    with connect(server) as conn:
        for sql in ("CREATE VIEW v AS SELECT 1", "DROP TABLE conversations",
                    "CREATE TABLE t AS SELECT 1"):
            with pytest.raises(adbc_driver_manager.Error) as err:
                query(conn, sql)
            assert "read-only" in str(err.value), sql
        assert query(conn, "SELECT count(*) AS n FROM conversations")["n"].to_pylist() == [ROWS]


def test_wrong_or_missing_credentials_are_refused(server):
    with pytest.raises(adbc_driver_manager.Error) as err:
        with connect(server, password="not the password") as conn:
            query(conn, "SELECT 1")
    assert "invalid user name or password" in str(err.value), err.value
    assert PASSWORD not in str(err.value)
    with pytest.raises(adbc_driver_manager.Error) as err:
        with connect(server, user=None) as conn:
            query(conn, "SELECT 1")
    assert "authentication required" in str(err.value), err.value


def test_a_million_rows(server):
    with connect(server) as conn:
        table = query(conn, "SELECT value, value * 2 AS twice FROM generate_series(1, 1000000)")
    n = 1_000_000
    assert table.num_rows == n
    assert pc.sum(table["value"]).as_py() == n * (n + 1) // 2
    assert pc.sum(table["twice"]).as_py() == n * (n + 1)


def test_sixteen_concurrent_clients(server):
    sql = ("SELECT channel, brand, count(*) AS n, sum(likes) AS likes FROM conversations "
           "WHERE channel = '{}' GROUP BY channel, brand ORDER BY brand")
    with connect(server) as conn:
        channels = query(conn, "SELECT DISTINCT channel FROM conversations ORDER BY channel")
        channels = channels["channel"].to_pylist()
        expected = {c: query(conn, sql.format(c)) for c in channels}

    def client(i):
        channel = channels[i % len(channels)]
        with connect(server) as conn:
            for _ in range(3):
                assert query(conn, sql.format(channel)).equals(expected[channel])
        return i

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert sorted(pool.map(client, range(16))) == list(range(16))


def test_each_query_is_logged_without_secrets(server):
    with connect(server) as conn:
        query(conn, "SELECT 'log me' AS marker FROM generate_series(1, 3)")
    log = server.log_text()
    lines = [line for line in log.splitlines() if "log me" in line]
    assert lines, log[-2000:]
    line = lines[-1]
    assert "user=analyst" in line and "outcome=ok" in line, line
    assert "rows=3" in line and "duration_ms=" in line, line
    assert PASSWORD not in log


def test_reports_are_views_a_bi_tool_can_browse(server):
    with connect(server) as conn:
        objects = conn.adbc_get_objects(depth="tables", db_schema_filter="reports").read_all()
        found = {(t["table_name"], t["table_type"]) for c in objects.to_pylist()
                 for s in c["catalog_db_schemas"] for t in s["db_schema_tables"]}
        assert {(name, "VIEW") for name in
                ("baseline", "channel_audit", "influencers", "triage", "vs_baseline")} <= found
        schema = conn.adbc_get_table_schema("channel_audit", db_schema_filter="reports")
        rows = query(conn, "SELECT * FROM reports.channel_audit")
        assert schema.names == rows.schema.names and rows.num_rows > 0
        no_view_types(rows.schema)


def test_a_report_runs_as_a_prepared_statement_with_bound_parameters(server):
    """`triage(?, ?, ?)` prepared once, run with two sets of values: each result is the report
    run with those values (the same as literal arguments), and unbound values are refused."""
    import datetime as dt
    sql = "SELECT thread_id, priority, team FROM triage(?, ?, ?) ORDER BY priority DESC, thread_id"
    with connect(server) as conn:
        brands = query(conn, "SELECT DISTINCT brand FROM conversations ORDER BY brand")["brand"].to_pylist()
        with conn.cursor() as cur:
            params = cur.adbc_prepare(sql)
            assert params is not None and params.names == ["$1", "$2", "$3"], params
            assert pa.types.is_timestamp(params.field(0).type)
            assert pa.types.is_string(params.field(2).type)
            results = []
            for brand, day in ((brands[0], 20), (brands[1], 25)):
                start = dt.datetime(2026, 1, day, tzinfo=dt.timezone.utc)
                end = start + dt.timedelta(days=10)
                cur.execute(sql, (start, end, brand))
                got = cur.fetch_arrow_table()
                literal = (f"SELECT thread_id, priority, team FROM triage("
                           f"'{start.isoformat()}', '{end.isoformat()}', '{brand}') "
                           f"ORDER BY priority DESC, thread_id")
                want = query(conn, literal)
                assert got.num_rows > 0
                assert got.to_pylist() == want.to_pylist()
                results.append(got)
            assert results[0].to_pylist() != results[1].to_pylist()
        with pytest.raises(adbc_driver_manager.Error) as err:
            query(conn, "SELECT * FROM triage($1)")
        assert "bind" in str(err.value)


def test_job_history_is_browsable_and_queryable(server):
    with connect(server) as conn:
        objects = conn.adbc_get_objects(depth="tables", db_schema_filter="metrics").read_all()
        found = {t["table_name"] for c in objects.to_pylist()
                 for s in c["catalog_db_schemas"] for t in s["db_schema_tables"]}
        assert "baseline_daily" in found
        days = query(conn, "SELECT as_of, count(*) AS n, sum(customer_posts) AS posts "
                           "FROM metrics.baseline_daily GROUP BY as_of ORDER BY as_of")
        assert [d.isoformat() for d in days["as_of"].to_pylist()] == ["2026-01-15", "2026-01-16"]
        direct = query(conn, "SELECT date, count(*) AS posts FROM conversations WHERE NOT is_brand "
                             "AND date IN (DATE '2026-01-15', DATE '2026-01-16') GROUP BY date ORDER BY date")
        assert days["posts"].to_pylist() == direct["posts"].to_pylist()
        runs = query(conn, "SELECT job, status FROM job_runs ORDER BY as_of")
        assert runs.to_pylist() == [{"job": "baseline_daily", "status": "succeeded"}] * 2


def test_one_endpoint_per_partition_when_asked_gives_the_same_rows(server):
    # The call header asks for one endpoint per partition; the driver reads them all.
    split = {"adbc.flight.sql.rpc.call_header.x-socialcx-endpoints": "partitions",
             adbc_driver_manager.DatabaseOptions.USERNAME.value: USER,
             adbc_driver_manager.DatabaseOptions.PASSWORD.value: PASSWORD}
    sql = "SELECT conversation_id, brand, likes FROM conversations WHERE likes >= 0"
    with connect(server) as conn:
        plain = query(conn, sql).sort_by("conversation_id")
    with flight_sql.connect(server.uri, db_kwargs=split, autocommit=True) as conn:
        parts = query(conn, sql).sort_by("conversation_id")
        ordered = query(conn, "SELECT conversation_id FROM conversations ORDER BY conversation_id")
    assert parts.num_rows == ROWS
    assert parts.equals(plain)
    ids = ordered.column("conversation_id").to_pylist()
    assert ids == sorted(ids)
