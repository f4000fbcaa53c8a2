//! Time grids of the N-step students: `t_min = t_0 < t_1 < ... < t_N = T`.
//!
//! ```text
//! kind       any grid kind of crate::grids, placed on the mixture: uniform, balanced
//!            (t_i = Lambda^{-1}(i Lambda(T) / N) on the mixture's own two-sided Lambda), ...
//! explicit   grids given by the caller, one per N
//! ```
//! On a balanced grid every segment carries the same stability integral `Lambda(T) / N`
//! (theory/04-composition-and-grids.md), so a composition of N steps each `<= M` can match
//! the teacher once `exp(Lambda(T) / N) <= M`, i.e. `N >= Lambda(T) / ln M`
//! (theory/05-mismatch.md).

use serde::{Deserialize, Serialize};

use super::{MismatchError, invalid};
use crate::grids::GridKind;
use crate::model::Mixture;
use crate::tolerance;

/// Time grid of the N-step students.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SegmentGrid {
    /// A grid kind of [`crate::grids`], placed on the mixture for each N.
    Kind(GridKind),
    /// Grids given explicitly: one per N, each `t_min = t_0 < ... < t_N = T`.
    Explicit {
        /// The grids.
        grids: Vec<Vec<f64>>,
    },
}

impl Default for SegmentGrid {
    /// The uniform grid.
    fn default() -> Self {
        SegmentGrid::Kind(GridKind::Uniform)
    }
}

fn increasing(v: &[f64]) -> bool {
    v.iter().all(|t| t.is_finite()) && v.windows(2).all(|w| w[1] > w[0])
}

impl SegmentGrid {
    /// Explicit grids must each run from `t_min` to `T` (part of
    /// [`super::MismatchConfig::check`]); kinds are checked when placed.
    pub(crate) fn validate(&self, t_min: f64, t_max: f64) -> Result<(), MismatchError> {
        let tol = tolerance::EXACT * t_max.max(1.0);
        if let SegmentGrid::Explicit { grids } = self {
            for g in grids {
                if g.len() < 2
                    || !increasing(g)
                    || (g[0] - t_min).abs() > tol
                    || (g[g.len() - 1] - t_max).abs() > tol
                {
                    return Err(invalid(
                        "grid.grids",
                        format!("{g:?}"),
                        "each grid must increase from t_min to T",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The grid `t_0 = t_min < ... < t_N = T` for `n` segments on `mix`.
    ///
    /// ```
    /// use flowcert::grids::GridKind;
    /// use flowcert::theorems::mismatch::SegmentGrid;
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let t = SegmentGrid::Kind(GridKind::Uniform).times(&mix, 4, 0.5, 1.5).unwrap();
    /// assert_eq!(t, vec![0.5, 0.75, 1.0, 1.25, 1.5]);
    /// let b = SegmentGrid::Kind(GridKind::Balanced).times(&mix, 2, 0.05, 2.0).unwrap();
    /// let lam = flowcert::grids::lambda_at(&mix, &b).unwrap();
    /// assert!((lam[1] / lam[2] - 0.5).abs() < 1e-9);
    /// let explicit = SegmentGrid::Explicit { grids: vec![vec![0.5, 1.5]] };
    /// assert!(explicit.times(&mix, 2, 0.5, 1.5).is_err()); // no grid for N = 2
    /// ```
    pub fn times(
        &self,
        mix: &Mixture,
        n: usize,
        t_min: f64,
        t_max: f64,
    ) -> Result<Vec<f64>, MismatchError> {
        if n == 0 {
            return Err(invalid("segments", 0, "use at least 1 segment"));
        }
        match self {
            SegmentGrid::Kind(kind) => Ok(kind.times(mix, t_min, t_max, n)?),
            SegmentGrid::Explicit { grids } => {
                let mut out = grids
                    .iter()
                    .find(|g| g.len() == n + 1)
                    .cloned()
                    .ok_or_else(|| {
                        invalid("segments", n, "give an explicit grid for every N tested")
                    })?;
                out[0] = t_min;
                out[n] = t_max;
                if !increasing(&out) {
                    return Err(invalid(
                        "grid",
                        format!("{out:?}"),
                        "each grid must increase from t_min to T",
                    ));
                }
                Ok(out)
            }
        }
    }
}
