"""Rows/s and MB/s to an ADBC client from `socialcx serve`, beside pyarrow reading the same
Parquet in-process (see flight_compare.sh)."""
import argparse
import glob
import json
import re
import time
from pathlib import Path

import adbc_driver_flightsql.dbapi as flight_sql
import pyarrow.dataset as ds

COLUMNS = ["conversation_id", "thread_id", "channel", "brand", "author_id", "created_at",
           "likes", "shares", "replies", "text"]


def server_uri(log: Path) -> str:
    deadline = time.time() + 60
    while time.time() < deadline:
        match = re.search(r"server on (127\.0\.0\.1:\d+)", log.read_text())
        if match:
            return f"grpc://{match.group(1)}"
        time.sleep(0.1)
    raise SystemExit(f"server did not start: {log.read_text()}")


def peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


SPLIT = {"adbc.flight.sql.rpc.call_header.x-socialcx-endpoints": "partitions"}


def over_flight(uri: str, split: bool = False):
    """One stream, or (split) one endpoint per partition, which the driver reads in parallel."""
    sql = f"SELECT {', '.join(COLUMNS)} FROM conversations"
    kwargs = SPLIT if split else {}
    with flight_sql.connect(uri, db_kwargs=kwargs, autocommit=True) as conn, conn.cursor() as cur:
        started = time.perf_counter()
        cur.execute(sql)
        rows = nbytes = 0
        for batch in cur.fetch_record_batch():
            rows += batch.num_rows
            nbytes += batch.nbytes
        return rows, nbytes, time.perf_counter() - started


def in_process(lake: Path):
    files = sorted(glob.glob(str(lake / "conversations" / "*" / "*.parquet")))
    started = time.perf_counter()
    dataset = ds.dataset(files, format="parquet")
    rows = nbytes = 0
    for batch in dataset.to_batches(columns=COLUMNS):
        rows += batch.num_rows
        nbytes += batch.nbytes
    return rows, nbytes, time.perf_counter() - started


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lake", type=Path, required=True)
    p.add_argument("--log", type=Path, required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--messages", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    uri = server_uri(a.log)
    runs = {"socialcx_flight_adbc": [], "socialcx_flight_adbc_partitions": [],
            "pyarrow_in_process": []}
    for _ in range(2):
        runs["socialcx_flight_adbc"].append(over_flight(uri))
        runs["socialcx_flight_adbc_partitions"].append(over_flight(uri, split=True))
        runs["pyarrow_in_process"].append(in_process(a.lake))
    result = {"messages": a.messages, "columns": COLUMNS}
    for name, measured in runs.items():
        rows, nbytes, secs = min(measured, key=lambda r: r[2])
        assert rows == a.messages, (name, rows)
        result[name] = {"rows": rows, "arrow_mb": nbytes / 1e6, "seconds": secs,
                        "rows_per_s": rows / secs, "mb_per_s": nbytes / 1e6 / secs,
                        "all_seconds": [r[2] for r in measured]}
        print(f"{name:32s} {rows:>10,} rows  {nbytes / 1e6:8.0f} MB  {secs:6.2f} s  "
              f"{rows / secs / 1e6:5.2f} M rows/s  {nbytes / 1e6 / secs:7.1f} MB/s")
    result["server_peak_rss_mib"] = peak_rss_mib(a.pid)
    ours, peer = result["socialcx_flight_adbc"], result["pyarrow_in_process"]
    result["throughput_ratio_vs_pyarrow"] = ours["rows_per_s"] / peer["rows_per_s"]
    split = result["socialcx_flight_adbc_partitions"]
    result["partitions_ratio_vs_pyarrow"] = split["rows_per_s"] / peer["rows_per_s"]
    print(f"server peak RSS {result['server_peak_rss_mib']:.0f} MiB for a "
          f"{ours['arrow_mb']:.0f} MB result; Flight/ADBC at "
          f"{result['throughput_ratio_vs_pyarrow']:.2f}x pyarrow's in-process rate "
          f"({result['partitions_ratio_vs_pyarrow']:.2f}x with one endpoint per partition)")
    a.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
