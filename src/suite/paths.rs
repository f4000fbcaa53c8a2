//! The process axis of `reproduce` (theory/07-gaussian-paths.md): on a two-mode mixture, for
//! every built-in path, the L(t) bounds against the BFGS suprema, the flow-map stability
//! on the balanced grid, and a small distillation sweep comparing grids; all on the
//! *matched* interval, the times of each path with the noise ratios `sigma/alpha` of OU
//! on `[t_min, t_max]` (`Process::matched_time`), so that every path sees the same range of
//! signal-to-noise ratios.
//!
//! In a sharded `reproduce` shard 0 runs this section whole (its distillation cells
//! included; it is small) and keeps it in the cell store, so `merge` computes nothing.

use serde::{Deserialize, Serialize};

use super::{Progress, SuiteError};
use crate::bounds::{Bound, LambdaTable, Lipschitz, SearchConfig};
use crate::experiments::distill::{DistillPlan, DistillRow};
use crate::experiments::{CellStore, Shard};
use crate::grids::GridKind;
use crate::model::builtin::Builtin;
use crate::model::process::{PROCESS_NAMES, Process, ProcessInfo, ProcessSpec};
use crate::report::{Table, sig};
use crate::theorems::lipschitz::{LipschitzReport, REPORT_TIMES, compare_bounds};
use crate::theorems::stability::{StabilityConfig, StabilityReport, measure_grid};

/// What the process axis runs.
#[derive(Debug, Clone)]
pub struct PathsPlan {
    /// The paths (default: every built-in with its default parameters).
    pub processes: Vec<Process>,
    /// The mixture.
    pub mixture: Builtin,
    /// The OU interval whose noise ratios every path covers.
    pub ou_interval: (f64, f64),
    /// Search of the L(t) comparison (at the OU report times, matched).
    pub search: SearchConfig,
    /// Stability checker (balanced grid, `segments`).
    pub stability: StabilityConfig,
    /// Segments of the stability grid.
    pub segments: usize,
    /// The distillation template: grids, N, seeds, budget (mixtures and times are set per
    /// path).
    pub distill: DistillPlan,
}

impl PathsPlan {
    /// Every built-in path on `mixture`, the distillation template given.
    pub fn new(
        mixture: Builtin,
        search: SearchConfig,
        stability: StabilityConfig,
        distill: DistillPlan,
    ) -> Self {
        PathsPlan {
            processes: PROCESS_NAMES
                .iter()
                .map(|n| ProcessSpec::named(n).check().expect("built-in path"))
                .collect(),
            mixture,
            ou_interval: (distill.t_min, distill.t_max),
            search,
            stability,
            segments: 4,
            distill,
        }
    }
}

/// The checks of one path.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PathEntry {
    /// The path.
    pub process: ProcessInfo,
    /// The matched interval.
    pub t_min: f64,
    /// The matched interval.
    pub t_max: f64,
    /// Two-sided `Lambda(t_max) = int L` over the interval.
    pub lambda_total: f64,
    /// One-sided `int mu` over the interval.
    pub mu_total: f64,
    /// L(t), paper L, mu against the suprema at the matched report times.
    pub lipschitz: LipschitzReport,
    /// Stability on the balanced grid.
    pub stability: StabilityReport,
}

/// The process axis: checks per path and the distillation rows (mixture names carry the
/// path: `two-mode-s0.1@rectified`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PathsSection {
    /// The mixture.
    pub mixture: String,
    /// Per path.
    pub entries: Vec<PathEntry>,
    /// Distillation rows of every path.
    pub distill_rows: Vec<DistillRow>,
    /// Cells not finished (other shards).
    pub distill_missing: usize,
}

/// The path's interval matched to OU's.
///
/// ```
/// use flowcert::model::process::{Process, ProcessSpec};
/// let rf = ProcessSpec::named("rectified").check().unwrap();
/// let (a, b) = flowcert::suite::paths::matched_interval(&rf, (0.01, 3.0));
/// assert!((a - 0.1244).abs() < 1e-3 && (b - 0.9525).abs() < 1e-3);
/// assert_eq!(flowcert::suite::paths::matched_interval(&Process::default(), (0.01, 3.0)), (0.01, 3.0));
/// ```
pub fn matched_interval(p: &Process, ou: (f64, f64)) -> (f64, f64) {
    let ou_path = Process::default();
    (
        p.matched_time(&ou_path, ou.0),
        p.matched_time(&ou_path, ou.1),
    )
}

