//! flowcert: numeric checkers for the theory of flow-map distillation in the
//! Gaussian-mixture Ornstein-Uhlenbeck model (see `theory/` and README.md).
//!
//! Data flows one way: `model` -> `dynamics` -> `bounds`/`grids`/`nn` ->
//! `theorems` -> `experiments` -> `report` -> `cli`.

pub mod approx;
pub mod model;
pub mod tolerance;
