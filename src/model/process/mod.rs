//! Affine Gaussian noising paths `x_t = alpha_t x_0 + sigma_t z`, `z ~ N(0, I)`
//! (theory/07-gaussian-paths.md; the OU path of theory/01-model.md is one of them).
//!
//! Every path pushes a Gaussian mixture to a Gaussian mixture, with means `alpha_t mu_k` and
//! covariances `S_k(t) = alpha_t^2 Sigma_k + sigma_t^2 I`, and has the probability-flow ODE
//!
//! ```text
//! dx/dt = f_t x - h_t s(x, t),   f = alpha'/alpha,   h = g^2/2 = sigma sigma' - f sigma^2
//!       = alpha' E[x_0 | x] + sigma' E[z | x]                    (denoiser form)
//! J     = f I - h Hess log p_t                                   (velocity Jacobian)
//! e(l)  = f + h / s(l) = (alpha alpha' l + sigma sigma') / s(l) = (1/2) d ln s(l)/dt
//!                                    (eigenvalue of f I + h S^{-1}, s(l) = alpha^2 l + sigma^2)
//! ```
//! `h = -(sigma^2 / 2) d lambda/dt` with the log-SNR `lambda = ln(alpha^2 / sigma^2)`, so
//! `h > 0` exactly where the signal-to-noise ratio falls: time runs forward with the noise
//! and sampling integrates the PF-ODE towards smaller `t` for every path here.
//!
//! | name | `alpha_t` | `sigma_t` | `f` | `h = g^2/2` | times |
//! |---|---|---|---|---|---|
//! | `ou` (default) | `e^{-t}` | `sqrt(1 - e^{-2t})` | `-1` | `1` | `(0, inf)` |
//! | `vp-linear` | `e^{-B/2}`, `B = b0 t + (b1 - b0) t^2/2` | `sqrt(1 - e^{-B})` | `-beta/2` | `beta/2`, `beta = b0 + (b1 - b0) t` | `(0, 1]` |
//! | `vp-cosine` | `cos(theta)/cos(theta_0)`, `theta = (t + s)/(1 + s) pi/2` | `sqrt(1 - alpha^2)` | `-w tan theta` | `w tan theta`, `w = pi/(2(1 + s))` | `(0, 1)` |
//! | `edm` | `1` | `t` | `0` | `t` | `[0.002, 80]` |
//! | `rectified` | `1 - t` | `t` | `-1/(1 - t)` | `t/(1 - t)` | `(0, 1)` |
//!
//! A path is a [`GaussianPath`]: its coefficients at a time as one [`PathCoeffs`], its
//! domain, its log-SNR and noise ratio `sigma/alpha` with their inverses (the peer grids'
//! coordinates). The built-ins compute every coefficient in a form that keeps full relative
//! accuracy over their whole range (`expm1` for `sigma^2`, `(1 - l)`-factored rates on the
//! variance-preserving paths, complementary angles near `alpha -> 0`); implement the trait
//! for a path of your own ([`PathCoeffs::from_derivatives`] does the arithmetic) and wrap
//! it in a [`Process`] (`examples/user_process.rs`).

mod affine;
mod ou;
mod spec;
mod vp;

use std::fmt;
use std::sync::Arc;

pub use affine::{Edm, Rectified};
pub(crate) use ou::variances_at_log_snr;
pub use ou::{Ou, OuCoeffs, log_snr, log_snr_inverse, ve_sigma, ve_sigma_inverse};
pub use spec::{PROCESS_NAMES, ProcessSpec};
pub use vp::{VpCosine, VpLinear};

use super::error::ModelError;

