"""One report and two full scans over ROWS generated messages: embedded, then on a Ballista
cluster of 1 and of 2 executors on this machine, in one run.

Called by benches/cluster_compare.sh. Every role is the same binary on 127.0.0.1: a
scheduler and its executors (--slots 2 each, one per core of a 2-core machine), one cluster
per size, both started before the first query. Each workload runs as one `socialcx` process
per configuration (`sql` or `report`, CSV to a file), in turns (embedded, 1, 2, embedded, ...)
so that the machine's drift falls on every configuration alike; the best of the rounds is
reported. The three configurations must give the same rows (numbers to 9 significant digits).
On one machine a cluster cannot be faster: the executors share its cores, and every query
adds a scheduler round trip and a shuffle through Arrow Flight. What this measures is that
overhead.
"""
import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reports_compare import generated_lake, timed  # noqa: E402

WORKLOADS = [
    ("full scan, stored scores",
     ["sql", "SELECT brand, channel, count(*) AS n, avg(sentiment) AS s, sum(likes) AS likes "
             "FROM conversations GROUP BY brand, channel ORDER BY brand, channel"]),
    ("full scan, scoring the text",
     ["sql", "SELECT brand, count(*) AS n, avg(cx_sentiment(text)) AS c "
             "FROM conversations GROUP BY brand ORDER BY brand"]),
    ("report channel_audit", ["report", "channel_audit"]),
]


class Cluster:
    """A scheduler and `executors` executors of `binary` over `lake`, stopped on close."""

    def __init__(self, binary, lake, executors, logs):
        self.procs = []
        self.url = self._start([binary, "cluster", "scheduler", "--addr", "127.0.0.1:0"],
                               logs / f"scheduler-{executors}.log")
        for i in range(executors):
            self._start([binary, "--lake", str(lake), "cluster", "executor", "--scheduler",
                         self.url, "--addr", "127.0.0.1:0", "--slots", "2"],
                        logs / f"executor-{executors}-{i}.log")

    def _start(self, cmd, log):
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(log, "w"), text=True)
        self.procs.append(proc)
        line = proc.stdout.readline().strip()
        if not line:
            raise SystemExit(f"{' '.join(cmd)} did not start: see {log}")
        return line

    def close(self):
        for proc in self.procs:
            proc.terminate()
            proc.wait()


def canonical(path):
    """The rows of a CSV file, numbers to 9 significant digits."""
    def cell(value):
        try:
            return f"{float(value):.9g}" if any(c in value for c in ".e") else value
        except ValueError:
            return value
    with open(path, newline="") as f:
        return [[cell(v) for v in row] for row in csv.reader(f)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", default="bench-out/cluster")
    args = ap.parse_args()
    out = Path(args.out)
    lake = generated_lake(args.bin, args.rows, out)
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    clusters = {n: Cluster(args.bin, lake, n, logs) for n in (1, 2)}
    configs = [("embedded", [])] + [(f"{n} executor{'s' if n > 1 else ''}",
                                     ["--cluster", c.url]) for n, c in clusters.items()]
    best = {}
    try:
        for name, command in WORKLOADS:
            answers = {}
            for _ in range(args.rounds):
                for config, flags in configs:
                    result = out / f"result-{len(answers)}.csv"
                    secs, rss = timed([args.bin, "--lake", str(lake), *flags, *command,
                                       "--format", "csv", "-o", str(result)])
                    answers[config] = canonical(result)
                    key = (name, config)
                    best[key] = min(best.get(key, (secs, rss)), (secs, rss))
                    print(f"{name} / {config}: {secs:.2f}s, client peak RSS {rss:,.0f} MiB",
                          flush=True)
            first = answers["embedded"]
            for config, rows in answers.items():
                if rows != first:
                    raise SystemExit(f"{name}: {config} answered otherwise than embedded")
    finally:
        for cluster in clusters.values():
            cluster.close()

    print(f"\n{args.rows:,} messages, {os.cpu_count()} cores, best of {args.rounds} "
          f"rounds; every role on this machine, executors with 2 slots each")
    print(f"{'workload':30} " + " ".join(f"{c:>22}" for c, _ in configs))
    for name, _ in WORKLOADS:
        base = best[(name, "embedded")][0]
        cells = [f"{best[(name, c)][0]:7.2f}s ({best[(name, c)][0] / base:4.2f}x)"
                 for c, _ in configs]
        print(f"{name:30} " + " ".join(f"{c:>22}" for c in cells))


if __name__ == "__main__":
    main()
