//! Closed forms of the bounds and of their integrals for an isotropic shared covariance
//! `Sigma_k = sigma0^2 I` (theory/02-lipschitz.md, theory/03-stability.md): the test problem that carries its
//! own answer for [`super::lambda`].
//!
//! ```text
//! kappa = 1 - sigma0^2,   tau^2(t) = 1 - kappa e^{-2t} = sigma0^2 alpha_t^2 + sigma_t^2
//! a(t) = 1/tau^2 - 1 = kappa alpha^2 / tau^2,   q(t) = alpha^2 D^2 / (4 tau^4)   (= c(t))
//!        (evaluated as kappa alpha^2 / tau^2: the form 1/tau^2 - 1 cancels at large t)
//! two-sided  L   = max(|a|, |a - q|) = max(|a|, q - a)
//! paper      L_p = 1 + 1/tau^2 + q = 2 + a + q
//! one-sided  mu  = 1 - 1/tau^2 + q = q - a
//! int a dt = (1/2) ln tau^2,        int q dt = -D^2 / (8 kappa tau^2)
//! ```
//! The `q` increment is evaluated as `D^2 (e^{-2s} - e^{-2t}) / (8 tau_s^2 tau_t^2)`, which
//! is the same quantity with `kappa` cancelled, so `kappa = 0` (`sigma0 = 1`) and
//! `kappa < 0` need no special case. For `kappa > 0` the two-sided bound follows the
//! branch `q - a` exactly where `q >= 2a`, i.e. `tau^2 <= D^2 / (8 kappa)`, that is for
//! `t <= t*` with `e^{-2 t*} = (1 - D^2/(8 kappa)) / kappa`; for `kappa <= 0`, `a <= 0` and
//! `L = q - a` at every time.

use super::lipschitz::Bound;
use crate::model::{Mixture, OuCoeffs};

/// An isotropic shared-covariance mixture, reduced to `(sigma0^2, D)`.
///
/// ```
/// use flowcert::bounds::IsotropicShared;
/// let iso = IsotropicShared::from_mixture(&flowcert::model::builtin::two_mode(0.1)).unwrap();
/// assert!((iso.sigma0_sq - 0.01).abs() < 1e-15 && (iso.diameter - 3.0).abs() < 1e-12);
/// assert!(IsotropicShared::from_mixture(&flowcert::model::builtin::aniso8()).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IsotropicShared {
    /// `sigma0^2`.
    pub sigma0_sq: f64,
    /// `D = max_{j,k} |mu_j - mu_k|`.
    pub diameter: f64,
}

impl IsotropicShared {
    /// `Some` when every covariance equals `sigma0^2 I`.
    ///
    /// ```
    /// let m = flowcert::model::builtin::ring(8, 3.0, 0.1);
    /// assert!(flowcert::bounds::IsotropicShared::from_mixture(&m).is_some());
    /// ```
    pub fn from_mixture(mix: &Mixture) -> Option<Self> {
        Some(IsotropicShared {
            sigma0_sq: mix.isotropic_variance()?,
            diameter: mix.mean_diameter(),
        })
    }

    /// `tau^2(t) = sigma0^2 alpha_t^2 + sigma_t^2`.
    ///
    /// ```
    /// let iso = flowcert::bounds::IsotropicShared { sigma0_sq: 0.25, diameter: 1.0 };
    /// assert!((iso.tau2(1e-12) - 0.25).abs() < 1e-11 && (iso.tau2(40.0) - 1.0).abs() < 1e-15);
    /// ```
    pub fn tau2(&self, t: f64) -> f64 {
        let c = OuCoeffs::at(t);
        self.sigma0_sq * c.alpha2 + c.sigma2
    }

    /// `a(t) = 1/tau^2 - 1`.
    ///
    /// ```
    /// let iso = flowcert::bounds::IsotropicShared { sigma0_sq: 0.25, diameter: 1.0 };
    /// assert!((iso.a(1e-12) - 3.0).abs() < 1e-9);
    /// ```
    pub fn a(&self, t: f64) -> f64 {
        // 1/tau^2 - 1 = kappa alpha^2 / tau^2: no cancellation once tau^2 is close to 1.
        OuCoeffs::at(t).precision_excess(self.sigma0_sq)
    }

    /// `q(t) = alpha_t^2 D^2 / (4 tau^4)`, the exact `c(t)`.
    ///
    /// ```
    /// let iso = flowcert::bounds::IsotropicShared { sigma0_sq: 1.0, diameter: 2.0 };
    /// assert!((iso.q(0.5) - (-1.0f64).exp()).abs() < 1e-15); // tau = 1
    /// ```
    pub fn q(&self, t: f64) -> f64 {
        let tau2 = self.tau2(t);
        OuCoeffs::at(t).alpha2 * self.diameter * self.diameter / (4.0 * tau2 * tau2)
    }

