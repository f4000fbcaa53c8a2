//! Explicit bounds on the PF-ODE velocity Jacobian and the stability coordinate built
//! from them (theory/02-lipschitz.md, theory/03-stability.md).
//!
//! ```text
//! J(x, t) = A - C,   A = -I + sum_k r_k S_k^{-1},   C = Cov_r[s_k]  (PSD)
//! spec(A) in [a_lo, a_hi],   ||C|| <= c(t)  on the domain of the bound
//! two-sided   L(t)  = max(|a_hi|, |a_lo - c|)                 >= sup_x ||J||_2
//! paper       L_p(t) = 1 + max_k ||S_k^{-1}|| + c             >= L(t)
//! one-sided   mu(t) = 1 - min_k lambda_min(S_k^{-1}) + c      >= sup_x lambda_max(-J)
//! Lambda(t)   = int_{t_min}^t L(u) du                         (stability coordinate)
//! ```
//!
//! - [`lipschitz`]: `a_lo`, `a_hi`, `c(t)` and the three bounds ([`Lipschitz`], [`Bound`]).
//! - [`region`]: the ball `B_R` on which bounds for heterogeneous covariances hold.
//! - [`empirical`]: search for the suprema the bounds claim to dominate.
//! - [`ascent`]: the local maximisers of those searches (BFGS, Nelder-Mead, (1+1)-ES).
//! - [`quadrature`]: adaptive Gauss-Kronrod 7-15.
//! - [`lambda`]: `Lambda(t)` and its inverse ([`LambdaTable`]).
//! - [`isotropic`]: closed forms of the bounds and of `Lambda` for `Sigma_k = sigma0^2 I`.

pub mod ascent;
mod candidates;
pub mod empirical;
pub mod isotropic;
pub mod lambda;
pub mod lipschitz;
pub mod quadrature;
pub mod region;

pub use empirical::{EmpiricalSup, Extremum, SearchConfig, Tightness, empirical_sup};
pub use isotropic::IsotropicShared;
pub use lambda::{LambdaTable, ONE_SIDED_FLOOR};
pub use lipschitz::{Bound, Domain, Lipschitz, LipschitzBounds, Mutation};
pub use quadrature::QuadResult;
pub use region::{DEFAULT_MASS_LEVEL, Region};

use thiserror::Error;

use crate::model::ModelError;

/// What is wrong with a request for a bound, a region or a stability coordinate.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum BoundsError {
    /// A time or point rejected by the model layer.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A global bound was asked for a mixture whose covariances differ.
    #[error(
        "covariances[{k}] and covariances[{j}] differ, so Cov_r[s_k] is unbounded on R^d and no global L(t) exists: use a ball, Domain::Ball(Region::uniform(mix, level)) (the default for such mixtures)"
    )]
    GlobalHeterogeneous {
        /// First component of a pair with different covariances.
        k: usize,
        /// Second component of the pair.
        j: usize,
    },
    /// A mass level outside `(0, 1)`.
    #[error(
        "mass level {value} must be in (0, 1): give the p_t-mass allowed outside B_R, e.g. 1e-6"
    )]
    BadLevel {
        /// The level given.
        value: f64,
    },
    /// A region radius that is not a positive finite number.
    #[error("region radius {value} must be finite and > 0: give R with |x| <= R, e.g. 10")]
    BadRadius {
        /// The radius given.
        value: f64,
    },
    /// An empty or reversed time interval.
    #[error("t_min = {t_min} must be smaller than t_max = {t_max}: swap them")]
    BadInterval {
        /// Lower end.
        t_min: f64,
        /// Upper end.
        t_max: f64,
    },
    /// The stability coordinate is not finite on the interval.
    #[error(
        "the stability coordinate over [{t_min}, {t_max}] is {value}: L(t) blows up near t_min for this mixture; raise t_min"
    )]
    NonFiniteCoordinate {
        /// Lower end.
        t_min: f64,
        /// Upper end.
        t_max: f64,
        /// The integral found.
        value: f64,
    },
    /// The stability coordinate is identically zero (data law `N(0, I)` up to a shift-free
    /// mixture of identical standard components): it cannot be inverted.
    #[error(
        "L(t) is identically 0 on [{t_min}, {t_max}] (every covariance is I and all means coincide, so the flow is the identity): the balanced grid is undefined; use the uniform grid"
    )]
    FlatCoordinate {
        /// Lower end.
        t_min: f64,
        /// Upper end.
        t_max: f64,
    },
}
