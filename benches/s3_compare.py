"""Ingest and queries on a local lake and on moto's S3, same data, same run (see
s3_compare.sh)."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUERIES = {
    "count by channel": "SELECT channel, count(*) FROM conversations GROUP BY channel",
    "one week by brand": "SELECT brand, count(*) FROM conversations "
                         "WHERE created_at >= '2026-02-01' AND created_at < '2026-02-08' GROUP BY brand",
    "distinct authors": "SELECT count(DISTINCT author_id) FROM conversations",
    "mean sentiment by brand": "SELECT brand, round(avg(sentiment(text)), 9) FROM conversations GROUP BY brand",
}


def timed(cmd, env):
    started = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{cmd}: {out.stderr}")
    return time.perf_counter() - started, out.stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--messages", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    repo = Path(__file__).resolve().parents[1]
    work = Path(tempfile.mkdtemp(prefix="s3bench-"))
    data = work / "messages.ndjson"
    subprocess.run([a.bin, "generate", "--rows", str(a.messages), "--seed", "41", "--out", str(data),
                    "--no-progress"], check=True, capture_output=True)
    server = subprocess.Popen([sys.executable, str(repo / "tests/s3/server.py"), "--bucket", "cx-bench"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    endpoint = json.loads(server.stdout.readline())["endpoint"]
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ALLOW_HTTP="true", AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1")
    lakes = {"local": str(work / "lake"), "s3 (moto)": "s3://cx-bench/lake"}
    result = {"messages": a.messages, "parquet_mb": None, "ingest": {}, "queries": {}}
    try:
        for name, lake in lakes.items():
            secs, _ = timed([a.bin, "--lake", lake, "ingest", "--no-progress", str(data)], env)
            result["ingest"][name] = {"seconds": secs, "rows_per_s": a.messages / secs}
            print(f"ingest {name:10s} {secs:7.2f} s  {a.messages / secs:9,.0f} rows/s", flush=True)
        answers = {}
        for label, sql in QUERIES.items():
            result["queries"][label] = {}
            for name, lake in lakes.items():
                runs = []
                for _ in range(3):
                    secs, out = timed([a.bin, "--lake", lake, "sql", "--quiet", "--format", "csv",
                                       f"{sql} ORDER BY 1"], env)
                    runs.append(secs)
                answers.setdefault(label, set()).add(out)
                result["queries"][label][name] = statistics.median(runs)
            assert len(answers[label]) == 1, f"{label}: the lakes disagree"
            local, s3 = result["queries"][label]["local"], result["queries"][label]["s3 (moto)"]
            print(f"{label:25s} local {local:6.2f} s   s3 {s3:6.2f} s   ratio {s3 / local:5.2f}x", flush=True)
        result["parquet_mb"] = sum(f.stat().st_size for f in (work / "lake").rglob("*.parquet")) / 1e6
        a.out.write_text(json.dumps(result, indent=2))
        print(f"(process wall times, CLI start-up included; {result['parquet_mb']:.0f} MB of Parquet)")
    finally:
        server.stdin.close()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
