"""Peers for benches/influence_compare.sh: PageRank on the same edges with igraph
(and networkx with --networkx), timed after loading; compares the ranks with
socialcx's and prints one table. Peak memory is the process's ru_maxrss."""
import argparse
import csv
import json
import resource
import sys
import time
from collections import Counter

import igraph
import pyarrow.parquet as pq


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edges", required=True)
    ap.add_argument("--authors", required=True)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--ours-time", required=True)
    ap.add_argument("--networkx", action="store_true")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    t = pq.read_table(args.edges).drop_null()
    src, dst = t.column(0).to_pylist(), t.column(1).to_pylist()
    names = {}
    for s in pq.read_table(args.authors).column(0).to_pylist() + src + dst:
        if s and s not in names:
            names[s] = len(names)
    pairs = [(names[s], names[d]) for s, d in zip(src, dst) if d]
    n, m = len(names), len(pairs)
    print(f"graph: {n:,} authors, {m:,} edges", file=sys.stderr)

    ours = {}
    with open(args.ours) as f:
        for row in csv.DictReader(f):
            ours[row["author_id"]] = float(row["pagerank"])
    ours_secs, ours_kb = args.ours_time.split()
    results = {"authors": n, "edges": m, "socialcx": {"seconds": float(ours_secs), "peak_mib": int(ours_kb) / 1024}}

    g = igraph.Graph(n=n, edges=pairs, directed=True)
    before = peak_mib()
    start = time.perf_counter()
    rank = g.pagerank(damping=0.85, directed=True)
    secs = time.perf_counter() - start
    results["igraph"] = {"seconds": secs, "peak_mib": peak_mib(), "peak_mib_before_pagerank": before}
    inv = {i: s for s, i in names.items()}
    diff = max(abs(rank[i] - ours.get(inv[i], 0.0)) for i in range(n))
    results["igraph"]["max_abs_diff_vs_socialcx"] = diff

    if args.networkx:
        import networkx as nx
        weights = Counter(pairs)
        G = nx.DiGraph()
        G.add_nodes_from(range(n))
        G.add_weighted_edges_from((s, d, w) for (s, d), w in weights.items())
        before = peak_mib()
        start = time.perf_counter()
        nxr = nx.pagerank(G, alpha=0.85, weight="weight", tol=1e-10)
        secs = time.perf_counter() - start
        diff = max(abs(nxr[i] - ours.get(inv[i], 0.0)) for i in range(n))
        results["networkx"] = {"seconds": secs, "peak_mib": peak_mib(),
                               "peak_mib_before_pagerank": before, "max_abs_diff_vs_socialcx": diff}

    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"\nPageRank, {n:,} authors, {m:,} edges (one run, same edges)")
    print(f"{'':28} {'seconds':>9} {'peak MiB':>9} {'max |diff|':>11}")
    s = results["socialcx"]
    print(f"{'socialcx (SQL, from lake)':28} {s['seconds']:9.2f} {s['peak_mib']:9.0f} {'':>11}")
    for peer in ("igraph", "networkx"):
        if peer in results:
            r = results[peer]
            print(f"{peer + ' (PageRank only)':28} {r['seconds']:9.2f} {r['peak_mib']:9.0f} {r['max_abs_diff_vs_socialcx']:11.2e}")


if __name__ == "__main__":
    main()
