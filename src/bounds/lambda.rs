//! The cumulative stability coordinate `Lambda(t) = int_{t_min}^t L(u) du` and its inverse
//! (theory/03-stability.md; the balanced grid of theory/04-composition-and-grids.md).
//!
//! By Gronwall applied to the variational equation, `Lip(Phi_{t->s}) <= exp(Lambda(t) -
//! Lambda(s))` on the region where the bound holds, so `Lambda` measures how much an
//! error made at time `t` can be amplified by the end of sampling.
//!
//! **Coordinates.** For [`Bound::TwoSided`] and [`Bound::Paper`] the coordinate integrates
//! the bound itself. The one-sided `mu(t)` can be negative (the backward flow contracts
//! near a single narrow mode), and a grid needs a strictly increasing coordinate, so for
//! [`Bound::OneSided`] the coordinate integrates
//!
//! ```text
//! rate(t) = max(mu(t), ONE_SIDED_FLOOR),   ONE_SIDED_FLOOR = 1e-3
//! ```
//! The floor is in units of 1/time; the OU drift itself has unit rate, so a contracting
//! stretch is charged 0.1% of the process's own rate and adds at most
//! `1e-3 (t_max - t_min)` to the coordinate. Where `mu >= 1e-3` the coordinate is exactly
//! `int mu`, which is the exponent of the one-sided stability estimate
//! `||DPhi_{t->s}|| <= exp(int_s^t mu)`.
//!
//! **Accuracy.** [`LambdaTable`] keeps the adaptive Gauss-Kronrod partition of
//! `[t_min, t_max]` with the coordinate at every knot (relative tolerance
//! [`tolerance::QUAD_RTOL`]); `Lambda(t)` adds an adaptive integral from the knot below `t`,
//! and `Lambda^{-1}(y)` solves `Lambda(t) = y` in the bracketing panel by Newton's method
//! safeguarded by bisection (the derivative is the rate itself).

use super::BoundsError;
use super::lipschitz::{Bound, Lipschitz};
use super::quadrature::{self, QuadResult};
use crate::model::Mixture;
use crate::tolerance;

/// Floor on the one-sided rate in the one-sided stability coordinate (1/time units).
pub const ONE_SIDED_FLOOR: f64 = 1e-3;

/// The integrand of the stability coordinate of `kind`: the bound itself, except
/// `max(mu, ONE_SIDED_FLOOR)` for [`Bound::OneSided`]. Strictly positive unless `L = 0`.
///
/// ```
/// use flowcert::bounds::{Bound, Lipschitz, lambda::coordinate_rate, ONE_SIDED_FLOOR};
/// // One narrow Gaussian: mu = 1 - 1/s_max < 0 at small t, floored.
/// let mix = flowcert::model::MixtureSpec { weights: vec![1.0], means: vec![vec![0.0]],
///     covariances: vec![vec![vec![0.01]]] }.check().unwrap();
/// let lip = Lipschitz::auto(&mix);
/// assert!(lip.value(Bound::OneSided, 0.1) < 0.0);
/// assert_eq!(coordinate_rate(&lip, Bound::OneSided, 0.1), ONE_SIDED_FLOOR);
/// ```
pub fn coordinate_rate(lip: &Lipschitz, kind: Bound, t: f64) -> f64 {
    let v = lip.value(kind, t);
    match kind {
        Bound::OneSided => v.max(ONE_SIDED_FLOOR),
        _ => v,
    }
}

/// A coordinate below this fraction of `int_{t_min}^{t_max} alpha_u^2 du` is rounding
/// noise around `L = 0` (data `N(0, I)` up to the rounding of its covariance's
/// eigenvalues) and is reported as flat rather than inverted. Every term of the bounds is
/// proportional to `alpha_t^2` at large `t` (`1/s - 1 = alpha^2 (1 - lambda)/s`, `c ~
/// alpha^2`), so the threshold scales with it: a genuine mixture keeps a coordinate many
/// orders above it even on `[20, 50]`, where `L ~ 1e-17`.
pub const FLAT_RATE: f64 = 1e-12;

