//! The exact Gaussian-mixture model (theory/01-model.md): the data law, its noising path
//! (OU by default, or any affine Gaussian path: theory/07-gaussian-paths.md), the marginals
//! `p_t`, their score, Hessian, PF-ODE velocity and Jacobian, exact sampling.

pub mod builtin;
pub mod error;
pub mod field;
pub mod lanes;
pub mod marginal;
pub mod mixture;
pub mod process;
pub mod sampling;

pub use error::ModelError;
pub use field::{PfOde, ScoreField, VelocityField};
pub use lanes::MarginalLanes;
pub use marginal::{Marginal, PointEval};
pub use mixture::{Component, Mixture, MixtureSpec};
pub use process::{GaussianPath, OuCoeffs, PathCoeffs, Process, ProcessSpec};
