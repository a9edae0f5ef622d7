"""Ingest of ROWS generated messages: socialcx beside DuckDB, in one run.

Called by benches/ingest_compare.sh. Both land the same NDJSON file as date-partitioned,
zstd Parquet; socialcx in its own process (peak RSS from wait4), DuckDB in a child Python
process (the same). Both must land every row.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

DUCK = """
import duckdb, sys
src, dst = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute("SET TimeZone = 'UTC'")
con.execute(f'''COPY (SELECT *, CAST(created_at AS DATE) AS date
                     FROM read_json('{src}', format = 'newline_delimited'))
              TO '{dst}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date))''')
print(con.execute(f"SELECT count(*) FROM read_parquet('{dst}/**/*.parquet')").fetchone()[0])
"""


def timed(cmd):
    """(seconds, peak RSS in MiB, stdout) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - started
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{err}")
    return secs, usage.ru_maxrss / 1024, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--out", default="bench-out/ingest")
    args = ap.parse_args()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    data = out / "in.ndjson"
    subprocess.run([args.bin, "generate", "--rows", str(args.rows), "--seed", "1",
                    "--out", str(data), "--no-progress"], check=True, capture_output=True)
    size = data.stat().st_size / 2**20

    ours, ours_rss, report = timed([args.bin, "--lake", str(out / "lake"), "ingest",
                                    "--no-progress", str(data)])
    landed = int(report.split("total: ")[1].split(" landed")[0])
    theirs, theirs_rss, counted = timed([sys.executable, "-c", DUCK, str(data),
                                         str(out / "duckdb")])
    if landed != args.rows or int(counted.split()[-1]) != args.rows:
        raise SystemExit(f"socialcx landed {landed}, DuckDB {counted.split()[-1]}, of {args.rows}")
    print(f"{args.rows:,} messages ({size:,.0f} MiB NDJSON), 2 cores")
    print(f"{'':10} {'seconds':>8} {'rows/s':>10} {'MiB/s':>7} {'peak RSS':>10}")
    for name, secs, rss in [("socialcx", ours, ours_rss), ("duckdb", theirs, theirs_rss)]:
        print(f"{name:10} {secs:8.1f} {args.rows / secs:10,.0f} {size / secs:7.1f} {rss:8,.0f}MiB")
    print(f"ratio (socialcx / DuckDB time): {ours / theirs:.2f}x; socialcx also validates, "
          f"dedupes, threads and scores every message")


if __name__ == "__main__":
    main()