/// The coefficients of a path at one time `t`.
///
/// `a = alpha alpha'` and `b = sigma sigma'` are half the derivatives of `alpha^2` and
/// `sigma^2`, so that `s(l) = alpha^2 l + sigma^2` has `s'(l) / 2 = a l + b`
/// ([`Self::half_ds`]); on a variance-preserving path (`alpha^2 + sigma^2 = 1`) `a = -b`
/// exactly and the rate is formed as `b (1 - l)`, which does not cancel when `l` is close
/// to 1.
///
/// ```
/// use flowcert::model::process::{GaussianPath, Rectified};
/// let c = Rectified.coeffs(0.25);
/// assert_eq!((c.alpha, c.sigma2, c.f, c.h), (0.75, 0.0625, -1.0 / 0.75, 0.25 / 0.75));
/// // e(l) = (1/2) d ln s(l) / dt, with s(l) = (1 - t)^2 l + t^2:
/// let l = 0.3;
/// let s = |t: f64| (1.0 - t) * (1.0 - t) * l + t * t;
/// let fd = 0.5 * (s(0.25 + 1e-6).ln() - s(0.25 - 1e-6).ln()) / 2e-6;
/// assert!((c.rate(l) - fd).abs() < 1e-8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathCoeffs {
    /// The time.
    pub t: f64,
    /// `alpha_t`.
    pub alpha: f64,
    /// `alpha_t^2` (computed in its own accurate form, not necessarily `alpha * alpha`).
    pub alpha2: f64,
    /// `sigma_t^2`.
    pub sigma2: f64,
    /// `alpha_t' = d alpha / dt`.
    pub dalpha: f64,
    /// `f = alpha' / alpha`, the drift coefficient of the PF-ODE.
    pub f: f64,
    /// `h = g^2 / 2 = sigma sigma' - f sigma^2`, the coefficient of the score (`> 0`).
    pub h: f64,
    /// `a = alpha alpha'`.
    pub a: f64,
    /// `b = sigma sigma'`.
    pub b: f64,
    /// `alpha^2 + sigma^2 = 1` at every time (then `a = -b`).
    pub variance_preserving: bool,
}

impl PathCoeffs {
    /// The coefficients from `alpha`, `alpha'`, `sigma`, `sigma'` at `t`, by the
    /// definitions (`f = alpha'/alpha`, `h = sigma sigma' - f sigma^2`): what a path of
    /// your own returns from [`GaussianPath::coeffs`] unless it has more accurate forms.
    ///
    /// ```
    /// use flowcert::model::process::{GaussianPath, PathCoeffs, Rectified};
    /// let t = 0.3;
    /// let naive = PathCoeffs::from_derivatives(t, 1.0 - t, -1.0, t, 1.0);
    /// let exact = Rectified.coeffs(t);
    /// assert!((naive.h - exact.h).abs() < 1e-15 && (naive.rate(0.5) - exact.rate(0.5)).abs() < 1e-15);
    /// ```
    pub fn from_derivatives(t: f64, alpha: f64, dalpha: f64, sigma: f64, dsigma: f64) -> Self {
        let f = dalpha / alpha;
        let sigma2 = sigma * sigma;
        let b = sigma * dsigma;
        PathCoeffs {
            t,
            alpha,
            alpha2: alpha * alpha,
            sigma2,
            dalpha,
            f,
            h: b - f * sigma2,
            a: alpha * dalpha,
            b,
            variance_preserving: false,
        }
    }

    /// `s(l) = alpha^2 l + sigma^2`: the eigenvalue of `S(t) = alpha^2 Sigma + sigma^2 I` for
    /// the eigenvalue `l >= 0` of `Sigma` (a sum of non-negative terms: accurate).
    ///
    /// ```
    /// let c = flowcert::model::process::GaussianPath::coeffs(&flowcert::model::process::Edm::default(), 2.0);
    /// assert_eq!(c.s(0.5), 4.5);
    /// ```
    #[inline]
    pub fn s(&self, lambda: f64) -> f64 {
        self.alpha2 * lambda + self.sigma2
    }

