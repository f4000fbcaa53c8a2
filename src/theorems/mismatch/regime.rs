//! The regime experiment (theory/05-mismatch.md): for two-mode mixtures of decreasing
//! noise (growing `Lambda(T)`) and budgets `M`, the one-step error against the lower bounds,
//! the best N-step error, and the depth `N` predicted (`Lambda(T) / ln M`), forced by the
//! measured Lipschitz constant (obstruction) and measured on trained students.

use super::report::{MismatchReport, MismatchRow, mismatch_rows};
use super::{MismatchConfig, MismatchError, SegmentGrid};
use crate::model::Mixture;
use crate::report::{Table, sig};

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
    /// A grid for this mixture (e.g. balanced on its own `Lambda`); `None`: the config's.
    pub grid: Option<SegmentGrid>,
}

/// Run [`mismatch_rows`] for every case (cases in order; cells parallel inside).
///
/// ```
/// use flowcert::theorems::mismatch::*;
/// let case = RegimeCase { name: "two-mode-s0.3".into(), mixture: flowcert::model::builtin::two_mode(0.3),
///     lambda_t: 4.88, grid: None };
/// let cfg = MismatchConfig {
///     search: PairSearch { search_samples: 32, boundary_points: 1, h_count: 4, random_pairs: 8, ..Default::default() },
///     eval_samples: 32,
///     student: StudentSpec { width: 8, depth: 1, steps: 20, batch: 16, samples: 32, ..Default::default() },
///     ..MismatchConfig::quick()
/// };
/// let res = regime_experiment(&[case], &[2.0, 16.0], &[1, 2], &cfg).unwrap();
/// assert_eq!(regime_table(&res).rows.len(), 2);
/// ```
pub fn regime_experiment(
    cases: &[RegimeCase],
    budgets: &[f64],
    segments: &[usize],
    cfg: &MismatchConfig,
) -> Result<Vec<(String, MismatchReport)>, MismatchError> {
    cases
        .iter()
        .map(|c| {
            let mut raw = cfg.clone();
            if let Some(g) = &c.grid {
                raw.grid = g.clone();
            }
            let valid = raw.check()?;
            Ok((
                c.name.clone(),
                mismatch_rows(&c.mixture, c.lambda_t, budgets, segments, &valid)?,
            ))
        })
        .collect()
}

/// The regime table, one line per (mixture, budget), numbers to 3 significant digits:
/// `Lambda(T)`, `ln M`, the one-step bounds and error, the best N-step error, and the
/// predicted, obstruction and measured depths.
///
/// ```
/// let t = flowcert::theorems::mismatch::regime_table(&[]);
/// assert!(t.headers.iter().any(|h| h == "predicted N"));
/// ```
pub fn regime_table(results: &[(String, MismatchReport)]) -> Table {
    let mut t = Table::new(&[
        "mixture",
        "Lambda(T)",
        "M",
        "ln M",
        "E_M",
        "LB L2",
        "1-step L2",
        "1-step sup",
        "best L2",
        "best N",
        "predicted N",
        "obstruction N",
        "measured N",
    ]);
    for (name, rep) in results {
        for dr in &rep.depth {
            let one = rep
                .rows
                .iter()
                .find(|r| r.budget == dr.budget && r.segments == 1);
            let num = |f: &dyn Fn(&MismatchRow) -> f64| one.map_or("-".into(), |r| sig(f(r), 3));
            t.push(vec![
                name.clone(),
                sig(rep.lambda_t, 3),
                sig(dr.budget, 3),
                sig(dr.budget.ln(), 3),
                num(&|r| r.lower_bound_sup),
                one.and_then(|r| r.lower_bound_lp)
                    .map_or("-".into(), |v| sig(v, 3)),
                num(&|r| r.error_l2),
                num(&|r| r.error_sup),
                sig(dr.best_error_l2, 3),
                dr.best_segments.to_string(),
                sig(dr.predicted_segments, 3),
                dr.obstruction_segments.to_string(),
                dr.measured_segments
                    .map_or(format!(">{}", dr.deepest_above_threshold), |n| {
                        n.to_string()
                    }),
            ]);
        }
    }
    t
}
