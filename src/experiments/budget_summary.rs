//! What the budget sweep shows (theory/04-composition-and-grids.md, "Budget sweep"): per
//! budget the relative MSE of every (mixture, grid, N) over seeds with its 95% interval;
//! paired reductions of each grid against uniform and against the best peer grid; the
//! stability of the grid ranking along each ladder of budgets (Kendall's `tau_b` between
//! consecutive budgets and against the largest, the winner at each budget, the budget from
//! which the winner stays that of the largest); and the local-error law
//! `eps_i ~ (Delta Lambda_i)^b` fitted per budget and mixture.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::budget::{BudgetRows, Ladder, ValidBudgetSweep};
use super::distill::DistillRow;
use super::distill_summary::{GridStat, bound_violations, summarize_rows};
use super::stats::{LineFit, LogReduction, fit_line, kendall_tau_b, log_ratios, summarize};

/// One budget as the tables name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetInfo {
    /// Name in tables (`3000x64`).
    pub label: String,
    /// Adam steps.
    pub steps: usize,
    /// Hidden width.
    pub width: usize,
    /// Hidden layers.
    pub depth: usize,
    /// The learning-rate schedule, as `flowcert distill --schedule` names it.
    pub schedule: String,
}

/// A paired reduction at one (budget, mixture, N): `grid` against `baseline`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetReduction {
    /// Index into the budgets.
    pub budget: usize,
    /// Mixture.
    pub mixture: String,
    /// N.
    pub segments: usize,
    /// The grid.
    pub grid: String,
    /// What it is compared with (`uniform`, or the best peer).
    pub baseline: String,
    /// `1 - exp(mean ln(mse_grid / mse_baseline))` over paired seeds, with its interval.
    pub reduction: LogReduction,
}

/// The ranking of the grids at one budget of a ladder, for one (mixture, N).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankingRow {
    /// The ladder's name.
    pub ladder: String,
    /// Mixture.
    pub mixture: String,
    /// N.
    pub segments: usize,
    /// Index into the budgets.
    pub budget: usize,
    /// Grids from best (lowest mean relative MSE) to worst; ties keep the plan's grid order.
    pub ranking: Vec<String>,
    /// Kendall's `tau_b` against the previous budget of the ladder (none at the first).
    pub tau_previous: Option<f64>,
    /// Kendall's `tau_b` against the largest budget of the ladder.
    pub tau_largest: Option<f64>,
}

/// The winner along one ladder, for one (mixture, N).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WinnerRow {
    /// The ladder's name.
    pub ladder: String,
    /// Mixture.
    pub mixture: String,
    /// N.
    pub segments: usize,
    /// The best grid at each budget of the ladder.
    pub winners: Vec<String>,
    /// Budgets (indices) at which the winner differs from the previous budget's.
    pub changes: Vec<usize>,
    /// The first budget (index) from which every larger budget of the ladder has the winner
    /// of the largest: beyond it more budget no longer changes the winner.
    pub settled_from: usize,
}

/// The local-error law at one (budget, mixture): `ln eps_i = a + b ln(Delta Lambda_i)` over
/// the distinct (seed, segment) students.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExponentRow {
    /// Index into the budgets.
    pub budget: usize,
    /// Mixture.
    pub mixture: String,
    /// The fit: `slope` is `b`.
    pub fit: LineFit,
}

/// One cell's result, compactly (summary.json keeps these, not the full rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetCell {
    /// Index into the budgets.
    pub budget: usize,
    /// Mixture.
    pub mixture: String,
    /// Grid.
    pub grid: String,
    /// N.
    pub segments: usize,
    /// Seed.
    pub seed: u64,
    /// End-to-end relative MSE.
    pub rel_mse: f64,
}

/// Everything the budget-sweep tables and figures show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetSummary {
    /// The budgets.
    pub budgets: Vec<BudgetInfo>,
    /// The ladders.
    pub ladders: Vec<Ladder>,
    /// The peer grids.
    pub peers: Vec<String>,
    /// Relative MSE over seeds per (budget, mixture, grid, N).
    pub stats: Vec<(usize, GridStat)>,
    /// Every grid against uniform and against the best peer, per (budget, mixture, N).
    pub reductions: Vec<BudgetReduction>,
    /// Rankings along the ladders.
    pub rankings: Vec<RankingRow>,
    /// Winners along the ladders.
    pub winners: Vec<WinnerRow>,
    /// The local-error exponent per (budget, mixture).
    pub exponents: Vec<ExponentRow>,
    /// Every cell.
    pub cells: Vec<BudgetCell>,
    /// Cells whose relative MSE exceeds a composition bound the proof covers (a bug).
    pub violations: usize,
    /// Cells not finished (other shards).
    pub missing: usize,
}

