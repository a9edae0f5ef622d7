"""End-to-end benchmark: socialcx beside DuckDB on the same Parquet files, one run.

Called by benches/e2e.sh, which builds the binary and provides a venv with duckdb.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import time

import duckdb

QUERIES = {
    "count by channel": "SELECT channel, count(*) AS n FROM conversations GROUP BY channel ORDER BY channel",
    "one week by brand (date filter)": (
        "SELECT brand, count(*) AS n, sum(likes) AS likes FROM conversations "
        "WHERE date BETWEEN DATE '2026-02-01' AND DATE '2026-02-07' GROUP BY brand ORDER BY brand"
    ),
    "distinct authors": "SELECT count(DISTINCT author_id) AS n FROM conversations",
    "answered threads": (
        "SELECT brand, count(DISTINCT thread_id) AS n FROM conversations WHERE is_brand "
        "GROUP BY brand ORDER BY brand"
    ),
}
REPEAT = 5


def run(cmd):
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return time.perf_counter() - start, proc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", default="bench-out")
    args = ap.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    data = os.path.join(args.out, "in.ndjson")
    lake = os.path.join(args.out, "lake")

    secs, _ = run([args.bin, "generate", "--rows", str(args.rows), "--seed", "1", "--out", data, "--no-progress"])
    size_mb = os.path.getsize(data) / 1e6
    print(f"generate: {args.rows} rows, {size_mb:.0f} MB in {secs:.2f}s = {args.rows / secs:,.0f} rows/s")
    secs, proc = run([args.bin, "--lake", lake, "ingest", "--no-progress", data])
    print(f"ingest:   {args.rows} rows in {secs:.2f}s = {args.rows / secs:,.0f} rows/s ({size_mb / secs:.1f} MB/s)")
    print("          " + proc.stdout.strip().splitlines()[-1])

    files = os.path.join(lake, "conversations", "*", "*.parquet")
    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW conversations AS SELECT * FROM read_parquet('{files}', hive_partitioning = false)"
    )
    print(f"\nqueries: median of {REPEAT} runs in one process each, same Parquet files, 2 cores")
    print(f"{'query':34} {'socialcx':>10} {'duckdb':>10} {'ratio':>7}")
    for name, sql in QUERIES.items():
        script = os.path.join(args.out, "q.sql")
        with open(script, "w") as f:
            f.write((sql + ";\n") * REPEAT)
        _, proc = run([args.bin, "--lake", lake, "sql", "-f", script, "--format", "csv"])
        ours = [float(t) for t in re.findall(r"rows? in ([0-9.]+)s", proc.stderr)]
        theirs = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            result = con.execute(sql).fetchall()
            theirs.append(time.perf_counter() - start)
        # Same answer from both engines.
        lines = proc.stdout.splitlines()
        ours_first = [tuple(line.split(",")) for line in lines[1 : 1 + len(result)]]
        theirs_str = [tuple(str(v) for v in row) for row in result]
        if ours_first != theirs_str:
            raise SystemExit(f"{name}: results differ\nsocialcx: {ours_first}\nduckdb:   {theirs_str}")
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"{name:34} {a * 1000:8.1f}ms {b * 1000:8.1f}ms {a / b:6.2f}x")


if __name__ == "__main__":
    main()
