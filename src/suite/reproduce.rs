//! The main job, `flowcert reproduce`: every section of a [`Plan`] and its distillation
//! sweep on the built-in suite, collected in a [`Summary`] (the contents of summary.json;
//! [`crate::report::reproduce::write`] turns it into tables and figures). Everything is
//! deterministic, and the summary holds no timings or paths, so two runs give
//! byte-identical summary.json; what varies (seconds, what was computed) goes to the run's
//! [`RunRecord`].
//!
//! Sharding and merging:
//!
//! ```text
//! reproduce --shard 0/n   the checker sections (bounds, score-net, mismatch, composition),
//!                         the paths and oracle sections whole,
//!                         and distillation cells j with j % n = 0; sections are kept in
//!                         the cell store as one cell, so a rerun or a merge reads them back;
//!                         likewise the process axis and the budget sweep, run whole
//! reproduce --shard i/n   (i > 0) distillation cells j % n = i only: no summary, no report
//! merge (run_merge)       reads the sections and every cell from the store, computes
//!                         nothing; fails if shard 0's sections are not there
//! ```

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::bounds::{self, BoundsEntry};
use super::budget::{self, BudgetSection};
use super::composition::{self, CompositionEntry};
use super::mismatch::{self, RegimeResults};
use super::oracle::{self, OracleSection};
use super::paths::{self, PathsSection};
use super::record::{RunKind, RunRecord, Source};
use super::score_net::{self, ScoreNetSection};
use super::{Case, Plan, Progress, Scale, SuiteError};
use crate::experiments::distill::DistillRow;
use crate::experiments::distill_summary::{DistillSummary, summarize_rows};
use crate::experiments::{CellStore, Shard};

/// The contents of summary.json.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// flowcert version.
    pub version: String,
    /// The run's size.
    pub scale: Scale,
    /// Violations found by any checker (a theorem failed: a bug, or a wrong bound).
    pub violations: usize,
    /// L(t) bounds and flow-map stability per mixture.
    pub bounds: Vec<BoundsEntry>,
    /// The ReLU-ReQU score-approximation section.
    pub score_net: ScoreNetSection,
    /// The Lipschitz-mismatch regime experiment.
    pub mismatch: RegimeResults,
    /// Composition checker results.
    pub composition: Vec<CompositionEntry>,
    /// Distillation: every finished cell.
    pub distill_rows: Vec<DistillRow>,
    /// Distillation: the aggregate.
    pub distill: DistillSummary,
    /// Cells of the sweep that are not finished (other shards).
    pub distill_missing: usize,
    /// The process axis (theory/07-gaussian-paths.md).
    pub paths: PathsSection,
    /// The student-budget sweep (theory/04-composition-and-grids.md, "Budget sweep").
    pub budget: BudgetSection,
    /// The oracle and fitted grids (theory/04, "Oracle and fitted grids").
    pub oracle: OracleSection,
}

/// The checker sections of a plan: everything but the distillation sweep. Kept in the
/// cell store (one cell) by the run that computes them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sections {
    /// L(t) bounds and stability.
    pub bounds: Vec<BoundsEntry>,
    /// The score-approximation section.
    pub score_net: ScoreNetSection,
    /// The mismatch regime.
    pub mismatch: RegimeResults,
    /// The composition checker.
    pub composition: Vec<CompositionEntry>,
    /// Violations over the four.
    pub violations: usize,
}

/// The names of the stages of a run, in order (for "stage k of n").
pub const STAGES: [&str; 8] = [
    "bounds",
    "score-net",
    "mismatch",
    "composition",
    "distill",
    "paths",
    "budget",
    "oracle",
];

