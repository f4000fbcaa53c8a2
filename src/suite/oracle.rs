//! The oracle-and-fitted-grids section of `reproduce` (theory/04-composition-and-grids.md,
//! "Oracle and fitted grids"): per mixture, candidate segment students at the selection
//! seeds choose the oracle grid (exact DP on the first-order estimate) and the fitted grid
//! (the pilot's local-error law); both are then retrained from scratch at the evaluation
//! seeds (the distillation sweep's seeds, budget and evaluation points) and measured beside
//! the peer grids, whose cells are those of the main sweep (shared through the cell store).
//!
//! In a sharded `reproduce` shard 0 runs this section whole and keeps it in the cell store,
//! so `merge` computes nothing (as for the process axis).

use std::collections::BTreeSet;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Progress, SuiteError};
use crate::experiments::distill::{DistillPlan, DistillRow, LabelledGrid};
use crate::experiments::oracle::{OracleConfig, Selection, select};
use crate::experiments::segments::SeedWork;
use crate::experiments::stats::{log_ratios, summarize};
use crate::experiments::{CellStore, Shard};
use crate::grids::lambda_at;
use crate::model::builtin::Builtin;
use crate::report::plot::{Axis, Figure, IntervalStyle, Panel, Series};
use crate::report::{Table, sig};

/// What the section runs.
#[derive(Debug, Clone)]
pub struct OraclePlan {
    /// Mixtures.
    pub mixtures: Vec<Builtin>,
    /// Candidates, span, peers, N, selection seeds, pilot.
    pub config: OracleConfig,
    /// The distillation template: budget, evaluation seeds and samples, interval, teacher
    /// (mixtures and grids are set here).
    pub distill: DistillPlan,
}

/// One mixture's selection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OracleEntry {
    /// Mixture name.
    pub mixture: String,
    /// Candidates, estimates, law fits, chosen grids.
    pub selection: Selection,
    /// `E|Phi_{T->t_min}(x)|^2` over the evaluation points (mean over the evaluation
    /// seeds): the normaliser of the relative MSE, applied to the estimates.
    pub norm2: f64,
}

/// The section: selections and every evaluated cell (oracle, fitted, peers).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OracleSection {
    /// Per mixture.
    pub entries: Vec<OracleEntry>,
    /// Cells at the evaluation seeds.
    pub rows: Vec<DistillRow>,
}

/// Run the section (module doc).
pub fn section(
    plan: &OraclePlan,
    store: &CellStore,
    progress: &dyn Progress,
) -> Result<(OracleSection, usize), SuiteError> {
    plan.config.check()?;
    let base = plan.distill.clone().check()?;
    let budget = base
        .budget
        .check()
        .map_err(crate::experiments::distill::DistillError::from)?;
    let span = (base.t_min, base.t_max);
    let mut entries = Vec::new();
    let mut rows = Vec::new();
    progress.stage("oracle", plan.mixtures.len() as u64);
    for b in &plan.mixtures {
        let mix = b.mixture();
        let flow = || base.teacher.flow(&mix);
        let works: Vec<SeedWork> = plan
            .config
            .selection_seeds
            .iter()
            .map(|&s| SeedWork::new(flow(), s, budget, base.eval_samples, span))
            .collect();
        let selection = select(&mix, &works, span, &plan.config)?;
        drop(works);
        let mut norm2 = 0.0;
        for &seed in &base.seeds {
            let work = SeedWork::new(flow(), seed, budget, base.eval_samples, span);
            let exact = &work.eval_set()?.exact;
            norm2 += exact.column_iter().map(|c| c.norm_squared()).sum::<f64>()
                / (exact.ncols().max(1) * base.seeds.len()) as f64;
            let chosen: Vec<_> = selection
                .grids
                .iter()
                .filter(|g| g.grid == "oracle" || g.grid == "fitted")
                .collect();
            let mut segs = BTreeSet::new();
            for g in &chosen {
                for w in g.times.windows(2) {
                    segs.insert((w[1].to_bits(), w[0].to_bits()));
                }
            }
            let segs: Vec<(u64, u64)> = segs.into_iter().collect();
            segs.par_iter().try_for_each(|&(a, c)| {
                work.student(f64::from_bits(a), f64::from_bits(c)).map(drop)
            })?;
            for g in chosen {
                let lambda = lambda_at(&mix, &g.times)
                    .map_err(crate::experiments::distill::DistillError::from)?;
                let grid = LabelledGrid {
                    name: &g.grid,
                    times: &g.times,
                    lambda: &lambda,
                };
                rows.push(work.cell(b.name(), &grid, None)?);
            }
        }
        // The peers: the main sweep's cells (same keys), computed here when absent.
        let peers = DistillPlan {
            mixtures: vec![(b.name().to_string(), mix.clone())],
            grids: plan.config.peers.clone(),
            segments: plan.config.segments.clone(),
            ..plan.distill.clone()
        }
        .check()?
        .sweep(store, Shard::ALL, &crate::experiments::sweep::Silent)?;
        rows.extend(peers.rows);
        entries.push(OracleEntry {
            mixture: b.name().to_string(),
            selection,
            norm2,
        });
        progress.tick();
    }
    progress.finish();
    let violations = crate::experiments::distill_summary::bound_violations(&rows);
    Ok((OracleSection { entries, rows }, violations))
}