/// The scale of a flat coordinate on `[t_min, t_max]`: `int h alpha^2 du =
/// (alpha^2(t_min) - alpha^2(t_max)) / 2` on a variance-preserving path (OU:
/// `(e^{-2 t_min} - e^{-2 t_max}) / 2`, formed without cancellation), where `Sigma = I` with
/// equal means gives `L = 0` exactly. On other paths `L` vanishes identically for no
/// mixture (`e(1) = (1/2) d ln(alpha^2 + sigma^2)/dt != 0`), and only an exactly zero
/// coordinate counts as flat.
fn alpha2_mass(mix: &Mixture, t_min: f64, t_max: f64) -> f64 {
    let p = mix.process();
    if p.is_ou() {
        -0.5 * (-2.0 * t_min).exp() * (-2.0 * (t_max - t_min)).exp_m1()
    } else if p.coeffs(t_min).variance_preserving {
        0.5 * (p.coeffs(t_min).alpha2 - p.coeffs(t_max).alpha2)
    } else {
        0.0
    }
}

/// Sample points per starting panel when scanning for kinks.
const KINK_SCAN: usize = 32;

/// Label of the smooth piece of the coordinate rate (see [`Lipschitz::piece`]), with the
/// one-sided floor as one more branch when `floored`.
fn piece(lip: &Lipschitz, kind: Bound, t: f64, floored: bool) -> u64 {
    let label = lip.piece(kind, t) << 1;
    if floored && kind == Bound::OneSided {
        label | (lip.value(kind, t) < ONE_SIDED_FLOOR) as u64
    } else {
        label
    }
}

/// Push every switch of `piece` in `[u, v]` that recursive bisection reaches.
fn locate(piece: &dyn Fn(f64) -> u64, u: f64, pu: u64, v: f64, pv: u64, out: &mut Vec<f64>) {
    let m = 0.5 * (u + v);
    if !(u < m && m < v) {
        out.push(v);
        return;
    }
    let pm = piece(m);
    if pm != pu {
        locate(piece, u, pu, m, pm, out);
    }
    if pm != pv {
        locate(piece, m, pm, v, pv, out);
    }
}

/// Starting panels for `[a, b]`: geometric from `a` (`a, 2a, 4a, ..., b`), since the
/// bounds vary on the scale of `t` itself near small times, plus a break at every kink.
///
/// Gauss-Kronrod error estimates cannot see a kink that falls between the outermost node
/// and the end of a panel (both rules then integrate the same smooth function and agree,
/// while the true error is `O(h^2)`), so the kinks are located first: each starting panel
/// is scanned at [`KINK_SCAN`] points for a change of the piece label, and every change is
/// bisected down to adjacent floating-point numbers. On the resulting panels the rate is
/// analytic and the error estimates are trustworthy.
fn breakpoints(lip: &Lipschitz, kind: Bound, a: f64, b: f64, floored: bool) -> Vec<f64> {
    let mut coarse = vec![a];
    let mut x = 2.0 * a;
    while x < b {
        coarse.push(x);
        x *= 2.0;
    }
    coarse.push(b);
    let label = |t: f64| piece(lip, kind, t, floored);
    let mut breaks = vec![a];
    for w in coarse.windows(2) {
        let (mut u, mut pu) = (w[0], label(w[0]));
        for i in 1..=KINK_SCAN {
            let v = if i == KINK_SCAN {
                w[1]
            } else {
                w[0] + (w[1] - w[0]) * i as f64 / KINK_SCAN as f64
            };
            let pv = label(v);
            if pv != pu {
                locate(&label, u, pu, v, pv, &mut breaks);
            }
            (u, pu) = (v, pv);
        }
        breaks.push(w[1]);
    }
    breaks.sort_by(f64::total_cmp);
    breaks.dedup();
    breaks
}