/// The store key of a plan's sections: the version, the scale and a hash of the sections'
/// configuration.
fn sections_key(plan: &Plan) -> String {
    let config = format!(
        "{}|{:?}|{:?}|{:?}|{:?}",
        env!("CARGO_PKG_VERSION"),
        plan.bounds,
        plan.score_net,
        plan.mismatch,
        plan.composition
    );
    format!(
        "sections/{}/{:016x}",
        plan.scale,
        crate::seed::fnv1a(config.as_bytes())
    )
}

/// The store key of a plan's process-axis section (computed whole by shard 0).
fn paths_key(plan: &Plan) -> String {
    let config = format!("{}|{:?}", env!("CARGO_PKG_VERSION"), plan.paths);
    format!(
        "paths/{}/{:016x}",
        plan.scale,
        crate::seed::fnv1a(config.as_bytes())
    )
}

/// A section that shard 0 computes whole: from the store under `key`, or computed and
/// stored, so that `merge` computes nothing; recorded in `record` as `name`.
fn owned<T: Serialize + serde::de::DeserializeOwned>(
    store: &CellStore,
    key: &str,
    name: &str,
    record: &mut RunRecord,
    compute: impl FnOnce() -> Result<T, SuiteError>,
) -> Result<T, SuiteError> {
    let t = Instant::now();
    if let Some(v) = store.read::<T>(key)? {
        record.section(name, Source::Stored, t);
        return Ok(v);
    }
    let v = compute()?;
    store.put(key, &v)?;
    record.section(name, Source::Computed, t);
    Ok(v)
}

/// The process-axis section of shard 0 (its distillation cells included: it is small).
fn owned_paths(
    plan: &Plan,
    store: &CellStore,
    progress: &dyn Progress,
    record: &mut RunRecord,
) -> Result<(PathsSection, usize), SuiteError> {
    owned(store, &paths_key(plan), "paths", record, || {
        paths::section(&plan.paths, store, Shard::ALL, progress)
    })
}

// ---- The oracle-and-fitted-grids section (suite::oracle): shard 0 runs it whole. ----

/// The store key of a plan's oracle section.
fn oracle_key(plan: &Plan) -> String {
    let config = format!(
        "{}|{:?}|{:?}",
        env!("CARGO_PKG_VERSION"),
        plan.oracle,
        plan.distill.budget
    );
    format!(
        "oracle/{}/{:016x}",
        plan.scale,
        crate::seed::fnv1a(config.as_bytes())
    )
}

/// The oracle section of shard 0.
fn owned_oracle(
    plan: &Plan,
    store: &CellStore,
    progress: &dyn Progress,
    record: &mut RunRecord,
) -> Result<(OracleSection, usize), SuiteError> {
    owned(store, &oracle_key(plan), "oracle", record, || {
        oracle::section(&plan.oracle, store, progress)
    })
}

/// The store key of a plan's budget sweep (computed whole by shard 0).
fn budget_key(plan: &Plan) -> String {
    let config = format!(
        "{}|{:?}|{:?}",
        env!("CARGO_PKG_VERSION"),
        plan.budget_size,
        plan.budget
    );
    format!(
        "budget/{}/{:016x}",
        plan.scale,
        crate::seed::fnv1a(config.as_bytes())
    )
}

/// The budget sweep of shard 0: from the store, or computed whole and stored (as
/// [`owned_paths`]).
fn owned_budget(
    plan: &Plan,
    store: &CellStore,
    progress: &dyn Progress,
    record: &mut RunRecord,
) -> Result<(BudgetSection, usize), SuiteError> {
    let t = Instant::now();
    if let Some(b) = store.read::<(BudgetSection, usize)>(&budget_key(plan))? {
        record.section("budget", Source::Stored, t);
        return Ok(b);
    }
    let b = budget::section(&plan.budget, plan.budget_size, store, progress)?;
    store.put(&budget_key(plan), &b)?;
    record.section("budget", Source::Computed, t);
    Ok(b)
}