    /// `s'(l) / 2 = alpha alpha' l + sigma sigma'`, as `b (1 - l)` on a variance-preserving
    /// path (the OU form `alpha^2 (1 - l)` of theory/02, "Accuracy").
    ///
    /// ```
    /// use flowcert::model::process::{GaussianPath, Ou};
    /// let c = Ou.coeffs(20.0);
    /// assert_eq!(c.half_ds(1.0), 0.0); // Sigma = I: the OU marginal does not move
    /// ```
    #[inline]
    pub fn half_ds(&self, lambda: f64) -> f64 {
        if self.variance_preserving {
            self.b * (1.0 - lambda)
        } else {
            self.a * lambda + self.b
        }
    }

    /// `e(l) = f + h / s(l) = (1/2) d ln s(l) / dt`: the eigenvalue of `f I + h S^{-1}`
    /// along an eigenvector of `Sigma` with eigenvalue `l`, formed without cancellation
    /// (for OU it is `1/s - 1 = alpha^2 (1 - l)/s`, bit for bit
    /// [`OuCoeffs::precision_excess`]).
    ///
    /// ```
    /// use flowcert::model::process::{GaussianPath, Ou, OuCoeffs};
    /// assert_eq!(Ou.coeffs(3.0).rate(0.01), OuCoeffs::at(3.0).precision_excess(0.01));
    /// ```
    #[inline]
    pub fn rate(&self, lambda: f64) -> f64 {
        self.half_ds(lambda) / self.s(lambda)
    }

    /// `dt / d lambda = -sigma^2 / (2 h)`, the derivative of the time with respect to the
    /// log-SNR `lambda = ln(alpha^2 / sigma^2)` (`d lambda / dt = 2 (f - sigma sigma' /
    /// sigma^2) = -2 h / sigma^2`, theory/07-gaussian-paths.md): the factor that turns the
    /// PF-ODE `dx/dt = v` into `dx/d lambda = v dt/d lambda` (OU: `-sigma^2 / 2`).
    ///
    /// ```
    /// use flowcert::model::process::{GaussianPath, Ou};
    /// let (t, e) = (0.3, 1e-6);
    /// let fd = 2.0 * e / (Ou.log_snr(t + e) - Ou.log_snr(t - e));
    /// assert!((Ou.coeffs(t).dt_dlog_snr() / fd - 1.0).abs() < 1e-9);
    /// ```
    #[inline]
    pub fn dt_dlog_snr(&self) -> f64 {
        self.sigma2 / (-2.0 * self.h)
    }
}

impl From<OuCoeffs> for PathCoeffs {
    fn from(c: OuCoeffs) -> Self {
        PathCoeffs {
            t: c.t,
            alpha: c.alpha,
            alpha2: c.alpha2,
            sigma2: c.sigma2,
            dalpha: -c.alpha,
            f: -1.0,
            h: 1.0,
            a: -c.alpha2,
            b: c.alpha2,
            variance_preserving: true,
        }
    }
}

/// An interval of times `lo .. hi`, each end open or closed.
///
/// ```
/// use flowcert::model::process::TimeDomain;
/// let d = TimeDomain { lo: 0.0, lo_open: true, hi: 1.0, hi_open: true };
/// assert!(d.contains(0.5) && !d.contains(0.0) && !d.contains(1.0) && !d.contains(f64::NAN));
/// assert!(d.closure_contains(1.0));
/// assert_eq!(d.to_string(), "(0, 1)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeDomain {
    /// Lower end.
    pub lo: f64,
    /// Is `lo` excluded?
    pub lo_open: bool,
    /// Upper end (may be `inf`).
    pub hi: f64,
    /// Is `hi` excluded?
    pub hi_open: bool,
}

impl TimeDomain {
    /// Is `t` (finite) in the interval?
    pub fn contains(&self, t: f64) -> bool {
        t.is_finite()
            && (if self.lo_open {
                t > self.lo
            } else {
                t >= self.lo
            })
            && (if self.hi_open {
                t < self.hi
            } else {
                t <= self.hi
            })
    }

    /// Is `t` (finite) in the closed interval `[lo, hi]`?
    pub fn closure_contains(&self, t: f64) -> bool {
        t.is_finite() && t >= self.lo && t <= self.hi
    }
}