fn check_interval(mix: &Mixture, t_min: f64, t_max: f64) -> Result<(), BoundsError> {
    mix.check_path_time("t_min", t_min)?;
    mix.check_path_time("t_max", t_max)?;
    if t_min < t_max {
        Ok(())
    } else {
        Err(BoundsError::BadInterval { t_min, t_max })
    }
}

/// `int_a^b bound(u) du` for one kind, unfloored (the one-sided integrand may be
/// negative), to relative tolerance [`tolerance::QUAD_RTOL`] of `int |bound|`. Checked:
/// `0 < a < b`, finite.
///
/// ```
/// use flowcert::bounds::{Bound, IsotropicShared, Lipschitz, lambda::integrate_bound};
/// let mix = flowcert::model::builtin::two_mode(0.1);
/// let lip = Lipschitz::auto(&mix);
/// let iso = IsotropicShared::from_mixture(&mix).unwrap();
/// let q = integrate_bound(&lip, Bound::TwoSided, 0.01, 2.0).unwrap();
/// let exact = iso.integral(Bound::TwoSided, 0.01, 2.0);
/// assert!((q.value / exact - 1.0).abs() < 1e-10);
/// ```
pub fn integrate_bound(
    lip: &Lipschitz,
    kind: Bound,
    a: f64,
    b: f64,
) -> Result<QuadResult, BoundsError> {
    check_interval(lip.mixture(), a, b)?;
    let (_, r) = quadrature::partition(
        |t| lip.value(kind, t),
        &breakpoints(lip, kind, a, b, false),
        0.0,
        tolerance::QUAD_RTOL,
    );
    Ok(r)
}

/// `int_a^b coordinate_rate(u) du`: the stability coordinate increment of `kind` over
/// `[a, b]` (checked: `0 < a < b`, finite).
///
/// ```
/// use flowcert::bounds::{Bound, Lipschitz, lambda::{integrate_bound, integrate_coordinate}};
/// let mix = flowcert::model::builtin::ring(8, 3.0, 0.1);
/// let lip = Lipschitz::auto(&mix);
/// let raw = integrate_bound(&lip, Bound::TwoSided, 0.05, 1.0).unwrap().value;
/// let coord = integrate_coordinate(&lip, Bound::TwoSided, 0.05, 1.0).unwrap().value;
/// assert_eq!(raw, coord);
/// ```
pub fn integrate_coordinate(
    lip: &Lipschitz,
    kind: Bound,
    a: f64,
    b: f64,
) -> Result<QuadResult, BoundsError> {
    check_interval(lip.mixture(), a, b)?;
    let (_, r) = quadrature::partition(
        |t| coordinate_rate(lip, kind, t),
        &breakpoints(lip, kind, a, b, true),
        0.0,
        tolerance::QUAD_RTOL,
    );
    Ok(r)
}

/// The stability coordinate of one bound on `[t_min, t_max]`, tabulated on an adaptive
/// partition, with `Lambda(t)` and `Lambda^{-1}(y)`.
///
/// ```
/// use flowcert::bounds::{Bound, LambdaTable, Lipschitz};
/// let mix = flowcert::model::builtin::two_mode(0.1);
/// let tab = LambdaTable::new(Lipschitz::auto(&mix), Bound::TwoSided, 0.01, 3.0).unwrap();
/// assert_eq!(tab.value(0.01), 0.0);
/// let half = tab.inverse(0.5 * tab.total());
/// assert!((tab.value(half) / (0.5 * tab.total()) - 1.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone)]
pub struct LambdaTable<'a> {
    lip: Lipschitz<'a>,
    kind: Bound,
    /// Panel ends: `knots[0] = t_min`, last `= t_max`.
    knots: Vec<f64>,
    /// The coordinate at each knot (`cum[0] = 0`).
    cum: Vec<f64>,
    error: f64,
    evals: usize,
}

