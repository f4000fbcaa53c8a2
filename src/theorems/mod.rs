//! One checker per theorem; each returns a serialisable report that the CLI, the tests
//! and the suite (`check`, `reproduce`) share. Runners are named for what they do:
//!
//! ```text
//! lipschitz.rs     compare_bounds: L(t), paper L(t), mu(t) vs empirical suprema     theory/02
//! stability.rs     measure_segments / measure_grid: max ||DPhi|| vs exp(int mu)       theory/03
//! composition.rs   measure_composition (any FlowMap students), measure_perturbed       theory/04
//! mismatch/        measure_mismatch: lower bounds vs Lipschitz-budgeted students      theory/05
//! score_approx/    measure_network / measure_scaling / measure_errors, DSM comparison theory/06
//! assess/          the same measurements on outside models (query files, baselines)
//! estimate.rs      Monte Carlo L^p norms with 95% intervals; BoundKind (rigorous / estimate)
//! path_bound.rs    the stability checker's containment bound between solver steps         theory/03
//! ```

pub mod assess;
pub mod composition;
pub mod estimate;
mod flow_search;
pub mod lipschitz;
pub mod mismatch;
mod path_bound;
pub mod score_approx;
pub mod stability;
