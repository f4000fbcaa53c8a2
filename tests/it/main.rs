//! flowcert's integration tests, one crate (one link of the library instead of one per
//! file): property tests per theorem, snapshot tests of the pinned tables, and tests that
//! drive the `flowcert` binary. Each module is one former test file; `common` holds the
//! shared strategies, the binary-driving helpers and the snapshot settings.
//!
//! Run one module with `cargo test --test it MODULE::`, e.g. `cargo test --test it stability::`.
//! Proptest regressions live in `tests/proptest-regressions/MODULE.txt`.

mod common;

mod assess;
mod bounds;
mod bounds_accuracy;
mod budget;
mod check_process;
mod cli;
mod cli_bounds;
mod cli_experiments;
mod cli_hostile;
mod cli_outputs;
mod cli_score_net;
mod clock;
mod composition;
mod corpus;
mod distill;
mod flow;
mod fuzz;
mod grids;
mod hostile;
mod isotropic_paths;
mod lanes;
mod mismatch;
mod model;
mod nn;
mod nn_engine;
mod nn_init;
mod oracle;
mod process;
mod reference;
mod report;
mod score_approx;
mod score_path;
mod searches;
mod snapshot_distill;
mod snapshot_lipschitz;
mod snapshot_mismatch;
mod snapshot_model;
mod snapshot_score_net;
mod solver;
mod stability;
mod stability_search;
mod suite;
mod verdict;
