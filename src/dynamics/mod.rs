//! Dynamics: integrating the teacher ODEs (probability-flow ODE, variational equation).
//!
//! [`solver`] holds the adaptive Runge-Kutta integrators every flow map is built on
//! (tableaux in `pairs.rs`, the step itself in `stepper.rs`); [`lanes`] runs many
//! trajectories of one system side by side; [`flow`] builds the PF-ODE flow maps and
//! their derivatives on them.

mod clock;
mod dop853;
pub mod flow;
pub mod lanes;
mod pairs;
mod segment;
pub mod solver;
mod stepper;
mod teacher;

pub use clock::{Clock, LogSnrLanes};
pub use flow::{ExactFlow, FlowError, FlowPoint, FlowSystem, flow_point, flow_point_observed};
pub use lanes::{Independent, OdeLanes, integrate_lanes};
pub use segment::FlowSegment;
pub use solver::{
    DEFAULT_MAX_STEPS, Method, OdeSystem, SolverError, SolverOptions, SolverStats,
    ValidSolverOptions, integrate, integrate_observed, integrate_rk4_fixed,
};
pub use teacher::{Teacher, TeacherSpec};
