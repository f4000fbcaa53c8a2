//! Chebyshev interpolation of the smooth time features on `[t_min, T]`, with a rigorous
//! error bound from analyticity in a Bernstein ellipse (Trefethen, *Approximation Theory
//! and Approximation Practice*, Thm 8.2):
//!
//! ```text
//! t = c + h u,  u in [-1, 1]     (c = (t_min + T)/2, h = (T - t_min)/2)
//! p_n = interpolant of f in the n+1 Chebyshev points u_j = cos(j pi / n)
//! |f - p_n| <= 4 M(rho) rho^{-n} / (rho - 1)    on [t_min, T]
//! ```
//! where `f` is analytic inside the ellipse `E_rho` (foci -1, 1, semi-axes
//! `a = (rho + 1/rho)/2`, `b = (rho - 1/rho)/2` in the `u` plane) and `M(rho) >= sup |f|`
//! there. The degree is the smallest `n` whose bound, minimised over `rho` on a grid,
//! meets the target. The bound covers the exact interpolant; the rounding of its
//! coefficients (about `(n + 1) eps_mach max|f|`) belongs, like all rounding, to the
//! floating-point share of the budget (`tolerance::APPROX_ROUNDING_SHARE`).

use serde::Serialize;

use super::error::ApproxError;

/// Largest Chebyshev degree the construction accepts.
pub const MAX_DEGREE: usize = 4096;

/// A time feature that the network computes as a polynomial in `t`.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeFunction {
    /// `e^{-rate t}` (`rate > 0`): `alpha_t` for rate 1, `alpha_t^2` for rate 2.
    Exp {
        /// The rate.
        rate: f64,
    },
    /// `ln det S(t) = sum_j ln(alpha_t^2 lambda_j + sigma_t^2)` for the spectrum `lambda`.
    LogDet {
        /// Eigenvalues `lambda_j >= 0` of `Sigma`.
        eigvals: Vec<f64>,
    },
}

impl TimeFunction {
    /// The exact value at `t > 0`.
    ///
    /// ```
    /// use flowcert::approx::TimeFunction;
    /// let f = TimeFunction::LogDet { eigvals: vec![1.0, 1.0] };
    /// assert!(f.eval(0.3).abs() < 1e-15); // Sigma = I: S(t) = I
    /// assert!((TimeFunction::Exp { rate: 2.0 }.eval(0.5) - (-1.0f64).exp()).abs() < 1e-15);
    /// ```
    pub fn eval(&self, t: f64) -> f64 {
        match self {
            TimeFunction::Exp { rate } => (-rate * t).exp(),
            TimeFunction::LogDet { eigvals } => {
                let a2 = (-2.0 * t).exp();
                let s2 = -(-2.0 * t).exp_m1();
                eigvals.iter().map(|&l| (a2 * l + s2).ln()).sum()
            }
        }
    }

