//! The one tolerance module: named constants for each class of numerical check.
//!
//! Tests and checkers use these names, never bare literals, so that a reader can
//! see which class of error a comparison is allowed.

/// Exact algebra in floating point (identities that only suffer rounding).
pub const EXACT: f64 = 1e-10;
/// Relative agreement of analytic derivatives with central finite differences.
pub const FINITE_DIFF_REL: f64 = 1e-5;
/// Absolute floor for finite-difference comparisons (entries near zero).
pub const FINITE_DIFF_ABS: f64 = 1e-6;
/// Step of central finite differences, scaled by `max(1, |x|)`.
pub const FINITE_DIFF_STEP: f64 = 1e-5;
/// Default relative tolerance of the teacher ODE solver.
pub const ODE_RTOL: f64 = 1e-10;
/// Default absolute tolerance of the teacher ODE solver.
pub const ODE_ATOL: f64 = 1e-10;
/// Global error factor: an adaptive solve at (rtol, atol) is trusted to
/// `ODE_GLOBAL_FACTOR * max(rtol, atol)` relative (error amplification along the flow).
pub const ODE_GLOBAL_FACTOR: f64 = 1e3;
/// An observed convergence order `log2(e(h) / e(h/2))` of a fixed-step method, or the
/// exponent of an adaptive solver's global error in its tolerance (nominally 1), may
/// differ from its nominal value by this much (higher-order terms of the error).
pub const ODE_ORDER_SLACK: f64 = 0.3;
/// Tolerance on the weights summing to one (README.md, "Inputs").
pub const WEIGHT_SUM: f64 = 1e-9;
/// Relative asymmetry allowed in an input covariance.
pub const SYMMETRY_REL: f64 = 1e-9;
/// Smallest eigenvalue allowed for a PSD covariance, relative to its largest.
pub const PSD_REL: f64 = 1e-12;
/// A bound may sit below an empirical estimate of the quantity it bounds by at
/// most this relative slack (rounding in eigen-solvers and finite differences).
pub const BOUND_SLACK_REL: f64 = 1e-6;
/// Relative rounding allowance of an SVD's largest singular value (backward
/// error ~ n eps for the widths used here): the certified spectral norm is
/// `sigma_max (1 + SPECTRAL_NORM_REL)`, an upper bound in floating point.
pub const SPECTRAL_NORM_REL: f64 = 1e-13;
/// Lipschitz projection aims at `(1 - LIPSCHITZ_PROJECTION_MARGIN) M`, so the
/// certificate recomputed from fresh SVDs stays `<= M` despite rounding.
pub const LIPSCHITZ_PROJECTION_MARGIN: f64 = 1e-10;
/// A trained student's MSE relative to the variance of its targets, on smooth
/// test problems given enough steps (a fit, not an identity).
pub const STUDENT_FIT_REL: f64 = 1e-2;
/// Relative tolerance of the adaptive quadrature behind the stability coordinate
/// `Lambda(t)` and its inverse (relative to the integral of `|integrand|`).
pub const QUAD_RTOL: f64 = 1e-13;
/// Quadrature of `Lambda` versus its isotropic closed forms (relative).
pub const CLOSED_FORM_REL: f64 = 1e-8;
/// Equal increments of the stability coordinate along a balanced grid (relative to the
/// increment `Lambda(T) / N`).
pub const GRID_INVERSE_REL: f64 = 1e-10;
/// Relative rounding allowance when a bound of theory/02 (`L`, `L_p`, `mu`) is compared
/// with a value it must dominate (`||J||`, `lambda_max(-J)`), relative to the compared
/// magnitude: the two-sided `L` (or `L_p` for the paper-style bound), which dominates
/// `||J(x, t)||` everywhere and every term of `mu`, and tends to 0 with `J` at large `t`.
///
/// Both sides are computed in double precision with full relative accuracy (the bounds in
/// ~10 operations without cancellation, `J` from its cancellation-free form, its extreme
/// eigenvalues with backward error `~d eps ||J||`), so they agree to `~1e-15` relative;
/// `1e-12` leaves a factor ~100 for dimension and accumulation, and still exposes a bound
/// that is off by `1e-9` relative. (The slack used to be `1e-6 L_p`, with `L_p -> 2` while
/// `L -> 0`: 14 times `L` at `t = 8`, which hid bounds that were wrong by 0.15%.) The
/// high-precision reference tests hold the bounds to the same relative accuracy.
pub const BOUND_ROUNDING_REL: f64 = 1e-12;
/// A measured supremum counts as *attaining* its bound (printed "attained") only when it
/// equals the bound to this relative accuracy: the local searches stop once their steps no
/// longer change the value in the 12th digit, and an eigenvalue is accurate to `~1e-15`,
/// so an attained supremum is found to `~1e-11`; any genuine slack on the suite is above
/// `1e-3`.
pub const ATTAINED_REL: f64 = 1e-9;
/// A bound that exceeds the measured value by more than this factor is flagged
/// `vacuous`: it may be a valid proof, but it says nothing quantitative about the
/// measured behaviour (the local heterogeneous bounds reach `1e115`).
pub const VACUOUS_FACTOR: f64 = 1e6;
/// Share of the target accuracy of a constructive score network (`approx`) left to
/// floating-point rounding; the rest is a proven exact-arithmetic budget.
pub const APPROX_ROUNDING_SHARE: f64 = 0.1;
/// Rounding of an exact ReQU gadget (square, product, Chebyshev/power trees), relative to
/// the product of its input scales: checks that such a block is exact up to rounding.
pub const NET_ROUNDING_REL: f64 = 1e-13;
/// Relative tolerance for a mixture symmetry: weights, means and covariances of
/// components matched by a reflection may differ by this much (relative to max(1, scale)).
pub const MIXTURE_SYMMETRY_REL: f64 = 1e-9;
