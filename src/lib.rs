#![deny(missing_docs)]
//! flowcert: numeric checkers for the theory of diffusion flow-map distillation in the
//! Gaussian-mixture Ornstein-Uhlenbeck model. In this model the score, its Hessian, the
//! probability-flow ODE and its flow maps are exact, so every claim of the theory becomes a
//! computation that could fail. The statements, proofs and measured numbers are in
//! `theory/` (01 model, 02 L(t), 03 stability, 04 composition and grids, 05 mismatch,
//! 06 score approximation); the command line is described in README.md ("Commands").
//!
//! # Layers
//!
//! Data flows one way; nothing below reaches up (checked: no module imports a module
//! above it).
//!
//! ```text
//! flowmap, seed, tolerance, digits   the FlowMap capability, seed streams, tolerances, number formatting
//! limits                             size, magnitude and work limits; bounded reading of input files
//! model                              mixtures, the OU process, p_t (score, Hessian, velocity), sampling, built-ins
//! dynamics                           Runge-Kutta solvers, exact flow maps + variational equation, Teacher presets
//! bounds, nn, approx                 L(t)/mu(t) and Lambda; MLP students; the ReLU-ReQU score construction
//! grids                              time grids (TimeGrid) and their Lambda labels
//! theorems                           one checker per theorem, and assessments of outside models
//! experiments                        the distillation sweep: cells, resumable store, shards, statistics
//! suite                              plans per scale, the check registry, the reproduce pipeline
//! report                             tables and SVG plots of what the layers above measured
//! io                                 input files, atomic output files
//! ```
//!
//! # What to use for what
//!
//! | you want | use |
//! |---|---|
//! | a mixture (JSON, built-in, or in code) | [`io::load_mixture`], [`model::builtin::Builtin`], [`model::MixtureSpec::check`] |
//! | `log p_t`, score, Hessian, velocity at points | [`model::Marginal`] |
//! | exact samples of `p_t` | [`model::Mixture::sample`] |
//! | the exact flow map `Phi_{t->s}` and `DPhi` | [`dynamics::Teacher::flow`], [`dynamics::ExactFlow::segment`] ([`flowmap::FlowMap`]) |
//! | your own map (student, closure) next to the exact one | [`flowmap::FlowMap`], [`flowmap::FnMap`], [`flowmap::Compose`] |
//! | `L(t)`, `mu(t)`, paper `L(t)` and their integrals `Lambda` | [`bounds::Lipschitz`], [`bounds::LambdaTable`], [`grids::lambda_at`] |
//! | a time grid (built-in kinds or your own) | [`grids::GridKind`], [`grids::TimeGrid`] |
//! | check L(t) against empirical suprema | [`theorems::lipschitz::compare_bounds`] |
//! | check flow-map amplification on a grid | [`theorems::stability::measure_grid`] |
//! | check the composition bound for your students | [`theorems::composition::measure_composition`] |
//! | lower bounds for Lipschitz-budgeted one-step students | [`theorems::mismatch::measure_mismatch`] |
//! | measure a score field's `L^p(p_t)` error | [`theorems::score_approx::measure_errors`] ([`model::ScoreField`]) |
//! | the explicit ReLU-ReQU score network | [`approx::ScoreNetwork`] |
//! | train students on teacher pairs | [`nn::StudentBudget`], [`nn::train()`] |
//! | regression-check an outside model via query files | [`theorems::assess`] |
//! | the distillation experiment (resumable, sharded) | [`experiments::distill::DistillPlan`] |
//! | what `flowcert check` / `reproduce` run | [`suite::Plan`], [`suite::run_checks`], [`suite::reproduce::run`] |
//! | tables and plots of the results | [`report`] |
//!
//! The examples (`examples/`, listed in README.md) show three of these end to end: an
//! exact flow with its Jacobian, a user-defined grid checked against the composition
//! bound, a user's score function assessed in process.
//!
//! ```
//! use flowcert::prelude::*;
//! let mix = Builtin::TwoModeS01.mixture();
//! let phi = Teacher::PRECISE.flow(&mix).segment(2.0, 0.01);
//! let y = phi.map_point(&[0.1, 0.0]).unwrap();
//! assert!(y[0] > 1.0); // lands in the right mode
//! ```

pub mod approx;
pub mod bounds;
pub mod digits;
pub mod dynamics;
pub mod experiments;
pub mod flowmap;
pub mod grids;
pub mod io;
pub mod limits;
pub mod model;
pub mod nn;
pub mod report;
pub mod seed;
pub mod suite;
pub mod theorems;
pub mod tolerance;

/// The types most programs start from: `use flowcert::prelude::*;`.
pub mod prelude {
    pub use crate::bounds::{Bound, LambdaTable, Lipschitz};
    pub use crate::dynamics::{ExactFlow, FlowSegment, Method, Teacher};
    pub use crate::flowmap::{Compose, FlowMap, FnMap, MapError};
    pub use crate::grids::{GridKind, TimeGrid, lambda_at};
    pub use crate::io::{load_mixture, load_points};
    pub use crate::model::builtin::Builtin;
    pub use crate::model::{Marginal, Mixture, MixtureSpec, OuCoeffs, ScoreField};
    pub use crate::nn::{Mlp, StudentBudget};
    pub use crate::suite::{Case, Plan, Scale};
}
