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
/// The two-sided bound must match the empirical supremum this closely (relative) where it
/// is provably attained (K = 2, isotropic shared covariance).
pub const TIGHT_BOUND_REL: f64 = 1e-2;
/// Share of the target accuracy of a constructive score network (`approx`) left to
/// floating-point rounding; the rest is a proven exact-arithmetic budget.
pub const APPROX_ROUNDING_SHARE: f64 = 0.1;
/// Rounding of an exact ReQU gadget (square, product, Chebyshev/power trees), relative to
/// the product of its input scales: checks that such a block is exact up to rounding.
pub const NET_ROUNDING_REL: f64 = 1e-13;
/// Relative tolerance for a mixture symmetry: weights, means and covariances of
/// components matched by a reflection may differ by this much (relative to max(1, scale)).
pub const MIXTURE_SYMMETRY_REL: f64 = 1e-9;
