//! The main job, `flowcert reproduce`: every section of a [`Plan`] and its distillation
//! sweep on the built-in suite, collected in a [`Summary`] (the contents of summary.json;
//! [`crate::report::reproduce::write`] turns it into tables and plots). The sweep is
//! resumable and shardable through the [`CellStore`]; everything is deterministic, and the
//! summary holds no timings or paths, so two runs give byte-identical summary.json.

use serde::Serialize;

use super::bounds::{self, BoundsEntry};
use super::composition::{self, CompositionEntry};
use super::mismatch::{self, RegimeResults};
use super::paths::{self, PathsSection};
use super::score_net::{self, ScoreNetSection};
use super::{Plan, Progress, Scale, SuiteError};
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
}

/// Run every section of `plan` (the distillation cells of this `shard`, resuming from and
/// recording in `store`).
pub fn run(
    plan: &Plan,
    store: &CellStore,
    shard: Shard,
    progress: &dyn Progress,
) -> Result<Summary, SuiteError> {
    let (bounds, v_bounds) = bounds::section(&plan.bounds, progress)?;
    let score_net = score_net::section(&plan.score_net, progress)?;
    let (mismatch, v_mismatch) = mismatch::section(&plan.mismatch, progress)?;
    let (composition, v_composition) = composition::section(&plan.composition, progress)?;
    let sweep = plan
        .distill
        .clone()
        .check()?
        .sweep(store, shard, progress)?;
    let distill = summarize_rows(&sweep.rows);
    let (paths, v_paths) = paths::section(&plan.paths, store, shard, progress)?;
    Ok(Summary {
        version: env!("CARGO_PKG_VERSION").to_string(),
        scale: plan.scale,
        violations: v_bounds
            + score_net.violations
            + v_mismatch
            + v_composition
            + distill.violations
            + v_paths,
        bounds,
        score_net,
        mismatch,
        composition,
        distill_rows: sweep.rows,
        distill,
        distill_missing: sweep.missing + paths.distill_missing,
        paths,
    })
}