    /// An upper bound of `|f|` on the image of the Bernstein ellipse `E_rho` under
    /// `t = c + h u`, or `None` where `f` may fail to be analytic there.
    ///
    /// With `E = e^{-2t}` and `w_j = 1 + (lambda_j - 1) E`: for `lambda_j < 1`,
    /// `q = (1 - lambda_j) max|E| < 1` keeps `w_j` in the disc of radius `q` about 1, so
    /// `|Log w_j| <= -ln(1 - q) + asin(q)`; for `lambda_j >= 1`, `|Im t| < pi/4` makes
    /// `Re E > 0`, so `Re w_j >= 1` and `|Log w_j| <= ln(1 + p) + atan(p)` with
    /// `p = (lambda_j - 1) max|E|`. `max|E| = e^{-2 min Re t}`, `min Re t = c - h a`.
    ///
    /// ```
    /// use flowcert::approx::TimeFunction;
    /// let f = TimeFunction::LogDet { eigvals: vec![0.01] };
    /// assert!(f.ellipse_bound(0.5, 0.49, 1.01).is_some());
    /// assert!(f.ellipse_bound(0.5, 0.49, 3.0).is_none()); // reaches the singularity
    /// ```
    pub fn ellipse_bound(&self, c: f64, h: f64, rho: f64) -> Option<f64> {
        let a = 0.5 * (rho + 1.0 / rho);
        let b = 0.5 * (rho - 1.0 / rho);
        let re_lo = c - h * a;
        match self {
            TimeFunction::Exp { rate } => Some((-rate * re_lo).exp()),
            TimeFunction::LogDet { eigvals } => {
                let e_max = (-2.0 * re_lo).exp();
                let mut m = 0.0;
                for &l in eigvals {
                    if l < 1.0 {
                        let q = (1.0 - l) * e_max;
                        if q.is_nan() || q >= 1.0 - 1e-12 {
                            return None;
                        }
                        m += -(-q).ln_1p() + q.asin();
                    } else {
                        if 2.0 * h * b >= 0.5 * std::f64::consts::PI {
                            return None;
                        }
                        let p = (l - 1.0) * e_max;
                        m += p.ln_1p() + p.atan();
                    }
                }
                Some(m)
            }
        }
    }

    /// The largest `rho` for which [`TimeFunction::ellipse_bound`] can be finite.
    fn rho_max(&self, c: f64, h: f64) -> f64 {
        match self {
            TimeFunction::Exp { .. } => 1e4,
            TimeFunction::LogDet { eigvals } => {
                let mut rho = f64::INFINITY;
                for &l in eigvals {
                    if l < 1.0 {
                        // need c - h a > ln(1 - l)/2
                        let t_star = 0.5 * (1.0 - l).ln();
                        let amax = (c - t_star) / h;
                        rho = rho.min(amax + (amax * amax - 1.0).max(0.0).sqrt());
                    } else {
                        let bmax = std::f64::consts::PI / (4.0 * h);
                        rho = rho.min(bmax + (bmax * bmax + 1.0).sqrt());
                    }
                }
                rho.min(1e4)
            }
        }
    }
}

/// A Chebyshev series `sum_k c_k T_k(u)`, `u = (t - c)/h`, on `[a, b]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChebSeries {
    /// Left end `a`.
    pub a: f64,
    /// Right end `b`.
    pub b: f64,
    /// Coefficients `c_0..c_n`.
    pub coeffs: Vec<f64>,
}

impl ChebSeries {
    /// Interpolate `f` on `[a, b]` in the `n + 1` Chebyshev points of the second kind
    /// (`c_k = (2/n) sum''_j f(u_j) cos(j k pi / n)`, end terms and `c_0, c_n` halved).
    ///
    /// ```
    /// let s = flowcert::approx::ChebSeries::interpolate(|t| t * t, 0.0, 2.0, 4);
    /// assert!((s.eval(1.3) - 1.69).abs() < 1e-14);
    /// ```
    pub fn interpolate(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize) -> Self {
        let (c, h) = (0.5 * (a + b), 0.5 * (b - a));
        if n == 0 {
            return ChebSeries {
                a,
                b,
                coeffs: vec![f(c)],
            };
        }
        let pi = std::f64::consts::PI;
        let vals: Vec<f64> = (0..=n)
            .map(|j| f(c + h * (pi * j as f64 / n as f64).cos()))
            .collect();
        let coeffs = (0..=n)
            .map(|k| {
                let mut s = 0.0;
                for (j, &v) in vals.iter().enumerate() {
                    let w = if j == 0 || j == n { 0.5 } else { 1.0 };
                    // cos(j k pi / n) with the product reduced mod 2n for accuracy
                    let r = (j * k) % (2 * n);
                    s += w * v * (pi * r as f64 / n as f64).cos();
                }
                let ck = 2.0 * s / n as f64;
                if k == 0 || k == n { 0.5 * ck } else { ck }
            })
            .collect();
        ChebSeries { a, b, coeffs }
    }