impl<'a> LambdaTable<'a> {
    /// Tabulate on `[t_min, t_max]`. Errors: a bad interval, a non-finite coordinate
    /// (`L` not integrable down to `t_min`), or `L = 0` identically (below [`FLAT_RATE`]
    /// `int alpha^2`).
    ///
    /// ```
    /// use flowcert::bounds::{Bound, LambdaTable, Lipschitz};
    /// let mix = flowcert::model::builtin::aniso8();
    /// let lip = Lipschitz::auto(&mix);
    /// assert!(LambdaTable::new(lip.clone(), Bound::Paper, 1.0, 0.5).is_err());
    /// let tab = LambdaTable::new(lip, Bound::Paper, 0.01, 1.0).unwrap();
    /// assert!(tab.total() > 2.0 * 0.99); // the paper rate is > 2
    /// ```
    pub fn new(
        lip: Lipschitz<'a>,
        kind: Bound,
        t_min: f64,
        t_max: f64,
    ) -> Result<Self, BoundsError> {
        check_interval(lip.mixture(), t_min, t_max)?;
        let (panels, r) = quadrature::partition(
            |t| coordinate_rate(&lip, kind, t),
            &breakpoints(&lip, kind, t_min, t_max, true),
            0.0,
            tolerance::QUAD_RTOL,
        );
        if !r.value.is_finite() {
            return Err(BoundsError::NonFiniteCoordinate {
                t_min,
                t_max,
                value: r.value,
            });
        }
        if r.value <= FLAT_RATE * alpha2_mass(lip.mixture(), t_min, t_max) {
            return Err(BoundsError::FlatCoordinate { t_min, t_max });
        }
        let mut knots = Vec::with_capacity(panels.len() + 1);
        let mut cum = Vec::with_capacity(panels.len() + 1);
        knots.push(t_min);
        cum.push(0.0);
        let mut acc = 0.0;
        for p in &panels {
            acc += p.value;
            knots.push(p.b);
            cum.push(acc);
        }
        Ok(LambdaTable {
            lip,
            kind,
            knots,
            cum,
            error: r.error,
            evals: r.evals,
        })
    }

    /// The bound kind of the coordinate.
    ///
    /// ```
    /// use flowcert::bounds::{Bound, LambdaTable, Lipschitz};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let tab = LambdaTable::new(Lipschitz::auto(&mix), Bound::OneSided, 0.1, 1.0).unwrap();
    /// assert_eq!(tab.kind(), Bound::OneSided);
    /// ```
    pub fn kind(&self) -> Bound {
        self.kind
    }

    /// `[t_min, t_max]`.
    ///
    /// ```
    /// use flowcert::bounds::{Bound, LambdaTable, Lipschitz};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let tab = LambdaTable::new(Lipschitz::auto(&mix), Bound::TwoSided, 0.1, 1.0).unwrap();
    /// assert_eq!(tab.interval(), (0.1, 1.0));
    /// ```
    pub fn interval(&self) -> (f64, f64) {
        (self.knots[0], self.knots[self.knots.len() - 1])
    }

    /// The coordinate at `t_max`: `Lambda(t_max)`.
    ///
    /// ```
    /// use flowcert::bounds::{Bound, LambdaTable, Lipschitz};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let tab = LambdaTable::new(Lipschitz::auto(&mix), Bound::TwoSided, 0.1, 1.0).unwrap();
    /// assert_eq!(tab.total(), tab.value(1.0));
    /// ```
    pub fn total(&self) -> f64 {
        self.cum[self.cum.len() - 1]
    }

    /// The summed Gauss-Kronrod error estimate of [`Self::total`] and the number of
    /// bound evaluations spent building the table.
    ///
    /// ```
    /// use flowcert::bounds::{Bound, LambdaTable, Lipschitz};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let tab = LambdaTable::new(Lipschitz::auto(&mix), Bound::TwoSided, 0.1, 1.0).unwrap();
    /// let (err, evals) = tab.error_estimate();
    /// assert!(err <= 1e-12 * tab.total() && evals > 0);
    /// ```
    pub fn error_estimate(&self) -> (f64, usize) {
        (self.error, self.evals)
    }