impl fmt::Display for TimeDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hi = if self.hi.is_infinite() {
            "inf".to_string()
        } else {
            format!("{}", self.hi)
        };
        write!(
            f,
            "{}{}, {}{}",
            if self.lo_open { '(' } else { '[' },
            self.lo,
            hi,
            if self.hi_open || self.hi.is_infinite() {
                ')'
            } else {
                ']'
            }
        )
    }
}

/// How [`crate::model::Marginal`] evaluates the velocity of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VelocityForm {
    /// `v = f x - h s`: the OU form `-x - s` of theory/01, kept bit for bit.
    Score,
    /// `v = sum_k r_k (alpha' mu_k + (f I + h S_k^{-1}) (x - alpha mu_k))`: the denoiser form
    /// `alpha' E[x_0 | x] + sigma' E[z | x]`, finite where `alpha -> 0` (`f, h -> inf`).
    Denoiser,
}

/// A Gaussian noising path: what the model needs to know about it.
///
/// Requirements (checked by [`Process::new`] on a grid of the domain): on the domain
/// `alpha > 0`, `sigma > 0`, `h > 0` (the signal-to-noise ratio strictly decreases),
/// `alpha` non-increasing and `sigma` non-decreasing, all coefficients finite.
///
/// ```
/// use flowcert::model::process::{GaussianPath, PathCoeffs, Process, TimeDomain};
/// /// The variance-exploding path of score SDEs: sigma_t = s_min (s_max / s_min)^t.
/// #[derive(Debug)]
/// struct Geometric;
/// impl GaussianPath for Geometric {
///     fn name(&self) -> &str { "geometric-ve" }
///     fn domain(&self) -> TimeDomain { TimeDomain { lo: 0.0, lo_open: false, hi: 1.0, hi_open: false } }
///     fn coeffs(&self, t: f64) -> PathCoeffs {
///         let k = (50.0f64 / 0.01).ln();
///         let sigma = 0.01 * (k * t).exp();
///         PathCoeffs::from_derivatives(t, 1.0, 0.0, sigma, k * sigma)
///     }
/// }
/// let p = Process::new(Geometric).unwrap();
/// let l = p.log_snr(0.5);
/// assert!((p.log_snr_inverse(l) - 0.5).abs() < 1e-12);
/// ```
pub trait GaussianPath: fmt::Debug + Send + Sync {
    /// The name on the command line and in JSON (`ou`, `vp-linear`, ...).
    fn name(&self) -> &str;

