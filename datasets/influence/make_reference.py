"""Write the graph-algorithm reference data for the influence tests:

    edges.csv       graph,src,dst                              (one row per interaction)
    pagerank.csv    graph,node,pagerank
    centrality.csv  graph,node,degree,closeness,betweenness

    python make_reference.py [SEED]      (default seed 5; files go next to this script)

The graphs are generated here with random.Random; every score comes from networkx
(pinned by regenerate.sh: networkx 3.4.2, whose pagerank runs on scipy/numpy).

PageRank: G = nx.DiGraph(), one edge per distinct (src, dst) with weight = number
of rows for that pair, self-loops kept;
nx.pagerank(G, alpha=0.85, weight="weight", tol=1e-15, max_iter=100000).

Centralities: H = nx.Graph() with every node of the graph, and every edge with
src != dst (self-loops dropped, repeats collapsed, direction ignored);
nx.degree_centrality(H), nx.closeness_centrality(H), nx.betweenness_centrality(H),
all with their defaults.

Floats are written with repr() so they parse back to the exact same f64.
Run through datasets/influence/regenerate.sh, which pins the versions.
"""
import os
import random
import sys
from collections import Counter

import networkx as nx

NETWORKX_VERSION = "3.4.2"
DEFAULT_SEED = 5
OUT_DIR = os.path.dirname(os.path.abspath(__file__))


def n(i):
    return f"a{i}"


# ---------------------------------------------------------------- graph shapes
# Each builder returns a list of (src, dst) rows; repeats are interactions.


def g_two_nodes(rng):
    """2 nodes: a back-and-forth with repeats and a self-loop (a1 sends 2/3 of
    its weight to a0, 1/3 to itself)."""
    rows = [(n(0), n(1))] * 3 + [(n(1), n(0))] * 2 + [(n(1), n(1))]
    rng.shuffle(rows)
    return rows


def g_one_edge(rng):
    """The smallest graph: one row, one edge; a1 is dangling."""
    return [(n(0), n(1))]


def g_star(rng):
    """One hub (a0) and 40 leaves. Most leaves write to the hub; the hub answers
    some of them; some leaves only receive from the hub (dangling)."""
    rows = []
    for leaf in range(1, 41):
        r = rng.random()
        if r < 0.6:  # leaf -> hub, sometimes several times, hub may answer
            rows += [(n(leaf), n(0))] * rng.randint(1, 3)
            if rng.random() < 0.5:
                rows.append((n(0), n(leaf)))
        elif r < 0.85:  # hub -> leaf only: dangling leaf
            rows += [(n(0), n(leaf))] * rng.randint(1, 2)
        else:  # leaf -> hub only
            rows.append((n(leaf), n(0)))
    rng.shuffle(rows)
    return rows


def g_chain(rng):
    """A directed chain a0 -> a1 -> ... -> a29; the last node is dangling."""
    return [(n(i), n(i + 1)) for i in range(29)]


def g_dense(rng):
    """A complete-ish dense small graph: 9 nodes, ~85% of ordered pairs, repeats."""
    rows = []
    k = 9
    for u in range(k):
        for v in range(k):
            if u != v and rng.random() < 0.85:
                rows += [(n(u), n(v))] * rng.randint(1, 4)
    rng.shuffle(rows)
    return rows


def g_heavy_repeats(rng):
    """12 nodes, few distinct pairs, each repeated up to 60 times."""
    rows = []
    pairs = set()
    while len(pairs) < 30:
        u, v = rng.randrange(12), rng.randrange(12)
        if u != v:
            pairs.add((u, v))
    for u, v in sorted(pairs):
        rows += [(n(u), n(v))] * rng.choice([1, 2, 5, 17, 40, 60])
    rows += [(n(3), n(3))] * 25  # a heavily repeated self-loop too
    rng.shuffle(rows)
    return rows


def g_components(rng):
    """Several disconnected components of different shapes."""
    rows = []
    # a directed 3-cycle (periodic)
    rows += [(n(0), n(1)), (n(1), n(2)), (n(2), n(0))]
    # a small in-star: 4 nodes writing to one that never writes (dangling hub)
    rows += [(n(i), n(3)) for i in range(4, 8)]
    # a mutual pair
    rows += [(n(8), n(9)), (n(9), n(8)), (n(9), n(8))]
    # a lone node whose only edge is a self-loop
    rows += [(n(10), n(10))]
    # a short chain
    rows += [(n(11), n(12)), (n(12), n(13)), (n(13), n(14))]
    # a single edge
    rows += [(n(15), n(16))]
    # a small random dense-ish blob
    blob = list(range(17, 27))
    for _ in range(30):
        u, v = rng.choice(blob), rng.choice(blob)
        rows.append((n(u), n(v)))
    rng.shuffle(rows)
    return rows


def g_self_loops(rng):
    """Self-loops everywhere: nodes that only talk to themselves, nodes with a
    self-loop plus other edges, a self-loop that is a node's only out-edge."""
    rows = []
    k = 20
    for u in range(k):
        for _ in range(rng.randint(0, 2)):
            v = rng.randrange(k)
            rows.append((n(u), n(v)))
        if rng.random() < 0.4:
            rows += [(n(u), n(u))] * rng.randint(1, 3)
    rows += [(n(20), n(20))] * 2  # only edge is a self-loop (repeated)
    rows += [(n(21), n(21))]  # only edge is a single self-loop
    rows += [(n(0), n(22)), (n(22), n(22))]  # in-edge, and a self-loop as only out-edge
    rng.shuffle(rows)
    return rows


