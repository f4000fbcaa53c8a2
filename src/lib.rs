//! flowcert: numeric checkers for the theory of flow-map distillation in the
//! Gaussian-mixture Ornstein-Uhlenbeck model (see `theory/` and README.md).
//!
//! Data flows one way: `model` -> `dynamics` -> `bounds`/`grids`/`nn` ->
//! `theorems` -> `experiments` -> `report` (the CLI lives in the binary, `src/cli/`).

pub mod approx;
pub mod bounds;
pub mod digits;
pub mod dynamics;
pub mod experiments;
pub mod flowmap;
pub mod grids;
pub mod io;
pub mod model;
pub mod nn;
pub mod report;
pub mod seed;
pub mod suite;
pub mod theorems;
pub mod tolerance;
