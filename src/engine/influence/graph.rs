//! Graph algorithms over interned node ids: weighted PageRank on a directed graph
//! (sparse power iteration, O(iterations x (V + E))) and degree, closeness and
//! betweenness centrality on a small undirected graph (a thread's reply graph).
//!
//! The definitions are networkx's (`pagerank`, `degree_centrality`,
//! `closeness_centrality`, `betweenness_centrality` with their defaults), and the
//! tests compare against values networkx computed (`datasets/influence/`).

use std::collections::VecDeque;

/// A directed graph with weighted edges, stored by destination (compressed sparse
/// rows of in-edges) for a pull-style PageRank.
#[derive(Debug, Clone)]
pub struct DiGraph {
    nodes: usize,
    /// `in_start[v]..in_start[v + 1]` indexes `in_src`/`in_weight` for the edges into v.
    in_start: Vec<usize>,
    in_src: Vec<u32>,
    in_weight: Vec<f64>,
    /// Total weight of each node's out-edges (0 for a dangling node).
    out_weight: Vec<f64>,
}

impl DiGraph {
    /// Build from `(src, dst, weight)` edges over nodes `0..nodes`; repeated pairs
    /// add up, self-loops count as edges (as networkx does).
    ///
    /// ```
    /// use socialcx::engine::influence::graph::DiGraph;
    /// let g = DiGraph::from_edges(3, &[(0, 1, 1.0), (0, 1, 1.0), (2, 2, 1.0)]);
    /// assert_eq!(g.edges(), 3);
    /// ```
    pub fn from_edges(nodes: usize, edges: &[(u32, u32, f64)]) -> DiGraph {
        let mut in_start = vec![0usize; nodes + 1];
        let mut out_weight = vec![0.0; nodes];
        for &(s, d, w) in edges {
            in_start[d as usize + 1] += 1;
            out_weight[s as usize] += w;
        }
        for v in 0..nodes {
            in_start[v + 1] += in_start[v];
        }
        let mut fill = in_start.clone();
        let mut in_src = vec![0u32; edges.len()];
        let mut in_weight = vec![0.0; edges.len()];
        for &(s, d, w) in edges {
            let slot = &mut fill[d as usize];
            in_src[*slot] = s;
            in_weight[*slot] = w;
            *slot += 1;
        }
        DiGraph {
            nodes,
            in_start,
            in_src,
            in_weight,
            out_weight,
        }
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// Number of edges as given (repeats included).
    pub fn edges(&self) -> usize {
        self.in_src.len()
    }

    /// Weighted PageRank with damping `alpha`: a node's rank flows along its
    /// out-edges in proportion to their weight; a dangling node's rank is spread
    /// evenly over all nodes; iterates until the L1 change is below `tol` (or
    /// `max_iter` rounds). The ranks sum to 1.
    ///
    /// ```
    /// use socialcx::engine::influence::graph::DiGraph;
    /// // 0 -> 1 <- 2: node 1 collects the rank.
    /// let r = DiGraph::from_edges(3, &[(0, 1, 1.0), (2, 1, 1.0)]).pagerank(0.85, 1e-12, 1000);
    /// assert!(r[1] > r[0] && (r.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    /// ```
    pub fn pagerank(&self, alpha: f64, tol: f64, max_iter: usize) -> Vec<f64> {
        let n = self.nodes;
        if n == 0 {
            return Vec::new();
        }
        let uniform = 1.0 / n as f64;
        let mut rank = vec![uniform; n];
        let mut share = vec![0.0; n];
        let mut next = vec![0.0; n];
        let chunks = self.chunks();
        for _ in 0..max_iter {
            let mut dangling = 0.0;
            for u in 0..n {
                if self.out_weight[u] > 0.0 {
                    share[u] = rank[u] / self.out_weight[u];
                } else {
                    share[u] = 0.0;
                    dangling += rank[u];
                }
            }
            let base = alpha * dangling * uniform + (1.0 - alpha) * uniform;
            // Each chunk of destinations pulls its inflow on its own thread.
            let change: f64 = std::thread::scope(|scope| {
                let (share, rank) = (&share, &rank);
                let mut rest = next.as_mut_slice();
                let mut handles = Vec::new();
                for range in chunks.windows(2) {
                    let (start, end) = (range[0], range[1]);
                    let (mine, tail) = rest.split_at_mut(end - start);
                    rest = tail;
                    let mut pull = move || {
                        let mut change = 0.0;
                        for (v, slot) in (start..end).zip(mine.iter_mut()) {
                            let (a, b) = (self.in_start[v], self.in_start[v + 1]);
                            let mut inflow = 0.0;
                            for e in a..b {
                                inflow += share[self.in_src[e] as usize] * self.in_weight[e];
                            }
                            *slot = base + alpha * inflow;
                            change += (*slot - rank[v]).abs();
                        }
                        change
                    };
                    if end == n {
                        handles.push(Ok(pull()));
                    } else {
                        handles.push(Err(scope.spawn(pull)));
                    }
                }
                handles
                    .into_iter()
                    .map(|h| h.unwrap_or_else(|h| h.join().expect("pagerank thread")))
                    .sum()
            });
            std::mem::swap(&mut rank, &mut next);
            if change < tol {
                break;
            }
        }
        rank
    }

    /// Node boundaries `0 = b0 < b1 < ... = nodes` that split the edges evenly over
    /// the machine's cores (one chunk for a small graph).
    fn chunks(&self) -> Vec<usize> {
        const PER_THREAD: usize = 250_000;
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        let threads = cores
            .min(1 + (self.edges() + self.nodes) / PER_THREAD)
            .max(1);
        let mut bounds = vec![0];
        for k in 1..threads {
            let target = self.edges() * k / threads;
            let b = self
                .in_start
                .partition_point(|&x| x < target)
                .min(self.nodes);
            if b > *bounds.last().unwrap() {
                bounds.push(b);
            }
        }
        if *bounds.last().unwrap() < self.nodes {
            bounds.push(self.nodes);
        }
        bounds
    }
}

/// Degree, closeness and betweenness centrality of every node of an undirected
/// simple graph given by its edges over nodes `0..nodes` (self-loops and repeated
/// pairs are ignored), normalised as networkx does.
#[derive(Debug, Clone, PartialEq)]
pub struct Centrality {
    /// Neighbours / (n - 1); 1 for a graph of one node.
    pub degree: Vec<f64>,
    /// Wasserman-Faust closeness: (r - 1) / sum of distances x (r - 1) / (n - 1),
    /// with r the nodes the node reaches (itself included).
    pub closeness: Vec<f64>,
    /// Share of shortest paths between other pairs through the node, over
    /// (n - 1)(n - 2) / 2 pairs.
    pub betweenness: Vec<f64>,
}

/// Compute [`Centrality`] (Brandes' algorithm for betweenness: one breadth-first
/// search per node, O(V x E)).
///
/// ```
/// use socialcx::engine::influence::graph::centrality;
/// // A star: the hub lies on every path between two leaves.
/// let c = centrality(4, &[(0, 1), (0, 2), (0, 3)]);
/// assert_eq!((c.degree[0], c.closeness[0], c.betweenness[0]), (1.0, 1.0, 1.0));
/// assert_eq!(c.betweenness[1], 0.0);
/// ```
pub fn centrality(nodes: usize, edges: &[(u32, u32)]) -> Centrality {
    let n = nodes;
    let mut adjacency: Vec<Vec<u32>> = vec![Vec::new(); n];
    for &(a, b) in edges {
        if a != b {
            adjacency[a as usize].push(b);
            adjacency[b as usize].push(a);
        }
    }
    for list in &mut adjacency {
        list.sort_unstable();
        list.dedup();
    }
    let degree = if n <= 1 {
        vec![1.0; n]
    } else {
        adjacency
            .iter()
            .map(|l| l.len() as f64 / (n - 1) as f64)
            .collect()
    };
    let mut closeness = vec![0.0; n];
    let mut betweenness = vec![0.0; n];
    // Brandes: from each source, BFS counting shortest paths, then accumulate
    // dependencies in reverse BFS order. The BFS distances give closeness too.
    let mut distance = vec![usize::MAX; n];
    let mut paths = vec![0.0f64; n];
    let mut dependency = vec![0.0f64; n];
    let mut predecessors: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut order: Vec<u32> = Vec::with_capacity(n);
    let mut queue: VecDeque<u32> = VecDeque::with_capacity(n);
    for s in 0..n {
        distance.fill(usize::MAX);
        paths.fill(0.0);
        dependency.fill(0.0);
        predecessors.iter_mut().for_each(Vec::clear);
        order.clear();
        distance[s] = 0;
        paths[s] = 1.0;
        queue.push_back(s as u32);
        let mut total_distance = 0usize;
        while let Some(v) = queue.pop_front() {
            let v = v as usize;
            order.push(v as u32);
            total_distance += distance[v];
            for &w in &adjacency[v] {
                let w = w as usize;
                if distance[w] == usize::MAX {
                    distance[w] = distance[v] + 1;
                    queue.push_back(w as u32);
                }
                if distance[w] == distance[v] + 1 {
                    paths[w] += paths[v];
                    predecessors[w].push(v as u32);
                }
            }
        }
        let reached = order.len();
        if total_distance > 0 && n > 1 {
            let r = (reached - 1) as f64;
            closeness[s] = r / total_distance as f64 * (r / (n - 1) as f64);
        }
        for &w in order.iter().rev() {
            let w = w as usize;
            for &v in &predecessors[w] {
                let v = v as usize;
                dependency[v] += paths[v] / paths[w] * (1.0 + dependency[w]);
            }
            if w != s {
                betweenness[w] += dependency[w];
            }
        }
    }
    if n > 2 {
        let scale = 1.0 / ((n - 1) * (n - 2)) as f64;
        betweenness.iter_mut().for_each(|b| *b *= scale);
    }
    Centrality {
        degree,
        closeness,
        betweenness,
    }
}