/// Compute the four checker sections, recording each in `record`.
fn compute_sections(
    plan: &Plan,
    progress: &dyn Progress,
    record: &mut RunRecord,
) -> Result<Sections, SuiteError> {
    let t = Instant::now();
    let (bounds, v_bounds) = bounds::section(&plan.bounds, progress)?;
    record.section("bounds", Source::Computed, t);
    let t = Instant::now();
    let score_net = score_net::section(&plan.score_net, progress)?;
    record.section("score-net", Source::Computed, t);
    let t = Instant::now();
    let (mismatch, v_mismatch) = mismatch::section(&plan.mismatch, progress)?;
    record.section("mismatch", Source::Computed, t);
    let t = Instant::now();
    let (composition, v_composition) = composition::section(&plan.composition, progress)?;
    record.section("composition", Source::Computed, t);
    Ok(Sections {
        violations: v_bounds + score_net.violations + v_mismatch + v_composition,
        bounds,
        score_net,
        mismatch,
        composition,
    })
}

/// The sections from the store, with their Lambda(t) curves recomputed (quadrature; they
/// are not stored).
fn stored_sections(
    plan: &Plan,
    store: &CellStore,
    record: &mut RunRecord,
) -> Result<Option<Sections>, SuiteError> {
    let t = Instant::now();
    let Some(mut s) = store.read::<Sections>(&sections_key(plan))? else {
        return Ok(None);
    };
    let (t0, t1) = plan.bounds.lambda_interval;
    for e in &mut s.bounds {
        if let Some(&b) = plan.bounds.mixtures.iter().find(|b| b.name() == e.mixture) {
            e.lambda_curves =
                bounds::lambda_curves(&Case::from(b).mixture, t0, t1, plan.bounds.lambda_points)
                    .map_err(crate::theorems::lipschitz::LipschitzCheckError::from)?;
        }
    }
    for name in &STAGES[..4] {
        record.section(name, Source::Stored, t);
    }
    Ok(Some(s))
}

fn summary(
    plan: &Plan,
    s: Sections,
    rows: Vec<DistillRow>,
    missing: usize,
    (paths, v_paths): (PathsSection, usize),
    (budget, v_budget): (BudgetSection, usize),
    (oracle, v_oracle): (OracleSection, usize),
) -> Summary {
    let distill = summarize_rows(&rows);
    Summary {
        version: env!("CARGO_PKG_VERSION").to_string(),
        scale: plan.scale,
        violations: s.violations + distill.violations + v_paths + v_budget + v_oracle,
        bounds: s.bounds,
        score_net: s.score_net,
        mismatch: s.mismatch,
        composition: s.composition,
        distill_rows: rows,
        distill,
        distill_missing: missing + paths.distill_missing + budget.summary.missing,
        paths,
        budget,
        oracle,
    }
}

/// What a run produced: the summary (none for a shard `i/n` with `i > 0`, which only
/// computes distillation cells) and the record of what it did.
#[derive(Debug, Clone)]
pub struct Reproduced {
    /// The summary, when this run holds the checker sections.
    pub summary: Option<Summary>,
    /// What ran, where results came from, seconds.
    pub record: RunRecord,
}

