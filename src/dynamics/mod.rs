//! Dynamics: integrating the teacher ODEs (probability-flow ODE, variational equation).
//!
//! [`solver`] holds the adaptive Runge-Kutta integrators every flow map is built on.

mod dop853;
pub mod solver;

pub use solver::{
    Method, OdeSystem, SolverError, SolverOptions, SolverStats, ValidSolverOptions, integrate,
    integrate_rk4_fixed,
};
