//! Time grids of the N-step students: `t_min = t_0 < t_1 < ... < t_N = T`.
//!
//! ```text
//! uniform    t_i = t_min + i (T - t_min) / N
//! balanced   t_i = Lambda^{-1}( Lambda(t_min) + i (Lambda(T) - Lambda(t_min)) / N )    (brief section 5)
//! explicit   grids given by the caller, one per N
//! ```
//! On a balanced grid every segment carries the same stability integral `Lambda(T) / N`,
//! so a composition of N steps each `<= M` can match the teacher once
//! `exp(Lambda(T) / N) <= M`, i.e. `N >= Lambda(T) / ln M`. `Lambda` is tabulated by the
//! caller (the bounds module, or the closed form in the tests).

use serde::{Deserialize, Serialize};

use super::{MismatchError, invalid};
use crate::tolerance;

/// Time grid of the N-step students.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SegmentGrid {
    /// `t_i = t_min + i (T - t_min) / N`.
    Uniform,
    /// Stability-balanced (brief section 5): `t_i = Lambda^{-1}(Lambda(t_min) + i (Lambda(T) -
    /// Lambda(t_min)) / N)`, with `Lambda` tabulated (`times` increasing, covering
    /// `[t_min, T]`, `lambda` non-decreasing) and inverted by linear interpolation.
    Balanced {
        /// Table times.
        times: Vec<f64>,
        /// `Lambda` at the table times (any additive constant).
        lambda: Vec<f64>,
    },
    /// Grids given explicitly: one per N, each `t_min = t_0 < ... < t_N = T`.
    Explicit {
        /// The grids.
        grids: Vec<Vec<f64>>,
    },
}

fn increasing(v: &[f64]) -> bool {
    v.iter().all(|t| t.is_finite()) && v.windows(2).all(|w| w[1] > w[0])
}

impl SegmentGrid {
    /// Validate against `[t_min, T]`.
    ///
    /// ```
    /// use flowcert::theorems::mismatch::SegmentGrid;
    /// let g = SegmentGrid::Balanced { times: vec![0.1, 1.0], lambda: vec![0.0, -1.0] };
    /// assert!(g.check(0.1, 1.0).unwrap_err().to_string().contains("lambda"));
    /// ```
    pub fn check(&self, t_min: f64, t_max: f64) -> Result<(), MismatchError> {
        let tol = tolerance::EXACT * t_max.max(1.0);
        match self {
            SegmentGrid::Uniform => Ok(()),
            SegmentGrid::Balanced { times, lambda } => {
                if times.len() < 2 || times.len() != lambda.len() || !increasing(times) {
                    return Err(invalid(
                        "grid.times",
                        format!("{} entries", times.len()),
                        "give at least 2 increasing finite times, as many as lambda values",
                    ));
                }
                if times[0] > t_min + tol || times[times.len() - 1] < t_max - tol {
                    return Err(invalid(
                        "grid.times",
                        format!("[{}, {}]", times[0], times[times.len() - 1]),
                        "tabulate Lambda on an interval that covers [t_min, T]",
                    ));
                }
                if !lambda.iter().all(|l| l.is_finite()) || lambda.windows(2).any(|w| w[1] < w[0]) {
                    return Err(invalid(
                        "grid.lambda",
                        "a decreasing or non-finite table",
                        "give a non-decreasing Lambda(t)",
                    ));
                }
                if lambda[lambda.len() - 1] <= lambda[0] {
                    return Err(invalid(
                        "grid.lambda",
                        "a constant table",
                        "Lambda must increase on [t_min, T]",
                    ));
                }
                Ok(())
            }
            SegmentGrid::Explicit { grids } => {
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
                Ok(())
            }
        }
    }

    /// The grid `t_0 = t_min < ... < t_N = T` for `n` segments.
    ///
    /// ```
    /// use flowcert::theorems::mismatch::SegmentGrid;
    /// let t = SegmentGrid::Uniform.times(4, 0.0, 1.0).unwrap();
    /// assert_eq!(t, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    /// // Lambda(t) = t^2 on [0, 1]: equal increments at sqrt(i / 2)
    /// let times: Vec<f64> = (0..=1000).map(|i| i as f64 / 1000.0).collect();
    /// let lambda = times.iter().map(|t| t * t).collect();
    /// let b = SegmentGrid::Balanced { times, lambda }.times(2, 0.0, 1.0).unwrap();
    /// assert!((b[1] - 0.5f64.sqrt()).abs() < 1e-3);
    /// ```
    pub fn times(&self, n: usize, t_min: f64, t_max: f64) -> Result<Vec<f64>, MismatchError> {
        if n == 0 {
            return Err(invalid("segments", 0, "use at least 1 segment"));
        }
        let mut out = match self {
            SegmentGrid::Uniform => (0..=n)
                .map(|i| t_min + (t_max - t_min) * i as f64 / n as f64)
                .collect::<Vec<_>>(),
            SegmentGrid::Balanced { times, lambda } => {
                let (l0, l1) = (interp(times, lambda, t_min), interp(times, lambda, t_max));
                (0..=n)
                    .map(|i| interp(lambda, times, l0 + (l1 - l0) * i as f64 / n as f64))
                    .collect()
            }
            SegmentGrid::Explicit { grids } => grids
                .iter()
                .find(|g| g.len() == n + 1)
                .cloned()
                .ok_or_else(|| {
                    invalid("segments", n, "give an explicit grid for every N tested")
                })?,
        };
        out[0] = t_min;
        out[n] = t_max;
        if !increasing(&out) {
            return Err(invalid(
                "grid",
                format!("{out:?}"),
                "the grid collapsed: tabulate Lambda more finely or use fewer segments",
            ));
        }
        Ok(out)
    }
}

/// Piecewise-linear interpolation of `ys(xs)` at `x` (`xs` non-decreasing; first match on
/// flat parts; clamped outside).
fn interp(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    let n = xs.len();
    if x <= xs[0] {
        return ys[0];
    }
    if x >= xs[n - 1] {
        return ys[n - 1];
    }
    let k = xs.partition_point(|v| *v < x).max(1);
    let (a, b) = (xs[k - 1], xs[k]);
    if b == a {
        return ys[k];
    }
    ys[k - 1] + (ys[k] - ys[k - 1]) * (x - a) / (b - a)
}
