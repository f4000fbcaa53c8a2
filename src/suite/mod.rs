//! The built-in suite as a library: what `flowcert check` and `flowcert reproduce` run.
//!
//! Plans are data, sections are functions over plans:
//!
//! ```text
//! scale.rs        Scale: tiny | quick | full
//! plan.rs         Plan::at(scale): the configuration of every section at that scale (one
//!                 place for every literal: times, grids, budgets, eps, seeds, mixtures)
//! bounds.rs       L(t) vs empirical suprema, stability on a grid     theory/02, theory/03
//! composition.rs  perturbed students on each grid kind               theory/04
//! mismatch.rs     the Lipschitz-mismatch regime experiment           theory/05
//! budget.rs       the distillation cells at several student budgets  theory/04
//! score_net.rs    the ReLU-ReQU eps sweep, dependence, DSM            theory/06
//! checks.rs       CHECKS: what `flowcert check` runs on every built-in mixture, the same
//!                 per-case functions at the plan's configuration, summarised as Outcomes
//! reproduce.rs    every section at one plan (and the distillation sweep of
//!                 experiments::distill) -> Summary, the contents of summary.json;
//!                 shards and merges
//! record.rs       run.json: what a run computed or read back, seconds, its kind/scale/shard
//! timing.rs       the measured run times quoted in README and --help, in one place
//! ```
//! Each section offers `run(case, plan)` for one [`Case`] (a named mixture, a built-in or
//! your own) and `section(plan, progress)` for the plan's mixtures. Nothing here formats
//! or writes files: [`crate::report`] turns a [`Summary`] into tables, plots and
//! summary.json; the binary wires the two.
//!
//! ```no_run
//! use flowcert::suite::{Plan, Scale, Silent, reproduce::run};
//! use flowcert::experiments::{CellStore, Shard};
//! let plan = Plan::at(Scale::Quick);
//! let store = CellStore::open(std::path::Path::new("reproduce-out")).unwrap();
//! let summary = run(&plan, &store, Shard::ALL, &Silent).unwrap().summary.unwrap();
//! let formats = flowcert::report::plot::Formats::default();
//! flowcert::report::reproduce::write(std::path::Path::new("reproduce-out"), &summary, &formats).unwrap();
//! ```

use thiserror::Error;

use crate::model::Mixture;
use crate::model::builtin::Builtin;

pub mod bounds;
pub mod budget;
pub mod checks;
pub mod composition;
pub mod mismatch;
pub mod on_path;
pub mod oracle;
pub mod paths;
pub mod plan;
pub mod record;
pub mod reproduce;
pub mod scale;
pub mod score_net;
pub mod timing;

pub use crate::experiments::sweep::{Progress, Silent};
pub use checks::{CHECKS, Check, CheckSummary, Outcome, run_checks};
pub use plan::Plan;
pub use reproduce::Summary;
pub use scale::Scale;

/// A named mixture that a checker runs on.
#[derive(Debug, Clone)]
pub struct Case {
    /// The name in reports.
    pub name: String,
    /// The mixture.
    pub mixture: Mixture,
}

impl From<Builtin> for Case {
    fn from(b: Builtin) -> Case {
        Case {
            name: b.name().to_string(),
            mixture: b.mixture(),
        }
    }
}

/// What failed in a section of the suite (each variant keeps its source).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SuiteError {
    /// The L(t) comparison failed.
    #[error("the Lipschitz checker failed")]
    Lipschitz(#[from] crate::theorems::lipschitz::LipschitzCheckError),
    /// The stability checker failed.
    #[error("the stability checker failed")]
    Stability(#[from] crate::theorems::stability::StabilityError),
    /// The composition checker failed.
    #[error("the composition checker failed")]
    Composition(#[from] crate::theorems::composition::CompositionError),
    /// The mismatch checker failed.
    #[error("the mismatch checker failed")]
    Mismatch(#[from] crate::theorems::mismatch::MismatchError),
    /// The score-approximation checker failed.
    #[error("the score-approximation checker failed")]
    ScoreNet(#[from] crate::approx::ApproxError),
    /// A grid or its stability coordinate could not be built.
    #[error("a grid could not be built")]
    Grid(#[from] crate::grids::GridError),
    /// The distillation sweep failed.
    #[error("the distillation sweep failed")]
    Distill(#[from] crate::experiments::distill::DistillError),
    /// The result store failed.
    #[error(transparent)]
    Store(#[from] crate::experiments::StoreError),
    /// A merge found no checker sections among the shards' cells.
    #[error(
        "the merged directories hold no checker sections of the {scale} plan: include the directory of shard 0 (it computes them), run with the same version and scale"
    )]
    MissingSections {
        /// The plan's scale.
        scale: Scale,
    },
    /// A time of the plan (an OU time) has no time of the same noise ratio on the chosen
    /// path (theory/07-gaussian-paths.md, Theorem 6): the path's range is cut shorter.
    #[error(
        "the suite's {field} = {ou_time} (OU time, noise ratio sigma/alpha = {ratio:.4}) has no matched time on this path: widen the path's range (e.g. --sigma-max above {ratio:.4} on edm) so that it reaches that noise ratio"
    )]
    OffPath {
        /// The plan field.
        field: String,
        /// Its OU time.
        ou_time: f64,
        /// OU's noise ratio there.
        ratio: f64,
        /// The path's refusal of the matched time.
        source: Box<crate::model::ModelError>,
    },
    /// One check of `flowcert check` failed on one mixture.
    #[error("checker '{check}' failed on mixture '{mixture}'")]
    Check {
        /// The check.
        check: &'static str,
        /// The mixture.
        mixture: String,
        /// What failed.
        source: Box<SuiteError>,
    },
}
