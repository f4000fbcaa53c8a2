//! Checker for the Lipschitz-mismatch theorem (theory/05-mismatch.md):
//! when one-step distillation must fail.
//!
//! Let `Phi = Phi_{T->t_min}` be the exact one-step flow map and `Psi` any map with
//! `Lip(Psi) <= M`. For every pair `x, y` (triangle inequality),
//!
//! ```text
//! max(|Psi(x) - Phi(x)|, |Psi(y) - Phi(y)|) >= (|Phi(x) - Phi(y)| - M |x - y|) / 2
//! sup-error >= E_M := sup_{x,y} (|Phi(x) - Phi(y)| - M |x - y|)_+ / 2
//! ```
//! and, for a map `R` that preserves `p_T` (a reflection symmetry of the mixture),
//!
//! ```text
//! E_{p_T} |Psi - Phi|^p >= E_x[ (|Phi(x) - Phi(Rx)| - M |x - Rx|)_+^p ] / 2^p .
//! ```
//! Points that straddle the boundary between modes at time `T` are close but land in
//! different modes, so one step needs `Lip(Psi)` of order `exp(Lambda(T))`; a composition
//! of `N` maps each `<= M` reaches `M^N`, and `N ~ Lambda(T) / ln M` removes the obstruction.
//!
//! ```text
//! pairs.rs      PairSet: tested pairs (x, y, Phi(x), Phi(y)); E_M and the L^p bound
//! search.rs     the search for pairs that straddle mode boundaries (bisection)
//! symmetry.rs   Reflection: detection of a p_T-preserving reflection, p_T(Rx) = p_T(x)
//! grid.rs       SegmentGrid: time grids of the N-step students (a grid kind, or explicit)
//! students.rs   Lipschitz-budgeted students: one-step and N-step compositions,
//!               each step certified <= M
//! report.rs     measure_mismatch (the CLI contract's JSON) and the checks
//! regime.rs     the regime experiment and its table
//! ```
//! `Lambda(T)` is passed in by the caller (the two-sided stability integral of brief
//! section 3); the checker only uses it for the predicted depth `Lambda(T) / ln M`.

use serde::{Deserialize, Serialize};

use crate::dynamics::{FlowError, Teacher};
use crate::flowmap::MapError;
use crate::model::ModelError;
use crate::nn::{Activation, LrSchedule, NnError, Precision, StudentBudget, ValidStudentBudget};

pub mod grid;
pub mod measure;
pub mod pairs;
pub mod regime;
pub mod search;
pub mod students;
pub mod symmetry;

pub use grid::SegmentGrid;
pub use measure::{DepthRow, MismatchReport, MismatchRow, measure_mismatch};
pub use pairs::{PairKind, PairSet, lp_lower_bound};
pub use regime::{REGIME_BUDGETS, REGIME_SIGMA0, RegimeCase, regime_experiment};
pub use search::{PairSearch, search_pairs};
pub use students::{BudgetedStudent, TeacherData};
pub use symmetry::{Reflection, SymmetryInfo};

/// Why the mismatch checker could not run. Each message names the setting and the fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MismatchError {
    /// A setting is out of its allowed range.
    #[error("{field} = {value} is invalid: {fix}")]
    InvalidParameter {
        /// Name of the setting, as spelled in the config (or the CLI flag).
        field: &'static str,
        /// The rejected value.
        value: String,
        /// What an acceptable value looks like.
        fix: &'static str,
    },
    /// The teacher flow failed.
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// A query against the mixture failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Building or training a student failed.
    #[error(transparent)]
    Nn(#[from] NnError),
    /// A grid kind could not be placed.
    #[error(transparent)]
    Grid(#[from] crate::grids::GridError),
    /// A map (the teacher or a student) could not be evaluated.
    #[error(transparent)]
    Map(#[from] MapError),
}

pub(crate) fn invalid(
    field: &'static str,
    value: impl ToString,
    fix: &'static str,
) -> MismatchError {
    MismatchError::InvalidParameter {
        field,
        value: value.to_string(),
        fix,
    }
}

/// Raw settings of the mismatch checker; validate with [`MismatchConfig::check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MismatchConfig {
    /// End time `t_min > 0` of sampling.
    pub t_min: f64,
    /// Start time `T > t_min` of sampling.
    pub t_max: f64,
    /// The teacher flow's solver.
    pub teacher: Teacher,
    /// Seed of every random draw.
    pub seed: u64,
    /// How the pairs of the sup-norm bound are searched.
    pub search: PairSearch,
    /// Samples `x ~ p_T` on which the L^2 error and the L^p bound are measured.
    pub eval_samples: usize,
    /// The students' capacity and training budget.
    pub student: StudentBudget,
    /// Time grid of the N-step students.
    pub grid: SegmentGrid,
    /// "Measured N" of a budget is the smallest tested N whose `error_l2` is within this
    /// factor of the lowest `error_l2` the budget reaches over the tested N: the plateau
    /// where training error, no longer the Lipschitz obstruction, dominates.
    pub saturation_factor: f64,
    /// A deliberately wrong checker ([`Mutation`]) for the tests that show it can fail;
    /// `None` (always, outside those tests) is the real one.
    #[doc(hidden)]
    #[serde(skip)]
    pub mutation: Option<Mutation>,
}

/// Deliberately wrong versions of the checker, kept so that the tests show it can fail
/// (theory/05-mismatch.md, "How we know the tests can fail"): never use them for a real
/// check.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mutation {
    /// The bracket without its halving, `|Phi(x) - Phi(y)| - M |x - y|` (both bounds twice
    /// what the triangle inequality gives).
    WholeBracket,
}