/// Grid names in report order: oracle, fitted, then the peers as they appear.
fn grid_names(s: &OracleSection) -> Vec<String> {
    let mut names = vec!["oracle".to_string(), "fitted".to_string()];
    for r in &s.rows {
        if !names.contains(&r.grid) {
            names.push(r.grid.clone());
        }
    }
    names
}

/// The relative MSE of (mixture, grid, N) per seed, in seed order.
fn per_seed(s: &OracleSection, m: &str, g: &str, n: usize) -> Vec<(u64, f64)> {
    let mut v: Vec<(u64, f64)> = s
        .rows
        .iter()
        .filter(|r| r.mixture == m && r.grid == g && r.segments == n)
        .map(|r| (r.seed, r.rel_mse))
        .collect();
    v.sort_by_key(|p| p.0);
    v
}

/// Per mixture, N and grid: the first-order estimate on the candidate costs (as a relative
/// MSE, `(sum e)^2 / E|Phi|^2`), the measured
/// relative MSE (mean and 95% interval over the evaluation seeds) and the paired gap to
/// the oracle, `exp(mean ln(mse / mse_oracle)) - 1` with its 95% interval.
pub fn gaps_table(s: &OracleSection, digits: usize) -> Table {
    let mut t = Table::new(&[
        "mixture",
        "N",
        "grid",
        "estimate (rel. MSE)",
        "rel. MSE (mean)",
        "95% interval",
        "gap to oracle",
        "gap 95% interval",
    ]);
    let pct = |v: f64| format!("{}%", sig(100.0 * v, digits));
    for e in &s.entries {
        let mut ns: Vec<usize> = e.selection.grids.iter().map(|g| g.segments).collect();
        ns.sort_unstable();
        ns.dedup();
        for n in ns {
            let oracle = per_seed(s, &e.mixture, "oracle", n);
            for g in grid_names(s) {
                let Some(chosen) = e
                    .selection
                    .grids
                    .iter()
                    .find(|c| c.grid == g && c.segments == n)
                else {
                    continue;
                };
                let v = per_seed(s, &e.mixture, &g, n);
                let vals: Vec<f64> = v.iter().map(|p| p.1).collect();
                let sm = summarize(&vals);
                let est = match chosen.estimate {
                    Some(x) => sig(x * x / e.norm2, digits),
                    None => "-".into(),
                };
                let (gap, gap_ci) = if g == "oracle" || v.len() != oracle.len() || v.is_empty() {
                    ("-".to_string(), "-".to_string())
                } else {
                    let a: Vec<f64> = vals.clone();
                    let b: Vec<f64> = oracle.iter().map(|p| p.1).collect();
                    let lr = summarize(&log_ratios(&a, &b));
                    let ci = if lr.n >= crate::experiments::stats::MIN_PAIRED_FOR_INTERVAL {
                        format!(
                            "[{}, {}]",
                            pct(lr.ci_low.exp() - 1.0),
                            pct(lr.ci_high.exp() - 1.0)
                        )
                    } else {
                        "-".into()
                    };
                    (pct(lr.mean.exp() - 1.0), ci)
                };
                t.push(vec![
                    e.mixture.clone(),
                    n.to_string(),
                    g.clone(),
                    est,
                    sig(sm.mean, digits),
                    if sm.n >= crate::experiments::stats::MIN_PAIRED_FOR_INTERVAL {
                        format!("[{}, {}]", sig(sm.ci_low, digits), sig(sm.ci_high, digits))
                    } else {
                        "-".into()
                    },
                    gap,
                    gap_ci,
                ]);
            }
        }
    }
    t
}

