//! Newton's reciprocal as a network (theory/06-score-approximation.md): `1/a` for `a` in a known
//! range, with a proven relative error from the iteration count.

use serde::Serialize;

use super::blocks::{product_nonneg, square, square_nonneg};
use super::builder::{Builder, Lin};

/// Reciprocal of `a in [lo, hi]` (`lo > 0`) by Newton's iteration in Goldschmidt form.
///
/// ```text
/// y0 = c1 - c2 a          (minimax linear start: c2 = 1/(lo hi + (hi-lo)^2/8), c1 = c2 (lo+hi))
/// e0 = 1 - a y0,  |e0| <= E = (hi-lo)^2 / (8 lo hi + (hi-lo)^2)   (equioscillation at lo, mid, hi)
/// y_{i+1} = y_i (1 + e_i),  e_{i+1} = e_i^2     =>  y_N = (1 - e0^{2^N}) / a
/// ```
/// so the relative error is `|e0|^{2^N} <= E^{2^N}` (Newton's `y <- y(2 - a y)` has the same
/// iterates; this form takes one layer per step because `y` and `e` update in parallel).
/// Depth: 1 (for `a^2`) + N. Rounding: the products are scaled to `1/lo`, so the relative
/// rounding error is about `N (hi/lo) eps_mach`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RecipPlan {
    /// Lower end of the argument range.
    pub lo: f64,
    /// Upper end of the argument range.
    pub hi: f64,
    /// Start coefficient `c1`.
    pub c1: f64,
    /// Start coefficient `c2`.
    pub c2: f64,
    /// `E = sup |e0|`.
    pub start_error: f64,
    /// Number of steps N.
    pub steps: usize,
    /// Proven relative error `E^{2^N}`.
    pub rel_bound: f64,
}

impl RecipPlan {
    /// The fewest steps with relative error `<= rel_target` on `[lo, hi]` (`0 < lo <= hi`).
    ///
    /// ```
    /// let p = flowcert::approx::RecipPlan::new(0.03, 1.0, 1e-12);
    /// assert!(p.rel_bound <= 1e-12 && p.steps == 7);
    /// ```
    pub fn new(lo: f64, hi: f64, rel_target: f64) -> Self {
        let w = hi - lo;
        let c2 = 1.0 / (lo * hi + w * w / 8.0);
        let c1 = c2 * (lo + hi);
        let e = w * w / (8.0 * lo * hi + w * w);
        let mut steps = 0;
        let mut rel = e;
        while rel > rel_target && steps < 64 {
            steps += 1;
            rel = rel * rel;
        }
        RecipPlan {
            lo,
            hi,
            c1,
            c2,
            start_error: e,
            steps,
            rel_bound: rel,
        }
    }

    /// Layers added above the argument.
    ///
    /// ```
    /// assert_eq!(flowcert::approx::RecipPlan::new(1.0, 1.0, 1e-9).depth(), 0);
    /// ```
    pub fn depth(&self) -> usize {
        if self.lo == self.hi {
            0
        } else {
            1 + self.steps
        }
    }

    /// The network `a -> 1/a` on top of the expression `a` (which must lie in `[lo, hi]`).
    ///
    /// ```
    /// use flowcert::approx::{Builder, RecipPlan};
    /// let plan = RecipPlan::new(0.5, 4.0, 1e-13);
    /// let mut b = Builder::new(1);
    /// let a = b.input(0);
    /// let r = plan.build(&mut b, &a);
    /// let net = b.finish(&[r]);
    /// assert!((net.eval(&[0.7])[0] - 1.0 / 0.7).abs() < 1e-12);
    /// ```
    pub fn build(&self, b: &mut Builder, a: &Lin) -> Lin {
        if self.lo == self.hi {
            return Lin::constant(1.0 / self.lo);
        }
        // a >= lo > 0, so the one-neuron square is exact.
        let a2 = square_nonneg(b, a, self.hi);
        let y0 = (a * (-self.c2)) + self.c1;
        let e0 = (a * (-self.c1)).axpy(self.c2, &a2) + 1.0;
        let mut y = y0;
        let mut e = e0;
        let mut e_bound = self.start_error;
        let mut y_bound = (1.0 + self.start_error) / self.lo;
        for i in 0..self.steps {
            // y_i = (1 - e0^{2^i})/a > 0 and 1 + e_i >= 1 - E > 0: non-negative product.
            let one_plus_e = e.clone() + 1.0;
            let y_next = product_nonneg(b, &y, y_bound, &one_plus_e, 1.0 + e_bound);
            if i + 1 < self.steps {
                e = if i == 0 {
                    square(b, &e, e_bound)
                } else {
                    // e_i = e0^{2^i} >= 0 for i >= 1
                    square_nonneg(b, &e, e_bound)
                };
                e_bound *= e_bound;
            }
            y = y_next;
            y_bound = 1.0 / self.lo;
        }
        y
    }
}