    /// The parameters, in a fixed order (for JSON and store keys).
    fn params(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// The times where `p_t` has a density and the PF-ODE has finite coefficients.
    fn domain(&self) -> TimeDomain;

    /// Every coefficient at time `t` (the caller guarantees `t` in the closure of the
    /// domain; at an open end some coefficients may be infinite).
    fn coeffs(&self, t: f64) -> PathCoeffs;

    /// How the velocity is evaluated (the denoiser form unless overridden).
    fn velocity_form(&self) -> VelocityForm {
        VelocityForm::Denoiser
    }

    /// Log signal-to-noise ratio `lambda(t) = ln(alpha^2 / sigma^2)`, strictly decreasing.
    fn log_snr(&self, t: f64) -> f64 {
        let c = self.coeffs(t);
        c.alpha2.ln() - c.sigma2.ln()
    }

    /// The time with log-SNR `l` (default: bisection on the domain, to adjacent doubles).
    fn log_snr_inverse(&self, l: f64) -> f64 {
        invert_decreasing(|t| self.log_snr(t), l, self.domain())
    }

    /// Every coefficient at the time of log-SNR `l` (default: [`Self::coeffs`] at
    /// [`Self::log_snr_inverse`]); a path with closed forms in `l` overrides it (OU: one
    /// exponential).
    fn coeffs_at_log_snr(&self, l: f64) -> PathCoeffs {
        self.coeffs(self.log_snr_inverse(l))
    }

    /// The noise ratio `sigma_t / alpha_t` (the variance-exploding noise level of the EDM
    /// grid), strictly increasing.
    fn noise_ratio(&self, t: f64) -> f64 {
        let c = self.coeffs(t);
        (c.sigma2 / c.alpha2).sqrt()
    }

    /// The time with noise ratio `r` (default: bisection on the domain).
    fn noise_ratio_inverse(&self, r: f64) -> f64 {
        invert_decreasing(|t| -self.noise_ratio(t), -r, self.domain())
    }

    /// An upper bound on `s(t) = alpha_t^2 l + sigma_t^2` over `t` in `[t0, t1]`. The
    /// default `alpha(t0)^2 l + sigma(t1)^2` holds for every admissible path (`alpha`
    /// non-increasing, `sigma` non-decreasing); a path on which `s` is monotone or convex
    /// in `t` may return the larger end value instead.
    fn variance_sup(&self, lambda: f64, t0: f64, t1: f64) -> f64 {
        self.coeffs(t0).alpha2 * lambda + self.coeffs(t1).sigma2
    }
}

/// Bisection for `t` with `g(t) = y` on a decreasing `g`, to adjacent doubles. Ends of the
/// domain at infinity are replaced by a doubling search.
pub(crate) fn invert_decreasing(g: impl Fn(f64) -> f64, y: f64, dom: TimeDomain) -> f64 {
    let mut lo = dom.lo;
    let mut hi = dom.hi;
    if hi.is_infinite() {
        hi = lo.max(1.0);
        while g(hi) > y && hi < 1e300 {
            hi *= 2.0;
        }
    }
    if !(y.is_finite()) {
        return f64::NAN;
    }
    for _ in 0..2100 {
        let mid = 0.5 * (lo + hi);
        if !(lo < mid && mid < hi) {
            break;
        }
        let v = g(mid);
        if v.is_nan() {
            break;
        }
        if v > y { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

/// A validated path, cheap to clone: what a [`crate::model::Mixture`] is noised by.
///
/// ```
/// use flowcert::model::process::Process;
/// let p = Process::default();
/// assert_eq!(p.name(), "ou");
/// assert!(p.check_time("t", 0.0).is_err() && p.check_time("t", 2.0).is_ok());
/// ```
#[derive(Clone)]
pub struct Process(Arc<dyn GaussianPath>);

impl Process {
    /// Wrap a path after checking its requirements ([`GaussianPath`]) at 257 times of its
    /// domain (the ends of an infinite domain are probed up to `t = 100`).
    pub fn new(path: impl GaussianPath + 'static) -> Result<Process, ModelError> {
        let p = Process(Arc::new(path));
        p.validate()?;
        Ok(p)
    }

    /// A built-in path, trusted (its requirements are proved in theory/07).
    pub(crate) fn builtin(path: impl GaussianPath + 'static) -> Process {
        Process(Arc::new(path))
    }

    fn validate(&self) -> Result<(), ModelError> {
        let dom = self.domain();
        let bad = |problem: String| ModelError::InvalidPath {
            name: self.name().to_string(),
            problem,
        };
        if !(dom.lo.is_finite() && dom.lo >= 0.0 && dom.hi > dom.lo) {
            return Err(bad(format!(
                "its domain {dom} must be an interval of times >= 0 with lo < hi"
            )));
        }
        let hi = dom.hi.min(100.0);
        let n = 256;
        let mut prev: Option<PathCoeffs> = None;
        for i in 0..=n {
            let u = i as f64 / n as f64;
            let t = dom.lo + u * (hi - dom.lo);
            let t = if dom.contains(t) {
                t
            } else if i == 0 {
                dom.lo + 1e-6 * (hi - dom.lo)
            } else {
                hi - 1e-6 * (hi - dom.lo)
            };
            let c = self.coeffs(t);
            let fields = [c.alpha, c.alpha2, c.sigma2, c.dalpha, c.f, c.h, c.a, c.b];
            if fields.iter().any(|v| !v.is_finite()) {
                return Err(bad(format!(
                    "a coefficient is not finite at t = {t} inside its domain {dom}"
                )));
            }
            if !(c.alpha > 0.0 && c.sigma2 > 0.0) {
                return Err(bad(format!(
                    "alpha = {} and sigma^2 = {} at t = {t}: both must be > 0 inside the domain",
                    c.alpha, c.sigma2
                )));
            }
            if c.h <= 0.0 {
                return Err(bad(format!(
                    "h = g^2/2 = {} at t = {t}: the signal-to-noise ratio must strictly decrease (h > 0)",
                    c.h
                )));
            }
            if let Some(p) = prev
                && (c.alpha > p.alpha || c.sigma2 < p.sigma2)
            {
                return Err(bad(format!(
                    "alpha must not increase and sigma must not decrease with t (between t = {} and {t})",
                    p.t
                )));
            }
            prev = Some(c);
        }
        Ok(())
    }

    /// The path's name.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// The path's parameters.
    pub fn params(&self) -> Vec<(&'static str, f64)> {
        self.0.params()
    }

    /// Name and parameters, as written to JSON (`{"name": "vp-linear", "beta_min": 0.1, ...}`).
    ///
    /// ```
    /// let p = flowcert::model::process::ProcessSpec::named("vp-linear").check().unwrap();
    /// let j = serde_json::to_string(&p.info()).unwrap();
    /// assert_eq!(j, r#"{"name":"vp-linear","beta_min":0.1,"beta_max":20.0}"#);
    /// ```
    pub fn info(&self) -> ProcessInfo {
        ProcessInfo {
            name: self.name().to_string(),
            params: self.params(),
        }
    }

    /// A short label: the name, then `key=value` for every parameter that differs from the
    /// built-in default (`vp-linear`, `vp-linear(beta_max=10)`).
    pub fn label(&self) -> String {
        let defaults = ProcessSpec::named(self.name())
            .check()
            .map(|p| p.params())
            .unwrap_or_default();
        let changed: Vec<String> = self
            .params()
            .iter()
            .filter(|(k, v)| !defaults.iter().any(|(dk, dv)| dk == k && dv == v))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if changed.is_empty() {
            self.name().to_string()
        } else {
            format!("{}({})", self.name(), changed.join(","))
        }
    }

    /// Is this the OU path of theory/01 (the default)?
    pub fn is_ou(&self) -> bool {
        self.name() == "ou"
    }

    /// The marginal domain.
    pub fn domain(&self) -> TimeDomain {
        self.0.domain()
    }

    /// Coefficients at `t` (not checked).
    #[inline]
    pub fn coeffs(&self, t: f64) -> PathCoeffs {
        self.0.coeffs(t)
    }

    /// The velocity form.
    pub fn velocity_form(&self) -> VelocityForm {
        self.0.velocity_form()
    }

    /// Log-SNR at `t`.
    pub fn log_snr(&self, t: f64) -> f64 {
        self.0.log_snr(t)
    }

    /// The time of log-SNR `l`.
    pub fn log_snr_inverse(&self, l: f64) -> f64 {
        self.0.log_snr_inverse(l)
    }

    /// Coefficients at the time of log-SNR `l` ([`GaussianPath::coeffs_at_log_snr`]).
    #[inline]
    pub fn coeffs_at_log_snr(&self, l: f64) -> PathCoeffs {
        self.0.coeffs_at_log_snr(l)
    }

    /// `sigma_t / alpha_t`.
    pub fn noise_ratio(&self, t: f64) -> f64 {
        self.0.noise_ratio(t)
    }

    /// The time of noise ratio `r`.
    pub fn noise_ratio_inverse(&self, r: f64) -> f64 {
        self.0.noise_ratio_inverse(r)
    }

    /// An upper bound on `alpha_t^2 l + sigma_t^2` over `[t0, t1]`.
    pub fn variance_sup(&self, lambda: f64, t0: f64, t1: f64) -> f64 {
        self.0.variance_sup(lambda, t0, t1)
    }

    /// `sup alpha_t` over `[t0, t1]` (`alpha` is non-increasing).
    pub fn alpha_sup(&self, t0: f64) -> f64 {
        self.0.coeffs(t0).alpha
    }

    /// The time of this path with the log-SNR that `other` has at `t` (the time change of
    /// theory/07, "Conjugacy"): `lambda_self^{-1}(lambda_other(t))`.
    ///
    /// ```
    /// use flowcert::model::process::{Process, ProcessSpec};
    /// let rf = ProcessSpec::named("rectified").check().unwrap();
    /// let t = rf.matched_time(&Process::default(), 1.0); // sigma/alpha = sqrt(e^2 - 1)
    /// let r = (2.0f64.exp_m1()).sqrt();
    /// assert!((t - r / (1.0 + r)).abs() < 1e-14);
    /// ```
    pub fn matched_time(&self, other: &Process, t: f64) -> f64 {
        if self == other {
            return t;
        }
        self.noise_ratio_inverse(other.noise_ratio(t))
    }

    /// Check that `t` is a time of the marginal domain; `field` names it in the error.
    /// For OU the error is the one of [`crate::model::Mixture::check_time`].
    pub fn check_time(&self, field: &str, t: f64) -> Result<f64, ModelError> {
        let dom = self.domain();
        if dom.contains(t) {
            return Ok(t);
        }
        if self.is_ou() {
            return Err(ModelError::BadTime {
                field: field.to_string(),
                value: t,
            });
        }
        Err(ModelError::TimeOutsidePath {
            field: field.to_string(),
            value: t,
            process: self.label(),
            range: dom.to_string(),
        })
    }
}

impl Default for Process {
    /// The OU path.
    fn default() -> Self {
        Process::builtin(Ou)
    }
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Process({})", self.label())
    }
}

impl PartialEq for Process {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name() && self.params() == other.params()
    }
}

/// A path's name and parameters, serialised flat: `{"name": "edm", "sigma_min": 0.002, ...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessInfo {
    /// The name.
    pub name: String,
    /// The parameters, in the path's order.
    pub params: Vec<(&'static str, f64)>,
}

/// Read back as written (a stored report): through [`ProcessSpec`], so only the named paths
/// of [`PROCESS_NAMES`] with valid parameters read back.
///
/// ```
/// use flowcert::model::process::{ProcessInfo, ProcessSpec};
/// for name in flowcert::model::process::PROCESS_NAMES {
///     let info = ProcessSpec::named(name).check().unwrap().info();
///     let back: ProcessInfo = serde_json::from_str(&serde_json::to_string(&info).unwrap()).unwrap();
///     assert_eq!(back, info);
/// }
/// ```
impl<'de> serde::Deserialize<'de> for ProcessInfo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let map = std::collections::BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        let name = map
            .get("name")
            .and_then(|v| v.as_str())
            .ok_or_else(|| D::Error::custom("a process needs a string `name`"))?;
        let mut spec = ProcessSpec::named(name);
        for (k, v) in map.iter().filter(|(k, _)| k.as_str() != "name") {
            let v = v.as_f64().ok_or_else(|| {
                D::Error::custom(format!("process parameter `{k}` is not a number"))
            })?;
            match k.as_str() {
                "beta_min" => spec.beta_min = Some(v),
                "beta_max" => spec.beta_max = Some(v),
                "s" | "cosine_s" => spec.cosine_s = Some(v),
                "sigma_min" => spec.sigma_min = Some(v),
                "sigma_max" => spec.sigma_max = Some(v),
                _ => return Err(D::Error::custom(format!("unknown process parameter `{k}`"))),
            }
        }
        let p = spec.check().map_err(D::Error::custom)?;
        Ok(p.info())
    }
}

impl serde::Serialize for ProcessInfo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1 + self.params.len()))?;
        m.serialize_entry("name", &self.name)?;
        for (k, v) in &self.params {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}
