//! Dynamics: integrating the teacher ODEs (probability-flow ODE, variational equation).
//!
//! [`solver`] holds the adaptive Runge-Kutta integrators every flow map is built on;
//! [`flow`] builds the PF-ODE flow maps and their derivatives on it.

mod dop853;
pub mod flow;
mod segment;
pub mod solver;
mod teacher;

pub use flow::{ExactFlow, FlowError, FlowPoint, FlowSystem, flow_point};
pub use segment::FlowSegment;
pub use solver::{
    DEFAULT_MAX_STEPS, Method, OdeSystem, SolverError, SolverOptions, SolverStats,
    ValidSolverOptions, integrate, integrate_rk4_fixed,
};
pub use teacher::{Teacher, TeacherSpec};