/// The local-error law fits of every mixture's pilot.
pub fn fits_table(s: &OracleSection, digits: usize) -> Table {
    let mut t = Table::new(&[
        "mixture",
        "covariates",
        "b (Delta Lambda)",
        "b (Delta logSNR)",
        "R^2",
        "adjusted R^2",
        "pilot segments",
        "used",
    ]);
    for e in &s.entries {
        for (i, f) in e.selection.fits.iter().enumerate() {
            let b = |v: f64, on: bool| if on { sig(v, digits) } else { "-".into() };
            use crate::grids::fitted::Covariates as C;
            t.push(vec![
                e.mixture.clone(),
                f.covariates.name().to_string(),
                b(f.b_lambda, f.covariates != C::LogSnr),
                b(f.b_logsnr, f.covariates != C::Lambda),
                sig(f.r2, digits),
                sig(f.adj_r2, digits),
                f.n.to_string(),
                if i == e.selection.fit_used { "yes" } else { "" }.to_string(),
            ]);
        }
    }
    t
}

/// The chosen grids' times.
pub fn grids_table(s: &OracleSection, digits: usize) -> Table {
    let mut t = Table::new(&["mixture", "N", "grid", "times"]);
    for e in &s.entries {
        for g in &e.selection.grids {
            if g.grid == "oracle" || g.grid == "fitted" {
                let times: Vec<String> = g.times.iter().map(|&v| sig(v, digits)).collect();
                t.push(vec![
                    e.mixture.clone(),
                    g.segments.to_string(),
                    g.grid.clone(),
                    times.join(", "),
                ]);
            }
        }
    }
    t
}

/// Relative MSE against N per grid (mean and 95% interval over the evaluation seeds), one
/// panel per mixture.
pub fn figure(s: &OracleSection) -> Figure {
    let panels = s
        .entries
        .iter()
        .map(|e| {
            let mut ns: Vec<usize> = e.selection.grids.iter().map(|g| g.segments).collect();
            ns.sort_unstable();
            ns.dedup();
            let series = grid_names(s)
                .iter()
                .map(|g| {
                    let (pts, ci): (Vec<_>, Vec<_>) = ns
                        .iter()
                        .filter_map(|&n| {
                            let v: Vec<f64> =
                                per_seed(s, &e.mixture, g, n).iter().map(|p| p.1).collect();
                            (!v.is_empty()).then(|| {
                                let sm = summarize(&v);
                                let lo = if sm.n >= 2 {
                                    sm.ci_low.max(sm.mean * 0.05)
                                } else {
                                    sm.mean
                                };
                                (
                                    (n as f64, sm.mean),
                                    (lo, if sm.n >= 2 { sm.ci_high } else { sm.mean }),
                                )
                            })
                        })
                        .unzip();
                    Series::line_markers(g, pts).with_intervals(ci, IntervalStyle::Bars)
                })
                .collect();
            Panel::new(
                Axis::log("N (segments)").integer(),
                Axis::log("relative MSE"),
                series,
            )
            .titled(&e.mixture)
        })
        .collect();
    Figure::new(
        "Oracle and fitted grids against the peers",
        "End-to-end relative MSE against N (mean over the evaluation seeds, 95% intervals; lower ends clipped at 5% of the mean on the log axis) of the oracle grid (exact DP over candidate segments on the first-order estimate, retrained from scratch), the fitted grid (pilot local-error law) and the peer grids.",
        panels,
    )
}
