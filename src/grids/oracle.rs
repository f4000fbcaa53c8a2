//! The oracle grid over a candidate set (theory/04-composition-and-grids.md, "Oracle and
//! fitted grids"): given candidate times `c_0 = t_min < c_1 < ... < c_{M-1} = T` and, for
//! every allowed candidate segment `c_k -> c_j` (`j < k`), an estimated contribution
//! `e_{jk} >= 0` of its student to the end-to-end error (its RMS local error times the
//! amplification of that error to `t_min`), the oracle grid is the path
//! `0 = i_0 < i_1 < ... < i_N = M - 1` minimising
//!
//! ```text
//! E(path) = sum_{s=1}^{N} e_{i_{s-1} i_s}
//! ```
//! (the first-order composition estimate: the telescoping sum of theory/04 with each
//! segment's error pushed to `t_min` through `DPhi`). [`best_path`] solves this exactly by
//! dynamic programming over the candidate DAG,
//!
//! ```text
//! V_0(0) = 0,   V_s(k) = min_{j < k} V_{s-1}(j) + e_{jk},   E* = V_N(M - 1),
//! ```
//! in `O(N M^2)` time; missing edges (beyond the span bound) cost `+inf`.

use super::GridError;

/// Estimated error contributions of the candidate segments: `cost(j, k)` for the segment
/// from candidate `k` down to candidate `j < k`; `+inf` where no student was trained.
#[derive(Debug, Clone, PartialEq)]
pub struct CostTable {
    m: usize,
    cost: Vec<f64>,
}

impl CostTable {
    /// A table over `m` candidates with every edge missing.
    pub fn new(m: usize) -> Self {
        CostTable {
            m,
            cost: vec![f64::INFINITY; m * m],
        }
    }

    /// Number of candidate times.
    pub fn len(&self) -> usize {
        self.m
    }

    /// Whether there are no candidates.
    pub fn is_empty(&self) -> bool {
        self.m == 0
    }

    /// Set the cost of segment `k -> j` (`j < k < m`; a NaN or negative cost is stored as
    /// missing, so it can never be chosen).
    pub fn set(&mut self, j: usize, k: usize, cost: f64) {
        assert!(j < k && k < self.m, "segment ({j}, {k}) outside the table");
        self.cost[j * self.m + k] = if cost >= 0.0 { cost } else { f64::INFINITY };
    }

    /// The cost of segment `k -> j` (`+inf` when missing).
    pub fn get(&self, j: usize, k: usize) -> f64 {
        if j < k && k < self.m {
            self.cost[j * self.m + k]
        } else {
            f64::INFINITY
        }
    }

    /// The estimate `E(path)` of a path of candidate indices (`+inf` if an edge is
    /// missing or the path does not increase).
    ///
    /// ```
    /// use flowcert::grids::oracle::CostTable;
    /// let mut c = CostTable::new(3);
    /// c.set(0, 1, 1.0);
    /// c.set(1, 2, 2.0);
    /// assert_eq!(c.path_cost(&[0, 1, 2]), 3.0);
    /// assert_eq!(c.path_cost(&[0, 2]), f64::INFINITY);
    /// ```
    pub fn path_cost(&self, path: &[usize]) -> f64 {
        path.windows(2).map(|w| self.get(w[0], w[1])).sum()
    }
}

/// Deliberately wrong optimisers, kept so that the tests show the DP check can fail
/// (never use them for a real run).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mutation {
    /// Greedy from `t_min`: at each step the cheapest next segment that can still reach
    /// `T` in the remaining steps, instead of the DP.
    Greedy,
}

/// The oracle path: the `segments + 1` candidate indices from `0` to `M - 1` minimising
/// the summed cost, and its cost (module doc).
///
/// ```
/// use flowcert::grids::oracle::{CostTable, best_path};
/// // Four candidates; the direct long segment is expensive, two short ones are cheap.
/// let mut c = CostTable::new(4);
/// for (j, k, e) in [(0, 1, 1.0), (1, 3, 1.0), (0, 2, 0.5), (2, 3, 2.0), (0, 3, 5.0)] {
///     c.set(j, k, e);
/// }
/// assert_eq!(best_path(&c, 1).unwrap(), (vec![0, 3], 5.0));
/// assert_eq!(best_path(&c, 2).unwrap(), (vec![0, 1, 3], 2.0));
/// assert!(best_path(&c, 4).is_err()); // 4 segments need 5 candidates
/// ```
pub fn best_path(costs: &CostTable, segments: usize) -> Result<(Vec<usize>, f64), GridError> {
    best_path_mutated(costs, segments, None)
}