    fn rate(&self, t: f64) -> f64 {
        coordinate_rate(&self.lip, self.kind, t)
    }

    /// `int_{knots[i]}^t rate`.
    fn above_knot(&self, i: usize, t: f64) -> f64 {
        let a = self.knots[i];
        if t <= a {
            return 0.0;
        }
        quadrature::partition(
            |u| self.rate(u),
            &[a, t],
            tolerance::QUAD_RTOL * self.total(),
            0.0,
        )
        .1
        .value
    }

    /// The panel `i` with `knots[i] <= t <= knots[i + 1]`.
    fn panel_of(&self, t: f64) -> usize {
        let i = self.knots.partition_point(|&k| k <= t);
        i.clamp(1, self.knots.len() - 1) - 1
    }

    /// `Lambda(t)`; `t` is clamped to `[t_min, t_max]`.
    ///
    /// ```
    /// use flowcert::bounds::{Bound, LambdaTable, Lipschitz};
    /// let mix = flowcert::model::builtin::ring(8, 3.0, 0.1);
    /// let tab = LambdaTable::new(Lipschitz::auto(&mix), Bound::TwoSided, 0.01, 2.0).unwrap();
    /// assert!(tab.value(0.5) < tab.value(0.6));
    /// assert_eq!(tab.value(5.0), tab.total());
    /// ```
    pub fn value(&self, t: f64) -> f64 {
        let (lo, hi) = self.interval();
        if t.is_nan() {
            return f64::NAN;
        }
        if t <= lo {
            return 0.0;
        }
        if t >= hi {
            return self.total();
        }
        let i = self.panel_of(t);
        self.cum[i] + self.above_knot(i, t)
    }

    /// `Lambda^{-1}(y)`: the `t` with `Lambda(t) = y` to within [`tolerance::QUAD_RTOL`]
    /// `Lambda(t_max)`; `y` is clamped to `[0, Lambda(t_max)]`, and the end points map
    /// exactly to `t_min` and `t_max`.
    ///
    /// ```
    /// use flowcert::bounds::{Bound, LambdaTable, Lipschitz};
    /// let mix = flowcert::model::builtin::hetero3();
    /// let tab = LambdaTable::new(Lipschitz::auto(&mix), Bound::OneSided, 0.01, 2.0).unwrap();
    /// assert_eq!((tab.inverse(0.0), tab.inverse(tab.total())), (0.01, 2.0));
    /// let y = 0.3 * tab.total();
    /// assert!((tab.value(tab.inverse(y)) - y).abs() < 1e-12 * tab.total());
    /// ```
    pub fn inverse(&self, y: f64) -> f64 {
        let (t_min, t_max) = self.interval();
        if y.is_nan() {
            return f64::NAN;
        }
        if y <= 0.0 {
            return t_min;
        }
        if y >= self.total() {
            return t_max;
        }
        // Panel i with cum[i] <= y < cum[i + 1].
        let i = (self
            .cum
            .partition_point(|&c| c <= y)
            .clamp(1, self.cum.len() - 1))
            - 1;
        let target = y - self.cum[i];
        let (mut lo, mut hi) = (self.knots[i], self.knots[i + 1]);
        let width = self.cum[i + 1] - self.cum[i];
        if target <= 0.0 {
            return lo;
        }
        let tol = tolerance::QUAD_RTOL * self.total();
        let mut t = if width > 0.0 {
            lo + (hi - lo) * (target / width).clamp(0.0, 1.0)
        } else {
            0.5 * (lo + hi)
        };
        for _ in 0..200 {
            let g = self.above_knot(i, t) - target;
            if g.abs() <= tol {
                return t;
            }
            if g < 0.0 {
                lo = t;
            } else {
                hi = t;
            }
            let mid = 0.5 * (lo + hi);
            if !(lo < mid && mid < hi) {
                return t;
            }
            let slope = self.rate(t);
            let newton = t - g / slope;
            t = if slope > 0.0 && newton > lo && newton < hi {
                newton
            } else {
                mid
            };
        }
        t
    }
}