fn schedule_name(s: &crate::nn::LrSchedule) -> String {
    match s {
        crate::nn::LrSchedule::Constant => "constant".into(),
        crate::nn::LrSchedule::Cosine { final_fraction } => format!("cosine to {final_fraction}"),
        other => format!("{other:?}"),
    }
}

/// The grids of `stats` at one (mixture, N) in the plan's order, with their mean relative MSE.
fn means_at<'a>(
    stats: &'a [GridStat],
    grids: &[String],
    mixture: &str,
    n: usize,
) -> Vec<(&'a str, f64)> {
    grids
        .iter()
        .filter_map(|g| {
            stats
                .iter()
                .find(|s| s.mixture == mixture && s.segments == n && &s.grid == g)
                .map(|s| (s.grid.as_str(), s.rel_mse.mean))
        })
        .collect()
}

/// Grids from best to worst (stable: ties keep the given order).
fn ranking(means: &[(&str, f64)]) -> Vec<String> {
    let mut v = means.to_vec();
    v.sort_by(|a, b| a.1.total_cmp(&b.1));
    v.into_iter().map(|(g, _)| g.to_string()).collect()
}

/// The paired log-scale reduction of `grid` against `baseline` over the seeds both have.
fn paired(
    rows: &[&DistillRow],
    mixture: &str,
    n: usize,
    grid: &str,
    baseline: &str,
) -> Option<LogReduction> {
    let of = |g: &str| -> BTreeMap<u64, f64> {
        rows.iter()
            .filter(|r| r.mixture == mixture && r.segments == n && r.grid == g)
            .map(|r| (r.seed, r.rel_mse))
            .collect()
    };
    let (a, b) = (of(grid), of(baseline));
    let seeds: Vec<u64> = a.keys().filter(|s| b.contains_key(s)).copied().collect();
    if seeds.is_empty() {
        return None;
    }
    let va: Vec<f64> = seeds.iter().map(|s| a[s]).collect();
    let vb: Vec<f64> = seeds.iter().map(|s| b[s]).collect();
    Some(LogReduction::from_log_ratios(&summarize(&log_ratios(
        &va, &vb,
    ))))
}

/// The fit of `ln eps_i` against `ln(Delta Lambda_i)` over the distinct (seed, segment)
/// students of `rows` (a segment's local error is taken from its first cell in row order;
/// segments with a non-positive increment or error are left out).
///
/// ```
/// let f = flowcert::experiments::budget_summary::local_error_law(&[]);
/// assert!(f.is_none());
/// ```
pub fn local_error_law(rows: &[&DistillRow]) -> Option<LineFit> {
    let mut seen = BTreeSet::new();
    let mut pts = Vec::new();
    for r in rows {
        for i in 1..r.times.len() {
            let key = (r.seed, r.times[i].to_bits(), r.times[i - 1].to_bits());
            let (dl, eps) = (r.lambda[i] - r.lambda[i - 1], r.local_errors[i - 1]);
            if seen.insert(key) && dl > 0.0 && eps > 0.0 {
                pts.push((dl.ln(), eps.ln()));
            }
        }
    }
    fit_line(&pts)
}

