"""The report suite over ROWS generated messages: socialcx beside DuckDB, in one run.

Called by benches/reports_compare.sh. socialcx runs each shipped report with its defaults
(`socialcx report NAME --format parquet`, one process each, peak RSS from wait4); DuckDB runs
the same bound SQL (scripts/duckdb_reports.py: the few dialect rewrites) over the same
conversations (with the scores socialcx stored at ingest), author influence precomputed by
socialcx. socialcx runs the suite twice: right after a commit (each report computes its
influence graph and stores it) and after `socialcx enrich` stored the graphs (as DuckDB is
handed them). Both results must have the same number of rows. The lake is landed from
5 inputs of 2M rows each, then compacted (`socialcx compact`).
"""
import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from duckdb_reports import DuckReports  # noqa: E402

import pyarrow.parquet as pq  # noqa: E402

REPORTS = ["baseline", "channel_audit", "influencers", "triage", "vs_baseline"]
FILE_ROWS = 2_000_000  # ingest reads a file whole: land the data in files of this size


def timed(cmd, **kwargs):
    """(seconds, peak RSS in MiB) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - started
    stderr = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{stderr}")
    return secs, usage.ru_maxrss / 1024


def generated_lake(binary, rows, out):
    """The lake `out`/lake of `rows` generated messages (seed 1), made unless it is there."""
    out = Path(out)
    lake = out / "lake"
    if (lake / "_log").exists():
        print(f"reusing the lake at {lake}")
        compacted(binary, lake)
        return lake
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    data = out / "in.ndjson"
    secs, _ = timed([binary, "generate", "--rows", str(rows), "--seed", "1",
                     "--out", str(data), "--no-progress"])
    print(f"generate {rows:,} messages: {secs:.1f}s", flush=True)
    parts = out / "parts"
    parts.mkdir()
    subprocess.run(["split", "-l", str(FILE_ROWS), "-d", "--additional-suffix=.ndjson",
                    str(data), str(parts / "part-")], check=True)
    data.unlink()
    secs, rss = timed([binary, "--lake", str(lake), "ingest", "--no-progress", str(parts)])
    print(f"ingest: {secs:.1f}s ({rows / secs:,.0f} rows/s), peak RSS {rss:,.0f} MiB",
          flush=True)
    shutil.rmtree(parts)
    compacted(binary, lake)
    return lake


def compacted(binary, lake):
    """`socialcx compact` on `lake`, as after any bulk load: ingest plans its files a segment
    at a time, and merging each month's small files into a file per day makes every report
    faster (docs/lake.md, "Compaction"). A lake already compacted is left as it is."""
    secs, rss = timed([binary, "--lake", str(lake), "compact", "--no-progress", "--no-graphs"])
    print(f"compact: {secs:.1f}s, peak RSS {rss:,.0f} MiB", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--out", default="bench-out/reports")
    args = ap.parse_args()
    out = Path(args.out)
    lake = generated_lake(args.bin, args.rows, out)

    def run_reports(label):
        runs = {}
        for name in REPORTS:
            result = out / f"{name}.parquet"
            secs, rss = timed([args.bin, "--lake", str(lake), "report", name,
                               "--format", "parquet", "-o", str(result)])
            runs[name] = (secs, rss, pq.read_metadata(result).num_rows)
            print(f"socialcx {name} ({label}): {secs:.1f}s, {rss:,.0f} MiB, "
                  f"{runs[name][2]:,} rows", flush=True)
        return runs

    # The graphs author_influence stores in the lake (docs/lake.md, "Stored results"): first
    # the reports right after a commit, each computing its graph; then `socialcx enrich`
    # storing them ahead of time, as it does after an ingest, and the reports reading them.
    results = lake / "_results"
    shutil.rmtree(results, ignore_errors=True)
    cold = run_reports("graph computed")
    shutil.rmtree(results, ignore_errors=True)
    enrich_secs, _ = timed([args.bin, "--lake", str(lake), "enrich", "--no-progress"])
    print(f"socialcx enrich (the reports' graphs): {enrich_secs:.1f}s", flush=True)
    ours = run_reports("graph stored")

    started = time.perf_counter()
    duck = DuckReports(args.bin, lake, out / "duckdb")
    theirs = {}
    materialise = duck.materialise_seconds
    for name in REPORTS:
        t0 = time.perf_counter()
        sql = duck.report_sql(name, {})
        prepare = time.perf_counter() - t0  # author_influence materialised by socialcx
        materialise += prepare
        t0 = time.perf_counter()
        rows = duck.run(sql).num_rows
        theirs[name] = (time.perf_counter() - t0, rows)
        print(f"duckdb   {name}: {theirs[name][0]:.1f}s, {rows:,} rows", flush=True)
    import resource
    duck_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del started

    print(f"\n{args.rows:,} messages, 2 cores; both read the scores socialcx stored at ingest; "
          f"author_influence is computed by socialcx for DuckDB ({materialise:.1f}s, with the "
          f"export of the table) and stored by `socialcx enrich` for socialcx ({enrich_secs:.1f}s)")
    print(f"{'report':14} {'rows':>8} {'graph computed':>15} {'ratio':>7} "
          f"{'graph stored':>13} {'peak RSS':>10} {'duckdb':>9} {'ratio':>7}")
    total_cold = total_ours = total_theirs = 0.0
    for name in REPORTS:
        secs, rss, rows = ours[name]
        csecs, _, crows = cold[name]
        dsecs, drows = theirs[name]
        if not rows == crows == drows:
            raise SystemExit(f"{name}: socialcx gave {crows} and {rows} rows, DuckDB {drows}")
        total_cold += csecs
        total_ours += secs
        total_theirs += dsecs
        print(f"{name:14} {rows:8,} {csecs:14.1f}s {csecs / dsecs:6.2f}x {secs:12.1f}s "
              f"{rss:8,.0f}MiB {dsecs:8.1f}s {secs / dsecs:6.2f}x")
    print(f"{'suite':14} {'':8} {total_cold:14.1f}s {total_cold / total_theirs:6.2f}x "
          f"{total_ours:12.1f}s {max(r[1] for r in ours.values()):8,.0f}MiB "
          f"{total_theirs:8.1f}s {total_ours / total_theirs:6.2f}x")
    print(f"DuckDB process peak RSS (all reports, in process): {duck_rss:,.0f} MiB")


if __name__ == "__main__":
    main()
