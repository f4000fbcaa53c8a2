//! Experiment sweeps: cells, seeds, a resumable store and shards.
//!
//! - [`distill`]: the trajectory-distillation experiment (a plan, its cells, one cell's
//!   students and metrics, the resumable sharded sweep);
//! - [`budget`], [`budget_summary`]: the same cells at several student budgets, and how
//!   the grid ranking moves with the budget;
//! - [`segments`]: segment students and evaluation sets shared by the cells of one
//!   (mixture, seed);
//! - [`distill_summary`], [`stats`]: aggregation over seeds and paired reductions;
//! - [`store`]: finished cells as files (resume, shards, merge);
//! - [`sweep`]: running cells in parallel, and the [`sweep::Progress`] callbacks of long jobs.

pub mod budget;
pub mod budget_summary;
pub mod distill;
pub mod distill_summary;
pub mod oracle;
pub mod segments;
pub mod stats;
pub mod store;
pub mod sweep;

pub use store::{CellKey, CellStore, Shard, StoreError};
