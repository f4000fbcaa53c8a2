//! The exact Gaussian-mixture OU model (theory/01-model.md): the data law, the OU
//! marginals `p_t`, their score, Hessian, PF-ODE velocity and Jacobian, exact sampling.

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
pub use process::OuCoeffs;