/// Run every section of `plan` that `shard` owns (module doc), resuming from and recording
/// in `store`.
///
/// ```no_run
/// use flowcert::experiments::{CellStore, Shard};
/// use flowcert::suite::{Plan, Scale, Silent, reproduce::run};
/// let store = CellStore::open(std::path::Path::new("out")).unwrap();
/// let r = run(&Plan::at(Scale::Tiny), &store, Shard::ALL, &Silent).unwrap();
/// assert_eq!(r.summary.unwrap().distill_missing, 0);
/// ```
pub fn run(
    plan: &Plan,
    store: &CellStore,
    shard: Shard,
    progress: &dyn Progress,
) -> Result<Reproduced, SuiteError> {
    let start = Instant::now();
    let mut record = RunRecord::new(RunKind::Reproduce, Some(plan.scale), shard);
    let owner = shard.index == 0;
    progress.stages(if owner { &STAGES } else { &STAGES[4..5] });
    let sections = if owner {
        let s = match stored_sections(plan, store, &mut record)? {
            Some(s) => s,
            None => {
                let s = compute_sections(plan, progress, &mut record)?;
                store.put(&sections_key(plan), &s)?;
                s
            }
        };
        Some(s)
    } else {
        let now = Instant::now();
        for name in &STAGES[..4] {
            record.section(name, Source::Skipped, now);
        }
        None
    };
    let t = Instant::now();
    let sweep = plan
        .distill
        .clone()
        .check()?
        .sweep(store, shard, progress)?;
    record.section("distill", Source::Computed, t);
    // The process axis: shard 0 runs it whole (module doc of suite::paths).
    let paths = if owner {
        Some(owned_paths(plan, store, progress, &mut record)?)
    } else {
        record.section("paths", Source::Skipped, Instant::now());
        None
    };
    // The budget sweep: shard 0 runs it whole, after the main sweep (whose cells at the
    // same budget it reads back).
    let budget = if owner {
        Some(owned_budget(plan, store, progress, &mut record)?)
    } else {
        record.section("budget", Source::Skipped, Instant::now());
        None
    };
    let oracle = if owner {
        Some(owned_oracle(plan, store, progress, &mut record)?)
    } else {
        record.section("oracle", Source::Skipped, Instant::now());
        None
    };
    record.distill_cells = sweep.rows.len();
    record.distill_missing = sweep.missing;
    record.seconds = start.elapsed().as_secs_f64();
    Ok(Reproduced {
        summary: sections
            .zip(paths)
            .zip(budget)
            .zip(oracle)
            .map(|(((s, p), b), o)| summary(plan, s, sweep.rows, sweep.missing, p, b, o)),
        record,
    })
}

/// Merge: the summary from what `store` holds (the shards' cells copied together),
/// computing nothing: the checker sections as shard 0 stored them, and every finished
/// distillation cell.
///
/// Fails with [`SuiteError::MissingSections`] when shard 0's sections are not in the store.
pub fn run_merge(
    plan: &Plan,
    store: &CellStore,
    progress: &dyn Progress,
) -> Result<Reproduced, SuiteError> {
    let start = Instant::now();
    let mut record = RunRecord::new(RunKind::Reproduce, Some(plan.scale), Shard::NONE);
    record.merged = true;
    progress.stages(&STAGES[4..]);
    let sections = stored_sections(plan, store, &mut record)?
        .ok_or(SuiteError::MissingSections { scale: plan.scale })?;
    let t = Instant::now();
    let sweep = plan
        .distill
        .clone()
        .check()?
        .sweep(store, Shard::NONE, progress)?;
    record.section("distill", Source::Stored, t);
    // The process axis, as shard 0 stored it.
    let t = Instant::now();
    let paths = store
        .read::<(PathsSection, usize)>(&paths_key(plan))?
        .ok_or(SuiteError::MissingSections { scale: plan.scale })?;
    record.section("paths", Source::Stored, t);
    let t = Instant::now();
    let budget = store
        .read::<(BudgetSection, usize)>(&budget_key(plan))?
        .ok_or(SuiteError::MissingSections { scale: plan.scale })?;
    record.section("budget", Source::Stored, t);
    let t = Instant::now();
    let oracle = store
        .read::<(OracleSection, usize)>(&oracle_key(plan))?
        .ok_or(SuiteError::MissingSections { scale: plan.scale })?;
    record.section("oracle", Source::Stored, t);
    record.distill_cells = sweep.rows.len();
    record.distill_missing = sweep.missing;
    record.seconds = start.elapsed().as_secs_f64();
    Ok(Reproduced {
        summary: Some(summary(
            plan,
            sections,
            sweep.rows,
            sweep.missing,
            paths,
            budget,
            oracle,
        )),
        record,
    })
}
