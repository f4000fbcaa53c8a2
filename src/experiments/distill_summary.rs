//! Aggregating distillation cells over seeds: mean, spread and 95% intervals of the
//! relative MSE per (mixture, grid, N), and paired reductions (same seed, same
//! evaluation points): balanced vs uniform, and the best grid vs every other grid; and the
//! check of the RMS composition bound, cell by cell ([`bound_violations`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::distill::DistillRow;
use super::stats::{LogReduction, Summary, log_ratios, paired_reductions, summarize};
use crate::tolerance::BOUND_SLACK_REL;

/// Whether a cell's relative MSE exceeds its RMS composition bound, beyond a relative
/// [`BOUND_SLACK_REL`] of the bound (the teacher's accuracy and rounding; for `N = 1` the
/// two are equal by construction).
fn exceeds(r: &DistillRow) -> bool {
    r.rel_mse > r.bound * (1.0 + BOUND_SLACK_REL)
}

/// The cells that violate the composition theorem: the bound is covered by the proof
/// (`bound_rigorous`) and the relative MSE exceeds it. On the evaluation sample the RMS form
/// holds exactly (Minkowski's inequality over the empirical measure, up to the teacher's
/// accuracy), so any violation is a bug: a wrong bound or broken arithmetic. Cells whose
/// bound is only local to a ball are not counted (their excesses show in
/// [`GridStat::exceeded`]).
///
/// ```
/// use flowcert::experiments::distill_summary::bound_violations;
/// assert_eq!(bound_violations(&[]), 0);
/// ```
pub fn bound_violations(rows: &[DistillRow]) -> usize {
    rows.iter()
        .filter(|r| r.bound_rigorous && exceeds(r))
        .count()
}

/// Relative MSE over seeds for one (mixture, grid, N).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridStat {
    /// Mixture name.
    pub mixture: String,
    /// Grid kind.
    pub grid: String,
    /// N.
    pub segments: usize,
    /// Relative MSE over seeds.
    pub rel_mse: Summary,
    /// The composition bound on the relative MSE, mean over seeds; `+inf` (JSON `null`)
    /// where it exceeds the f64 range ([`crate::io::overflow`]).
    #[serde(with = "crate::io::overflow")]
    pub bound_mean: f64,
    /// Whether that bound is covered by the proof on every seed (`DistillRow::bound_rigorous`).
    #[serde(default)]
    pub bound_rigorous: bool,
    /// Seeds whose relative MSE exceeds the bound (a violation when `bound_rigorous`).
    #[serde(default)]
    pub exceeded: usize,
    /// Total two-sided Lambda(T) - Lambda(t_min).
    pub lambda_total: f64,
}

/// A paired comparison `a` vs `b` at one (mixture, N).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reduction {
    /// Mixture name.
    pub mixture: String,
    /// N.
    pub segments: usize,
    /// The grid whose error is reduced relative to `baseline` when positive.
    pub grid: String,
    /// The grid compared against.
    pub baseline: String,
    /// Per-seed paired reductions `1 - mse_grid / mse_baseline`, summarised.
    pub paired: Summary,
    /// The reduction on the log scale, `1 - exp(mean_seeds ln(mse_grid / mse_baseline))`,
    /// with its 95% interval from the t-interval of the log ratios (the table's figure).
    pub log_scale: LogReduction,
    /// Reduction of the means, `1 - mean(mse_grid) / mean(mse_baseline)`.
    pub of_means: f64,
}

/// Everything the distillation tables show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistillSummary {
    /// Per (mixture, grid, N).
    pub stats: Vec<GridStat>,
    /// Balanced vs uniform at every (mixture, N).
    pub balanced_vs_uniform: Vec<Reduction>,
    /// The best grid (lowest mean) vs each other grid at every (mixture, N).
    pub best_vs_others: Vec<Reduction>,
    /// Cells that violate the composition theorem ([`bound_violations`]).
    #[serde(default)]
    pub violations: usize,
}

type Key = (String, usize);

/// grid -> seed -> row, at one (mixture, N).
type BySeed<'a> = BTreeMap<String, BTreeMap<u64, &'a DistillRow>>;

/// Group rows by (mixture, N), then grid, then seed.
fn group(rows: &[DistillRow]) -> BTreeMap<Key, BySeed<'_>> {
    let mut by: BTreeMap<Key, BySeed<'_>> = BTreeMap::new();
    for r in rows {
        by.entry((r.mixture.clone(), r.segments))
            .or_default()
            .entry(r.grid.clone())
            .or_default()
            .insert(r.seed, r);
    }
    by
}