    /// The degree `n`.
    ///
    /// ```
    /// assert_eq!(flowcert::approx::ChebSeries::interpolate(|t| t, 0.0, 1.0, 3).degree(), 3);
    /// ```
    pub fn degree(&self) -> usize {
        self.coeffs.len() - 1
    }

    /// Evaluate by Clenshaw's recurrence.
    ///
    /// ```
    /// let s = flowcert::approx::ChebSeries::interpolate(f64::exp, -1.0, 1.0, 16);
    /// assert!((s.eval(0.5) - 0.5f64.exp()).abs() < 1e-14);
    /// ```
    pub fn eval(&self, t: f64) -> f64 {
        let u = (2.0 * t - (self.a + self.b)) / (self.b - self.a);
        let (mut b1, mut b2) = (0.0, 0.0);
        for &ck in self.coeffs.iter().skip(1).rev() {
            let b0 = ck + 2.0 * u * b1 - b2;
            b2 = b1;
            b1 = b0;
        }
        self.coeffs[0] + u * b1 - b2
    }
}

/// A fitted time feature: the series and its proven sup-error bound on `[a, b]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChebFit {
    /// The interpolant.
    pub series: ChebSeries,
    /// Proven `sup_{[a,b]} |f - p_n|` for the exact interpolant.
    pub bound: f64,
    /// The ellipse parameter that attains it.
    pub rho: f64,
}

/// Fit `f` on `[a, b]` with the smallest degree whose proven bound is `<= target`.
///
/// ```
/// use flowcert::approx::{fit_time_function, TimeFunction};
/// let f = TimeFunction::Exp { rate: 1.0 };
/// let fit = fit_time_function(&f, 0.01, 1.0, 1e-12).unwrap();
/// assert!(fit.bound <= 1e-12 && fit.series.degree() < 20);
/// let worst = (0..=1000).map(|i| 0.01 + 0.99 * i as f64 / 1000.0)
///     .map(|t| (fit.series.eval(t) - f.eval(t)).abs()).fold(0.0, f64::max);
/// assert!(worst <= fit.bound);
/// ```
pub fn fit_time_function(
    f: &TimeFunction,
    a: f64,
    b: f64,
    target: f64,
) -> Result<ChebFit, ApproxError> {
    let (c, h) = (0.5 * (a + b), 0.5 * (b - a));
    let rho_max = f.rho_max(c, h);
    // Grid of rho in (1, rho_max): geometric in rho - 1, dense near rho_max.
    let span = rho_max - 1.0;
    let mut rhos: Vec<f64> = (1..=240)
        .map(|i| 1.0 + span * 10f64.powf(-8.0 + 8.0 * i as f64 / 240.0))
        .collect();
    rhos.extend((1..=12).map(|j| 1.0 + span * (1.0 - 10f64.powi(-j))));
    let table: Vec<(f64, f64)> = rhos
        .into_iter()
        .filter(|&r| r > 1.0 && r < rho_max)
        .filter_map(|r| f.ellipse_bound(c, h, r).map(|m| (r, m)))
        .collect();
    let mut best = (f64::INFINITY, 1.0);
    for n in 0..=MAX_DEGREE {
        best = (f64::INFINITY, 1.0);
        for &(r, m) in &table {
            let v = 4.0 * m * (-(n as f64) * r.ln()).exp() / (r - 1.0);
            if v < best.0 {
                best = (v, r);
            }
        }
        if best.0 <= target {
            let series = ChebSeries::interpolate(|t| f.eval(t), a, b, n);
            return Ok(ChebFit {
                series,
                bound: best.0,
                rho: best.1,
            });
        }
    }
    Err(ApproxError::TooLarge {
        what: format!("the Chebyshev degree of {f:?} on [{a}, {b}]"),
        cap: MAX_DEGREE,
        bound: best.0,
        target,
    })
}