def preferential_attachment(rng, nodes, m, offset=0, p_repeat=0.25, p_self=0.01):
    """Scale-free-ish: each new node links to m earlier nodes chosen with
    probability proportional to (degree + 1). The direction is random but biased
    towards the newcomer writing to the popular node; some pairs repeat, a few
    rows are self-loops. Returns rows over ids offset .. offset+nodes-1."""
    rows = []
    urn = []  # one entry per unit of (degree + 1)
    for new in range(nodes):
        urn.append(new)
        if new == 0:
            continue
        targets = set()
        for _ in range(min(m, new)):
            targets.add(rng.choice(urn[:-1]))
        for t in sorted(targets):
            src, dst = (new, t) if rng.random() < 0.7 else (t, new)
            reps = 1
            while rng.random() < p_repeat:
                reps += 1
            rows += [(n(offset + src), n(offset + dst))] * reps
            urn += [new, t]
        if rng.random() < p_self:
            rows.append((n(offset + new), n(offset + new)))
    return rows


def g_pa_small(rng):
    rows = preferential_attachment(rng, 60, 2)
    rng.shuffle(rows)
    return rows


def g_pa_medium(rng):
    rows = preferential_attachment(rng, 150, 3)
    rng.shuffle(rows)
    return rows


def g_pa_large(rng):
    rows = preferential_attachment(rng, 300, 3, p_repeat=0.4, p_self=0.03)
    rng.shuffle(rows)
    return rows


def g_pa_split(rng):
    """400 nodes in several components: two scale-free parts, a few pairs and
    self-loop-only nodes."""
    rows = preferential_attachment(rng, 250, 2)
    rows += preferential_attachment(rng, 130, 3, offset=250)
    for i in range(380, 394, 2):
        rows.append((n(i), n(i + 1)))
    for i in range(394, 400):
        rows.append((n(i), n(i)))
    rng.shuffle(rows)
    return rows


def g_lake_threads(rng):
    """The interactions of the hand-made lake in tests/it/influence.rs
    (author_influence_and_thread_centrality_from_sql): three replies to a thread's root
    (one author twice, once as a mention), a self-reply, a reply chain b -> a, c -> b and
    an RT share of hub. Named as the lake's authors; no randomness."""
    return [
        ("ann", "hub"), ("bob", "hub"), ("bob", "hub"), ("cat", "hub"),
        ("cat", "cat"), ("b", "a"), ("c", "b"), ("dee", "hub"),
    ]


GRAPHS = [
    ("g01", g_two_nodes),
    ("g02", g_one_edge),
    ("g03", g_star),
    ("g04", g_chain),
    ("g05", g_dense),
    ("g06", g_heavy_repeats),
    ("g07", g_components),
    ("g08", g_self_loops),
    ("g09", g_pa_small),
    ("g10", g_pa_medium),
    ("g11", g_pa_large),
    ("g12", g_pa_split),
    ("g13", g_lake_threads),
]


# ---------------------------------------------------------------- reference scores


def nodes_in_order(rows):
    """Nodes in order of first appearance (src before dst)."""
    seen = {}
    for s, d in rows:
        seen.setdefault(s, None)
        seen.setdefault(d, None)
    return list(seen)


def pagerank(rows):
    G = nx.DiGraph()
    G.add_nodes_from(nodes_in_order(rows))
    for (s, d), w in Counter(rows).items():
        G.add_edge(s, d, weight=w)
    return nx.pagerank(G, alpha=0.85, weight="weight", tol=1e-15, max_iter=100000)


def centralities(rows):
    H = nx.Graph()
    H.add_nodes_from(nodes_in_order(rows))
    H.add_edges_from((s, d) for s, d in rows if s != d)
    return (
        nx.degree_centrality(H),
        nx.closeness_centrality(H),
        nx.betweenness_centrality(H),
    )


def fmt(x):
    return repr(float(x))


def main(seed):
    if nx.__version__ != NETWORKX_VERSION:
        sys.exit(f"networkx {NETWORKX_VERSION} required, found {nx.__version__}")
    edges = ["graph,src,dst"]
    pr_lines = ["graph,node,pagerank"]
    cen_lines = ["graph,node,degree,closeness,betweenness"]
    for index, (gid, build) in enumerate(GRAPHS):
        rng = random.Random(seed * 1000 + index)
        rows = build(rng)
        edges += [f"{gid},{s},{d}" for s, d in rows]
        order = nodes_in_order(rows)
        pr = pagerank(rows)
        assert set(pr) == set(order)
        assert abs(sum(pr.values()) - 1.0) < 1e-9, (gid, sum(pr.values()))
        pr_lines += [f"{gid},{v},{fmt(pr[v])}" for v in order]
        deg, clo, bet = centralities(rows)
        cen_lines += [f"{gid},{v},{fmt(deg[v])},{fmt(clo[v])},{fmt(bet[v])}" for v in order]
        print(
            f"{gid}: {len(order)} nodes, {len(rows)} rows, {len(Counter(rows))} distinct edges",
            file=sys.stderr,
        )
    for name, lines in (("edges.csv", edges), ("pagerank.csv", pr_lines), ("centrality.csv", cen_lines)):
        path = os.path.join(OUT_DIR, name)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{path}: {len(lines) - 1} rows", file=sys.stderr)
    import numpy
    import scipy

    print(
        f"networkx {nx.__version__}, scipy {scipy.__version__}, numpy {numpy.__version__}, seed {seed}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SEED)