/// Summarise a finished sweep (module doc).
pub fn summarize_budget_sweep(plan: &ValidBudgetSweep, done: &BudgetRows) -> BudgetSummary {
    let grids: Vec<String> = plan
        .cells
        .grids
        .iter()
        .map(|g| g.name().to_string())
        .collect();
    let peers: Vec<String> = plan.peers.iter().map(|g| g.name().to_string()).collect();
    let per_budget: Vec<Vec<&DistillRow>> = (0..plan.budgets.len())
        .map(|k| {
            done.rows
                .iter()
                .filter(|r| r.budget == k)
                .map(|r| &r.row)
                .collect()
        })
        .collect();
    let per_stats: Vec<Vec<GridStat>> = per_budget
        .iter()
        .map(|rows| {
            let owned: Vec<DistillRow> = rows.iter().map(|r| (*r).clone()).collect();
            summarize_rows(&owned).stats
        })
        .collect();
    let mixtures: Vec<&str> = plan
        .cells
        .mixtures
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    let mut reductions = Vec::new();
    let mut exponents = Vec::new();
    for (k, rows) in per_budget.iter().enumerate() {
        for &m in &mixtures {
            for &n in &plan.cells.segments {
                let means = means_at(&per_stats[k], &grids, m, n);
                let best_peer = means
                    .iter()
                    .filter(|(g, _)| peers.iter().any(|p| p == g))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|(g, _)| g.to_string());
                for (g, _) in &means {
                    let mut push = |baseline: &str| {
                        if let Some(r) = paired(rows, m, n, g, baseline) {
                            reductions.push(BudgetReduction {
                                budget: k,
                                mixture: m.to_string(),
                                segments: n,
                                grid: g.to_string(),
                                baseline: baseline.to_string(),
                                reduction: r,
                            });
                        }
                    };
                    if *g != "uniform" {
                        push("uniform");
                    }
                    if let Some(p) = best_peer.as_deref().filter(|p| p != g) {
                        push(p);
                    }
                }
            }
            let mine: Vec<&DistillRow> = rows.iter().copied().filter(|r| r.mixture == m).collect();
            if let Some(fit) = local_error_law(&mine) {
                exponents.push(ExponentRow {
                    budget: k,
                    mixture: m.to_string(),
                    fit,
                });
            }
        }
    }
    let mut rankings = Vec::new();
    let mut winners = Vec::new();
    for l in &plan.ladders {
        for &m in &mixtures {
            for &n in &plan.cells.segments {
                let means: Vec<Vec<(&str, f64)>> = l
                    .points
                    .iter()
                    .map(|&(k, _)| means_at(&per_stats[k], &grids, m, n))
                    .collect();
                if means
                    .iter()
                    .any(|v| v.len() < 2 || v.len() != means[0].len())
                {
                    continue;
                }
                let values = |v: &[(&str, f64)]| v.iter().map(|p| p.1).collect::<Vec<f64>>();
                let last = values(&means[means.len() - 1]);
                let mut win = Vec::new();
                for (j, &(k, _)) in l.points.iter().enumerate() {
                    let r = ranking(&means[j]);
                    win.push(r[0].clone());
                    rankings.push(RankingRow {
                        ladder: l.name.clone(),
                        mixture: m.to_string(),
                        segments: n,
                        budget: k,
                        ranking: r,
                        tau_previous: (j > 0)
                            .then(|| kendall_tau_b(&values(&means[j - 1]), &values(&means[j])))
                            .flatten(),
                        tau_largest: kendall_tau_b(&values(&means[j]), &last),
                    });
                }
                let changes = (1..win.len())
                    .filter(|&j| win[j] != win[j - 1])
                    .map(|j| l.points[j].0)
                    .collect();
                let settled = (0..win.len())
                    .find(|&j| win[j..].iter().all(|w| *w == win[win.len() - 1]))
                    .unwrap_or(win.len() - 1);
                winners.push(WinnerRow {
                    ladder: l.name.clone(),
                    mixture: m.to_string(),
                    segments: n,
                    winners: win,
                    changes,
                    settled_from: l.points[settled].0,
                });
            }
        }
    }
    let all: Vec<DistillRow> = done.rows.iter().map(|r| r.row.clone()).collect();
    BudgetSummary {
        budgets: plan
            .budgets
            .iter()
            .map(|b| BudgetInfo {
                label: b.label.clone(),
                steps: b.budget.steps,
                width: b.budget.width,
                depth: b.budget.depth,
                schedule: schedule_name(&b.budget.schedule),
            })
            .collect(),
        ladders: plan.ladders.clone(),
        peers,
        stats: per_stats
            .into_iter()
            .enumerate()
            .flat_map(|(k, s)| s.into_iter().map(move |g| (k, g)))
            .collect(),
        reductions,
        rankings,
        winners,
        exponents,
        cells: done
            .rows
            .iter()
            .map(|r| BudgetCell {
                budget: r.budget,
                mixture: r.row.mixture.clone(),
                grid: r.row.grid.clone(),
                segments: r.row.segments,
                seed: r.row.seed,
                rel_mse: r.row.rel_mse,
            })
            .collect(),
        violations: bound_violations(&all),
        missing: done.missing,
    }
}