    /// The closed-form bound of one kind at time `t`.
    ///
    /// ```
    /// use flowcert::bounds::{Bound, IsotropicShared};
    /// let mix = flowcert::model::builtin::two_mode(0.05);
    /// let iso = IsotropicShared::from_mixture(&mix).unwrap();
    /// for kind in Bound::ALL {
    ///     let (closed, general) = (iso.value(kind, 0.3), kind.value(&mix, 0.3));
    ///     assert!((closed / general - 1.0).abs() < 1e-12);
    /// }
    /// ```
    pub fn value(&self, kind: Bound, t: f64) -> f64 {
        let (a, q) = (self.a(t), self.q(t));
        match kind {
            Bound::TwoSided => a.abs().max(q - a),
            Bound::Paper => 2.0 + a + q,
            Bound::OneSided => q - a,
        }
    }

    /// The time `t*` where the two-sided bound switches from `q - a` (before) to `a`
    /// (after): `None` when one branch holds for all `t > 0` (then see
    /// [`Self::spread_branch_always`]).
    ///
    /// ```
    /// use flowcert::bounds::{Bound, IsotropicShared};
    /// let iso = IsotropicShared { sigma0_sq: 0.01, diameter: 1.0 };
    /// let ts = iso.switch_time().unwrap();
    /// let (a, q) = (iso.a(ts), iso.q(ts));
    /// assert!((q - 2.0 * a).abs() < 1e-9 * q);
    /// ```
    pub fn switch_time(&self) -> Option<f64> {
        let kappa = 1.0 - self.sigma0_sq;
        if kappa <= 0.0 {
            return None;
        }
        let level = self.diameter * self.diameter / (8.0 * kappa);
        if level >= 1.0 || level <= self.sigma0_sq {
            return None;
        }
        Some(-0.5 * ((1.0 - level) / kappa).ln())
    }

    /// True when the two-sided bound is `q - a` at every `t > 0`
    /// (`kappa <= 0`, or `D^2 >= 8 kappa`).
    ///
    /// ```
    /// let iso = flowcert::bounds::IsotropicShared { sigma0_sq: 0.01, diameter: 3.0 };
    /// assert!(iso.spread_branch_always()); // 9 >= 8 * 0.99
    /// ```
    pub fn spread_branch_always(&self) -> bool {
        let kappa = 1.0 - self.sigma0_sq;
        kappa <= 0.0 || self.diameter * self.diameter >= 8.0 * kappa
    }

    /// `int_s^t a = (1/2) ln(tau_t^2 / tau_s^2)`, evaluated as
    /// `(1/2) ln1p((tau_t^2 - tau_s^2) / tau_s^2)` with
    /// `tau_t^2 - tau_s^2 = kappa (e^{-2s} - e^{-2t}) = -kappa e^{-2s} expm1(-2(t - s))`,
    /// which keeps relative accuracy where both `tau^2` are close to 1 (large `s`).
    fn int_a(&self, s: f64, t: f64) -> f64 {
        let kappa = 1.0 - self.sigma0_sq;
        let diff = -kappa * (-2.0 * s).exp() * (-2.0 * (t - s)).exp_m1();
        0.5 * (diff / self.tau2(s)).ln_1p()
    }

    /// `int_s^t q = D^2 (e^{-2s} - e^{-2t}) / (8 tau_s^2 tau_t^2)`.
    fn int_q(&self, s: f64, t: f64) -> f64 {
        let diff = -(-2.0 * s).exp() * (-2.0 * (t - s)).exp_m1();
        self.diameter * self.diameter * diff / (8.0 * self.tau2(s) * self.tau2(t))
    }

    /// `int_s^t bound(u) du` in closed form (`0 < s <= t`), unfloored.
    ///
    /// ```
    /// use flowcert::bounds::{Bound, IsotropicShared};
    /// let iso = IsotropicShared { sigma0_sq: 0.09, diameter: 3.0 };
    /// // paper: 2(t - s) + (1/2) ln(tau_t^2/tau_s^2) + q-increment
    /// let v = iso.integral(Bound::Paper, 0.1, 0.2);
    /// assert!(v > 0.2 && iso.integral(Bound::OneSided, 0.5, 0.5) == 0.0);
    /// ```
    pub fn integral(&self, kind: Bound, s: f64, t: f64) -> f64 {
        match kind {
            Bound::Paper => 2.0 * (t - s) + self.int_a(s, t) + self.int_q(s, t),
            Bound::OneSided => self.int_q(s, t) - self.int_a(s, t),
            Bound::TwoSided => {
                if self.spread_branch_always() {
                    return self.int_q(s, t) - self.int_a(s, t);
                }
                // kappa > 0 here: q - a before t*, a after (t* = 0 if a-branch always).
                let m = self.switch_time().unwrap_or(0.0).clamp(s, t);
                let mut v = 0.0;
                if m > s {
                    v += self.int_q(s, m) - self.int_a(s, m);
                }
                if t > m {
                    v += self.int_a(m, t);
                }
                v
            }
        }
    }
}