/// Run the section: bounds and stability per path, then the distillation cells of `shard`.
pub fn section(
    plan: &PathsPlan,
    store: &CellStore,
    shard: Shard,
    progress: &dyn Progress,
) -> Result<(PathsSection, usize), SuiteError> {
    let base = plan.mixture.mixture();
    progress.stage("paths", plan.processes.len() as u64);
    let mut entries = Vec::new();
    for p in &plan.processes {
        let mix = base.clone().with_process(p.clone());
        let (t_min, t_max) = matched_interval(p, plan.ou_interval);
        let times: Vec<f64> = REPORT_TIMES
            .iter()
            .filter(|&&t| t >= plan.ou_interval.0 && t <= plan.ou_interval.1)
            .map(|&t| p.matched_time(&Process::default(), t))
            .collect();
        let lipschitz = compare_bounds(&mix, &times, &plan.search)?;
        let stability = measure_grid(
            &mix,
            &GridKind::Balanced,
            t_min,
            t_max,
            plan.segments,
            &plan.stability,
        )?;
        let lip = Lipschitz::auto(&mix);
        let total = |b: Bound| {
            LambdaTable::new(lip.clone(), b, t_min, t_max)
                .map(|tab| tab.value(t_max))
                .map_err(crate::theorems::lipschitz::LipschitzCheckError::from)
        };
        entries.push(PathEntry {
            process: p.info(),
            t_min,
            t_max,
            lambda_total: total(Bound::TwoSided)?,
            mu_total: crate::bounds::lambda::integrate_bound(&lip, Bound::OneSided, t_min, t_max)
                .map_err(crate::theorems::lipschitz::LipschitzCheckError::from)?
                .value,
            lipschitz,
            stability,
        });
        progress.tick();
    }
    progress.finish();
    let mut rows = Vec::new();
    let mut missing = 0;
    for (p, e) in plan.processes.iter().zip(&entries) {
        let name = format!("{}@{}", plan.mixture.name(), p.label());
        // On OU the matched interval is the OU interval itself, so these cells are the main
        // sweep's cells of the mixture whenever the main sweep has the same budget, grid,
        // N and seed (quick and tiny scales): run them under the main sweep's keys (read
        // back from the store, no work) and label the rows with the path.
        let key_name = if p.is_ou() {
            plan.mixture.name().to_string()
        } else {
            name.clone()
        };
        let sweep = DistillPlan {
            mixtures: vec![(key_name, base.clone().with_process(p.clone()))],
            t_min: e.t_min,
            t_max: e.t_max,
            ..plan.distill.clone()
        }
        .check()?
        .sweep(store, shard, progress)?;
        rows.extend(sweep.rows.into_iter().map(|mut r| {
            r.mixture.clone_from(&name);
            r
        }));
        missing += sweep.missing;
    }
    // The composition bound, cell by cell, as for the main sweep (theory/07, Theorem 5).
    let violations = entries
        .iter()
        .map(|e| e.lipschitz.violations + e.stability.violations)
        .sum::<usize>()
        + crate::experiments::distill_summary::bound_violations(&rows);
    Ok((
        PathsSection {
            mixture: plan.mixture.name().to_string(),
            entries,
            distill_rows: rows,
            distill_missing: missing,
        },
        violations,
    ))
}

/// One row per path: the interval, `Lambda`, `int mu`, violations, and the mean relative
/// MSE over seeds of each grid at each N (`digits` significant digits).
pub fn table(s: &PathsSection, digits: usize) -> Table {
    let mut grids: Vec<&str> = Vec::new();
    let mut ns: Vec<usize> = Vec::new();
    for r in &s.distill_rows {
        if !grids.contains(&r.grid.as_str()) {
            grids.push(&r.grid);
        }
        if !ns.contains(&r.segments) {
            ns.push(r.segments);
        }
    }
    ns.sort_unstable();
    let mut headers: Vec<String> = [
        "process",
        "t_min",
        "t_max",
        "Lambda",
        "int mu",
        "violations",
    ]
    .iter()
    .map(|h| h.to_string())
    .collect();
    for n in &ns {
        for g in &grids {
            headers.push(format!("{g} N={n}"));
        }
    }
    let hdr: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = Table::new(&hdr);
    for e in &s.entries {
        let label = e.process.name.clone();
        let mut row = vec![
            label.clone(),
            sig(e.t_min, digits),
            sig(e.t_max, digits),
            sig(e.lambda_total, digits),
            sig(e.mu_total, digits),
            (e.lipschitz.violations + e.stability.violations).to_string(),
        ];
        let suffix = format!("@{label}");
        for n in &ns {
            for g in &grids {
                let v: Vec<f64> = s
                    .distill_rows
                    .iter()
                    .filter(|r| r.mixture.ends_with(&suffix) && r.grid == *g && r.segments == *n)
                    .map(|r| r.rel_mse)
                    .collect();
                row.push(if v.is_empty() {
                    "-".into()
                } else {
                    sig(v.iter().sum::<f64>() / v.len() as f64, digits)
                });
            }
        }
        t.push(row);
    }
    t
}