impl MismatchConfig {
    /// A preset that runs in a few seconds (release) on 2-D two-mode mixtures.
    ///
    /// ```
    /// let cfg = flowcert::theorems::mismatch::MismatchConfig::quick();
    /// assert!(cfg.check().is_ok());
    /// ```
    pub fn quick() -> Self {
        MismatchConfig {
            search: PairSearch {
                search_samples: 256,
                boundary_points: 4,
                h_count: 16,
                random_pairs: 64,
                ..PairSearch::default()
            },
            eval_samples: 512,
            student: StudentBudget {
                width: 32,
                depth: 2,
                steps: 600,
                batch: 64,
                samples: 512,
                ..student()
            },
            ..MismatchConfig::default()
        }
    }

    /// Validate every setting.
    ///
    /// ```
    /// use flowcert::theorems::mismatch::MismatchConfig;
    /// let bad = MismatchConfig { t_min: 0.0, ..MismatchConfig::quick() };
    /// assert!(bad.check().unwrap_err().to_string().contains("t_min"));
    /// ```
    pub fn check(&self) -> Result<ValidMismatchConfig, MismatchError> {
        if !(self.t_min.is_finite() && self.t_min > 0.0) {
            return Err(invalid(
                "t_min",
                self.t_min,
                "use a finite time > 0, e.g. 0.05",
            ));
        }
        if !(self.t_max.is_finite() && self.t_max > self.t_min) {
            return Err(invalid(
                "t_max",
                self.t_max,
                "use a finite time T > t_min, e.g. 2.0",
            ));
        }
        self.search.validate()?;
        if self.eval_samples < 2 {
            return Err(invalid(
                "eval_samples",
                self.eval_samples,
                "use at least 2 samples",
            ));
        }
        let student = self.student.check()?;
        self.grid.validate(self.t_min, self.t_max)?;
        if !(self.saturation_factor.is_finite() && self.saturation_factor >= 1.0) {
            return Err(invalid(
                "saturation_factor",
                self.saturation_factor,
                "use a finite factor >= 1, e.g. 2",
            ));
        }
        Ok(ValidMismatchConfig {
            cfg: self.clone(),
            student,
        })
    }
}

impl Default for MismatchConfig {
    /// The thorough preset: `t_min = 0.05`, `T = 2`, the [`Teacher::PRECISE`] flow,
    /// 16 boundary points, 2048 evaluation samples, 64-wide students trained 2000 steps.
    fn default() -> Self {
        MismatchConfig {
            t_min: 0.05,
            t_max: 2.0,
            teacher: Teacher::PRECISE,
            seed: 0,
            search: PairSearch::default(),
            eval_samples: 2048,
            student: student(),
            grid: SegmentGrid::default(),
            saturation_factor: 2.0,
            mutation: None,
        }
    }
}

/// A [`MismatchConfig`] that passed [`MismatchConfig::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidMismatchConfig {
    cfg: MismatchConfig,
    student: ValidStudentBudget,
}

impl ValidMismatchConfig {
    /// The validated student budget.
    ///
    /// ```
    /// let cfg = flowcert::theorems::mismatch::MismatchConfig::quick().check().unwrap();
    /// assert_eq!(cfg.valid_student().width, 32);
    /// ```
    pub fn valid_student(&self) -> &ValidStudentBudget {
        &self.student
    }
}

impl std::ops::Deref for ValidMismatchConfig {
    type Target = MismatchConfig;
    fn deref(&self) -> &MismatchConfig {
        &self.cfg
    }
}

/// The default activation of students: ReLU, whose Lipschitz factor is exactly 1, so the
/// certificate is the bare product of layer norms.
pub const STUDENT_ACTIVATION: Activation = Activation::Relu;

/// The checker's student: a residual MLP with two hidden layers of 64 ReLU units
/// ([`STUDENT_ACTIVATION`]), 2000 Adam steps of 128 on 4096 teacher pairs, `lr = 2e-3` with
/// cosine decay to 5%, trained in `f64`.
///
/// ```
/// let s = flowcert::theorems::mismatch::student();
/// assert_eq!((s.width, s.steps, s.residual), (64, 2000, true));
/// ```
pub fn student() -> StudentBudget {
    StudentBudget {
        steps: 2000,
        schedule: LrSchedule::Cosine {
            final_fraction: 0.05,
        },
        activation: STUDENT_ACTIVATION,
        // The Lipschitz-projected students train in f64 (the f32 evidence is for the
        // distillation students only).
        precision: Precision::F64,
        ..StudentBudget::default()
    }
}
