//! The regime experiment (theory/05-mismatch.md): for two-mode mixtures of decreasing
//! noise (growing `Lambda(T)`) and budgets `M`, the one-step error against the lower bounds,
//! the best N-step error, and the depth `N` predicted (`Lambda(T) / ln M`), forced by the
//! measured Lipschitz constant (obstruction) and measured on trained students.

use super::measure::{MismatchReport, measure_mismatch};
use super::{MismatchConfig, MismatchError};
use crate::model::Mixture;

/// The `sigma0` of the built-in two-mode mixtures in the regime experiment.
pub const REGIME_SIGMA0: [f64; 3] = [0.05, 0.1, 0.3];
/// The budgets of the regime experiment.
pub const REGIME_BUDGETS: [f64; 4] = [2.0, 4.0, 8.0, 16.0];

/// One mixture of the regime experiment.
#[derive(Debug, Clone)]
pub struct RegimeCase {
    /// Name in the table.
    pub name: String,
    /// The mixture.
    pub mixture: Mixture,
    /// Its `Lambda(T)`.
    pub lambda_t: f64,
}

/// Run [`measure_mismatch`] for every case (cases in order; cells parallel inside).
///
/// ```
/// use flowcert::theorems::mismatch::*;
/// let case = RegimeCase { name: "two-mode-s0.3".into(), mixture: flowcert::model::builtin::two_mode(0.3),
///     lambda_t: 4.88 };
/// let cfg = MismatchConfig {
///     search: PairSearch { search_samples: 32, boundary_points: 1, h_count: 4, random_pairs: 8, ..Default::default() },
///     eval_samples: 32,
///     student: flowcert::nn::StudentBudget { width: 8, depth: 1, steps: 20, batch: 16, samples: 32, ..student() },
///     ..MismatchConfig::quick()
/// };
/// let res = regime_experiment(&[case], &[2.0, 16.0], &[1, 2], &cfg).unwrap();
/// assert_eq!(res[0].1.rows.len(), 4);
/// ```
pub fn regime_experiment(
    cases: &[RegimeCase],
    budgets: &[f64],
    segments: &[usize],
    cfg: &MismatchConfig,
) -> Result<Vec<(String, MismatchReport)>, MismatchError> {
    let valid = cfg.check()?;
    cases
        .iter()
        .map(|c| {
            Ok((
                c.name.clone(),
                measure_mismatch(&c.mixture, c.lambda_t, budgets, segments, &valid)?,
            ))
        })
        .collect()
}