/// Grid `a` against grid `b` at one (mixture, N), paired over the seeds both have (`None`
/// when either grid is missing or no seed is shared).
fn pair(mixture: &str, n: usize, grids: &BySeed<'_>, a: &str, b: &str) -> Option<Reduction> {
    let (ga, gb) = (grids.get(a)?, grids.get(b)?);
    let seeds: Vec<u64> = ga.keys().filter(|s| gb.contains_key(s)).copied().collect();
    if seeds.is_empty() {
        return None;
    }
    let va: Vec<f64> = seeds.iter().map(|s| ga[s].rel_mse).collect();
    let vb: Vec<f64> = seeds.iter().map(|s| gb[s].rel_mse).collect();
    let (ma, mb) = (summarize(&va).mean, summarize(&vb).mean);
    Some(Reduction {
        mixture: mixture.to_string(),
        segments: n,
        grid: a.to_string(),
        baseline: b.to_string(),
        paired: summarize(&paired_reductions(&va, &vb)),
        log_scale: LogReduction::from_log_ratios(&summarize(&log_ratios(&va, &vb))),
        of_means: 1.0 - ma / mb,
    })
}

/// Every other grid against `baseline` at every (mixture, N) with more than one segment,
/// paired over seeds (the verdict table of theory/04: each grid's reduction against the
/// uniform grid with its 95% interval). Ordered by mixture, N, then grid name.
///
/// ```
/// use flowcert::experiments::distill_summary::against_baseline;
/// assert!(against_baseline(&[], "uniform").is_empty());
/// ```
pub fn against_baseline(rows: &[DistillRow], baseline: &str) -> Vec<Reduction> {
    let mut out = Vec::new();
    for ((mixture, n), grids) in group(rows).iter().filter(|((_, n), _)| *n > 1) {
        for g in grids.keys().filter(|g| g.as_str() != baseline) {
            out.extend(pair(mixture, *n, grids, g, baseline));
        }
    }
    out
}

/// Aggregate finished rows (any order; seeds are matched by value for pairing).
///
/// ```
/// let s = flowcert::experiments::distill_summary::summarize_rows(&[]);
/// assert!(s.stats.is_empty());
/// ```
pub fn summarize_rows(rows: &[DistillRow]) -> DistillSummary {
    let by = group(rows);
    let mut stats = Vec::new();
    let mut bvu = Vec::new();
    let mut best = Vec::new();
    for ((mixture, n), grids) in &by {
        let mut means: Vec<(String, f64)> = Vec::new();
        for (g, seeds) in grids {
            let v: Vec<f64> = seeds.values().map(|r| r.rel_mse).collect();
            let s = summarize(&v);
            let bound_mean = seeds.values().map(|r| r.bound).sum::<f64>() / seeds.len() as f64;
            let lambda_total = seeds
                .values()
                .next()
                .map(|r| r.lambda.last().unwrap_or(&0.0) - r.lambda[0])
                .unwrap_or(0.0);
            means.push((g.clone(), s.mean));
            stats.push(GridStat {
                mixture: mixture.clone(),
                grid: g.clone(),
                segments: *n,
                rel_mse: s,
                bound_mean,
                bound_rigorous: seeds.values().all(|r| r.bound_rigorous),
                exceeded: seeds.values().filter(|r| exceeds(r)).count(),
                lambda_total,
            });
        }
        let reduction = |a: &str, b: &str| pair(mixture, *n, grids, a, b);
        if let Some(r) = reduction("balanced", "uniform") {
            bvu.push(r);
        }
        // Best grid: lowest mean; ties broken by name order (BTreeMap order) for determinism.
        // (When every grid gives the same error, e.g. N = 1, there is no best grid.)
        let all_equal = means.windows(2).all(|w| w[0].1 == w[1].1);
        if let Some((bg, _)) = means
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .filter(|_| !all_equal)
        {
            for (g, _) in means.iter().filter(|(g, _)| g != bg) {
                best.extend(reduction(bg, g));
            }
        }
    }
    DistillSummary {
        stats,
        balanced_vs_uniform: bvu,
        best_vs_others: best,
        violations: bound_violations(rows),
    }
}
