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
/// Tolerance on the weights summing to one (cli-contract).
pub const WEIGHT_SUM: f64 = 1e-9;
/// Relative asymmetry allowed in an input covariance.
pub const SYMMETRY_REL: f64 = 1e-9;
/// Smallest eigenvalue allowed for a PSD covariance, relative to its largest.
pub const PSD_REL: f64 = 1e-12;
/// A bound may sit below an empirical estimate of the quantity it bounds by at
/// most this relative slack (rounding in eigen-solvers and finite differences).
pub const BOUND_SLACK_REL: f64 = 1e-6;
/// Share of the target accuracy of a constructive score network (`approx`) left to
/// floating-point rounding; the rest is a proven exact-arithmetic budget.
pub const APPROX_ROUNDING_SHARE: f64 = 0.1;
/// Rounding of an exact ReQU gadget (square, product, Chebyshev/power trees), relative to
/// the product of its input scales: checks that such a block is exact up to rounding.
pub const NET_ROUNDING_REL: f64 = 1e-13;