/// [`best_path`] with a deliberately wrong optimiser ([`Mutation`]; `None` is the DP).
#[doc(hidden)]
pub fn best_path_mutated(
    costs: &CostTable,
    segments: usize,
    mutation: Option<Mutation>,
) -> Result<(Vec<usize>, f64), GridError> {
    let m = costs.len();
    if segments == 0 || m < 2 || segments > m - 1 {
        return Err(GridError::NoCandidatePath {
            segments,
            candidates: m,
        });
    }
    // reach[s][k]: the least cost of s segments from 0 to k; from[s][k]: the previous index.
    let mut reach = vec![vec![f64::INFINITY; m]; segments + 1];
    let mut from = vec![vec![usize::MAX; m]; segments + 1];
    reach[0][0] = 0.0;
    for s in 1..=segments {
        for k in s..m {
            for j in (s - 1)..k {
                let v = reach[s - 1][j] + costs.get(j, k);
                if v < reach[s][k] {
                    reach[s][k] = v;
                    from[s][k] = j;
                }
            }
        }
    }
    let path = match mutation {
        None => {
            let mut path = vec![m - 1];
            for s in (1..=segments).rev() {
                let prev = from[s][*path.last().unwrap_or(&0)];
                if prev == usize::MAX {
                    break;
                }
                path.push(prev);
            }
            path.reverse();
            path
        }
        Some(Mutation::Greedy) => {
            // Feasibility of finishing from k in r steps: the exact DP run backwards would
            // be the oracle again; a plain reachability table keeps the greedy honest.
            let mut path = vec![0];
            for s in 1..=segments {
                let j = *path.last().unwrap_or(&0);
                let left = segments - s;
                let next = ((j + 1)..m)
                    .filter(|&k| costs.get(j, k).is_finite())
                    .filter(|&k| {
                        if left == 0 {
                            k == m - 1
                        } else {
                            k < m - 1 && reachable(costs, k, left)
                        }
                    })
                    .min_by(|&a, &b| costs.get(j, a).total_cmp(&costs.get(j, b)));
                match next {
                    Some(k) => path.push(k),
                    None => break,
                }
            }
            path
        }
    };
    let cost = costs.path_cost(&path);
    if path.len() != segments + 1 || !cost.is_finite() {
        return Err(GridError::NoCandidatePath {
            segments,
            candidates: m,
        });
    }
    Ok((path, cost))
}

/// Whether `M - 1` is reachable from `k` in exactly `steps` finite edges.
fn reachable(costs: &CostTable, k: usize, steps: usize) -> bool {
    let m = costs.len();
    let mut now = vec![false; m];
    now[k] = true;
    for _ in 0..steps {
        let mut next = vec![false; m];
        for (j, _) in now.iter().enumerate().filter(|(_, on)| **on) {
            for (l, n) in next.iter_mut().enumerate().skip(j + 1) {
                *n |= costs.get(j, l).is_finite();
            }
        }
        now = next;
    }
    now[m - 1]
}

/// Candidate times: `log_points` log-spaced times on `[t_min, t_max]` (both ends included)
/// merged with `extra` times inside the interval (e.g. the peer grids' points), sorted,
/// with times closer than `1e-9` relative to a kept one dropped (so a peer grid's own
/// points stay exactly representable: extra points win over log-spaced ones).
///
/// ```
/// let c = flowcert::grids::oracle::candidate_times(0.01, 1.0, 3, &[0.5, 0.1]);
/// assert_eq!(c.len(), 4);
/// assert_eq!((c[0], c[2], c[3]), (0.01, 0.5, 1.0));
/// assert!((c[1] - 0.1).abs() < 1e-15);
/// ```
pub fn candidate_times(t_min: f64, t_max: f64, log_points: usize, extra: &[f64]) -> Vec<f64> {
    let mut all: Vec<(f64, bool)> = vec![(t_min, true), (t_max, true)];
    all.extend(
        extra
            .iter()
            .filter(|&&t| t > t_min && t < t_max)
            .map(|&t| (t, true)),
    );
    let n = log_points.max(2);
    let (a, b) = (t_min.ln(), t_max.ln());
    all.extend((1..n - 1).map(|i| ((a + (b - a) * i as f64 / (n - 1) as f64).exp(), false)));
    // Preferred (exact) points first, then by time: a log point near a kept one is dropped.
    all.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.total_cmp(&y.0)));
    let mut kept: Vec<f64> = Vec::new();
    for (t, _) in all {
        if !kept.iter().any(|&k| (t - k).abs() <= 1e-9 * k) {
            kept.push(t);
        }
    }
    kept.sort_by(f64::total_cmp);
    kept
}

/// The candidate indices of a grid's times (`None` if a time is not a candidate).
pub fn indices_of(candidates: &[f64], times: &[f64]) -> Option<Vec<usize>> {
    times
        .iter()
        .map(|&t| candidates.iter().position(|&c| (c - t).abs() <= 1e-9 * c))
        .collect()
}
